"""Score a population with the champion (or the rule, on the cold-start path).

The output is the score contract of DESIGN.md: per entity a score 0-100, the
probability, a grade and band, reasons (JSON) and a next action, a confidence and its
interval (:mod:`models.common.routing`), the model name
and version (or ``rule_based``), scored_at, valid_until and the run id. Every
row says which path produced it: ``model``, ``rule_based`` (cold start) or
``no_reliable_signal`` (the data showed no signal a model or the rule could rank by:
every row gets the base rate, its one reason says so, and no next action pretends
otherwise; see :mod:`models.common.floor`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from features.common import FeatureSet
from models.common import components
from models.common.explain import MIN_IMPACT, feature_groups, reasons_from_contributions
from models.common.family import Family, lift_grade
from models.common.floor import NO_SIGNAL_PATH, no_signal_sentence
from models.common.model import ScoringModel
from models.common.routing import confidence

MODEL_PATH = "model"
CHUNK_ROWS = 100_000
RULE_PATH = "rule_based"


def score(
    family: Family,
    features: FeatureSet,
    model: ScoringModel | None,
    *,
    model_version: str | None,
    run_id: str,
    scored_at: datetime,
    valid_for: timedelta = timedelta(days=1),
    top_reasons: int = 3,
    no_signal_rate: float | None = None,
    rule_reference: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One score-contract row per feature row.

    Args:
        family: The family (its rule, reasons, bands and extra outputs).
        features: The rows to score.
        model: The champion, or None for the rule-based path (cold start).
        model_version: The champion's registered version (None on the rule path).
        run_id: Stamped on every row.
        scored_at: When the rows were scored.
        valid_for: How long a score stays valid after ``scored_at``.
        top_reasons: Reasons per direction (up, down) kept for each row.
        no_signal_rate: Without a model, publish this base rate for every row on the
            ``no_reliable_signal`` path instead of the rule's points.
        rule_reference: On the rule path, the population the rule's grades and reasons
            are judged against (its average row): the rule's first scored population,
            so that one entity's change moves no other entity's grade or reasons. None:
            today's rows.

    Returns:
        The score table: id, score, probability, band, reasons (JSON), path, validity, run.
    """
    frame = features.frame
    if frame.is_empty():
        return empty_scores(family)
    probability, reasons, base_rate, parts, (path, name, version) = _by_path(
        family, frame, model, model_version, top_reasons, no_signal_rate, rule_reference
    )
    scored = frame.with_columns(
        probability=pl.Series(probability, dtype=pl.Float64),
        score=pl.Series(np.rint(probability * 100), dtype=pl.Int64),
    )
    grade, band = lift_grade(pl.col("probability"), base_rate)
    scored = scored.with_columns(grade=grade, band=band)
    # Actions and extra outputs may read the score, the grade and the band.
    outputs = {}
    if family.next_action is not None and path != NO_SIGNAL_PATH:
        outputs["next_action"] = family.next_action()
    if family.extra_outputs is not None:
        outputs |= family.extra_outputs()
    scored = scored.with_columns(**outputs)
    if "next_action" not in scored.columns or path == NO_SIGNAL_PATH:
        # no signal: a next action read off the score would pretend to rank
        scored = scored.with_columns(next_action=pl.lit(None, dtype=pl.String))
    extra = [c for c in (family.extra_outputs() if family.extra_outputs else {})]
    level, interval = confidence(probability, path, getattr(model, "evidence", None))
    return scored.select(
        pl.col(family.id_column),
        "score",
        *components.as_columns(family, parts, frame.height),
        "probability",
        "grade",
        "band",
        pl.Series("reasons", reasons, dtype=pl.String),
        "next_action",
        *extra,
        level,
        interval,
        model_name=pl.lit(name),
        model_version=pl.lit(version),
        scoring_path=pl.lit(path),
        as_of=pl.col("as_of"),
        scored_at=pl.lit(scored_at),
        valid_until=pl.lit(scored_at + valid_for),
        run_id=pl.lit(run_id),
    )


def _by_path(
    family: Family,
    frame: pl.DataFrame,
    model: ScoringModel | None,
    model_version: str | None,
    top_reasons: int,
    no_signal_rate: float | None,
    rule_reference: pl.DataFrame | None = None,
) -> tuple[np.ndarray, list[str], float, dict[str, np.ndarray] | None, tuple[str, str, str | None]]:
    """Probabilities, reasons, the grades' base rate and the component scores (None on the
    no-signal path) of the path that scores: the model, the base rate (no signal) or the
    rule; and the path, model name and version."""
    if model is not None:
        # In chunks: per-row contributions are rows x features floats, and a million rows
        # at once would hold gigabytes for no gain.
        probability, reasons = np.empty(frame.height), []
        groups, assign = feature_groups(family, model.layout.columns)
        parts = {c: np.empty(frame.height) for c in components.component_columns(family)}
        for start in range(0, frame.height, CHUNK_ROWS):
            part = frame.slice(start, CHUNK_ROWS)
            probability[start : start + part.height] = model.predict_proba(part)
            contributions = model.contributions(part)[:, :-1]
            reasons += reasons_from_contributions(
                family, part, model.layout.columns, contributions, top_reasons, MIN_IMPACT
            )
            grouped = components.from_contributions(family, groups, contributions @ assign)
            for column, values in grouped.items():
                parts[column][start : start + part.height] = values
        registered = family.registered_model
        named = (MODEL_PATH, registered, model_version)
        return probability, reasons, model.base_rate, parts, named
    if no_signal_rate is not None:
        probability, reasons = _base_rate(family, frame.height, no_signal_rate)
        named = (NO_SIGNAL_PATH, f"{family.name}_base_rate", "base-rate-v1")
        return probability, reasons, float(no_signal_rate), None, named
    rule_parts = family.rule_parts(frame)
    points = np.clip(sum(rule_parts.values()), 0, 100)
    probability = np.clip(points / 100.0, 0.0, 1.0)
    reference = rule_parts
    if rule_reference is not None and rule_reference.height:
        reference = family.rule_parts(rule_reference)
    reference_probability = np.clip(sum(reference.values()), 0, 100) / 100.0
    reasons = _rule_reasons(family, frame, rule_parts, reference, top_reasons)
    base_rate = float(reference_probability.mean()) if len(reference_probability) else 0.0
    parts = components.from_rule_parts(family, rule_parts, frame.height)
    named = (RULE_PATH, f"{family.name}_rule_based", "rules-v1")
    return probability, reasons, base_rate, parts, named


def _base_rate(family: Family, rows: int, rate: float) -> tuple[np.ndarray, list[str]]:
    """The no-signal path: the base rate for every row, and one reason that says so."""
    reason = {"group": NO_SIGNAL_PATH, "direction": "none", "impact": 0.0}
    text = no_signal_sentence(family, rate)
    reason["text"] = text[0].upper() + text[1:]
    return np.full(rows, float(rate)), [json.dumps([reason])] * rows


def _rule_reasons(
    family: Family,
    frame: pl.DataFrame,
    parts: dict[str, np.ndarray],
    reference: dict[str, np.ndarray],
    top: int,
) -> list[str]:
    """Reasons of a rule-based score: the parts that added most and least against their
    mean over the reference population."""
    groups = list(parts)
    points = np.column_stack([parts[g] for g in groups]).astype(float)
    means = np.array([reference[g].mean() if len(reference[g]) else 0.0 for g in groups])
    centred = points - means[np.newaxis, :]
    return reasons_from_contributions(family, frame, groups, centred, top, min_impact=0.5)


def empty_scores(family: Family) -> pl.DataFrame:
    """A score table with no rows, in the family's score schema."""
    extra = list(family.extra_outputs()) if family.extra_outputs else []
    schema = {
        family.id_column: pl.String,
        "score": pl.Int64,
        **dict.fromkeys(components.component_columns(family), pl.Int64),
        "probability": pl.Float64,
        "grade": pl.String,
        "band": pl.String,
        "reasons": pl.String,
        "next_action": pl.String,
        **{c: family.extra.get("output_types", {}).get(c, pl.String) for c in extra},
        "confidence": pl.String,
        "confidence_interval": pl.Float64,
        "model_name": pl.String,
        "model_version": pl.String,
        "scoring_path": pl.String,
        "as_of": pl.Datetime("us"),
        "scored_at": pl.Datetime("us"),
        "valid_until": pl.Datetime("us"),
        "run_id": pl.String,
    }
    return pl.DataFrame(schema=schema)
