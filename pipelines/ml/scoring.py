"""Daily scores, per family: ``ml/<entity>_scores``.

The champion (or the rule, on cold start) scores the open population as of the data's
today. Without a champion, when training found no reliable signal (the promotion floor,
:mod:`models.common.floor`) or the rule has none of its inputs in this source, every row
gets the base rate on the ``no_reliable_signal`` path, rather than a constant that
pretends to rank. The scores read the `champion` alias when they run; they are deliberately not
downstream of training in the graph, so that a challenger the check blocks (a normal
weekly outcome) never stops the daily scores.
"""

# No `from __future__ import annotations`: Dagster inspects the context annotation at runtime.
import time
from datetime import datetime, timedelta

import duckdb
import polars as pl
from dagster import AssetExecutionContext, AssetsDefinition, MaterializeResult, MetadataValue, asset

from crmlens.clock import data_today
from crmlens.warehouse import (
    fetch_one,
    quote_ident,
    replace_table,
    session,
    table_columns,
    table_exists,
)
from models.common import floor, registry
from models.common.routing import route
from models.common.scoring import score
from models.families import FamilySpec
from pipelines.ml.keys import reference_table, scores_key, scoring_features_table
from pipelines.ml.training import staging_deps
from pipelines.resources import CrmlensResource

RULES_VERSION = "rules-v1"
BASE_RATE_VERSION = "base-rate-v1"


def no_signal_rate(
    con: duckdb.DuckDBPyConnection, spec: FamilySpec, frame: pl.DataFrame
) -> tuple[float | None, str]:
    """The base rate to publish when the family has no champion and no reliable signal.

    Args:
        con: a connection to the warehouse.
        spec: the model family.
        frame: today's feature rows.

    Returns:
        The base rate (None: score with the rule) and one line saying why.
    """
    verdict = floor.latest(con, spec.name)
    known = verdict is not None and verdict.base_rate == verdict.base_rate  # not NaN
    if known and verdict.no_signal:
        return verdict.base_rate, verdict.reason
    if frame.is_empty() or floor.has_rule_baseline(spec.family, frame):
        return None, "cold start: the rule-based score"
    why = f"{floor.NO_SIGNAL}: {floor.NO_RULE} (the source has none of the rule's fields)"
    if known:
        return verdict.base_rate, why
    if table_exists(con, "features", spec.training_table):
        rate = fetch_one(con, f"select avg(label::double) from features.{spec.training_table}")
        if rate and rate[0] is not None:
            return float(rate[0]), why
    return None, f"{floor.NO_RULE}, and no labels yet for a base rate: the rule's constant"


def trend_history(
    con: duckdb.DuckDBPyConnection, spec: FamilySpec, today: datetime, days: int
) -> pl.DataFrame | None:
    """Each entity's latest published score at least ``days`` before ``today`` (from
    ``publish.<table>_history``), the baseline of its score trend; None before any.

    Args:
        con: a connection to the warehouse.
        spec: the model family.
        today: the data's today.
        days: how far back.

    Returns:
        One row per entity: id, as_of, score, scoring_path.
    """
    history = f"{spec.scores_table}_history"
    if not table_exists(con, "publish", history):
        return None
    key = quote_ident(spec.family.id_column)
    risk = (
        ", arg_max(risk_score, as_of) as risk_score"
        if "risk_score" in table_columns(con, "publish", history)
        else ""
    )
    return con.sql(
        f"select {key}, max(as_of) as as_of, arg_max(score, as_of) as score, "
        f"arg_max(scoring_path, as_of) as scoring_path{risk} from publish.{history} "
        f"where as_of <= ? group by {key}",
        params=[today - timedelta(days=days)],
    ).pl()


def rule_reference(con: duckdb.DuckDBPyConnection, spec: FamilySpec) -> pl.DataFrame | None:
    """The rule's first scored population (its drift reference), which its grades and
    reasons are judged against; None before the rule has scored or after a model did."""
    name = reference_table(spec)
    if not table_exists(con, "features", name):
        return None
    kept = fetch_one(con, f"select any_value(model_version) from features.{name}")[0]
    if kept != RULES_VERSION:
        return None
    return con.sql(f"select * from features.{name}").pl()


def keep_reference(
    con: duckdb.DuckDBPyConnection,
    spec: FamilySpec,
    frame: pl.DataFrame,
    scores: pl.DataFrame,
    version: str,
    run_id: str,
) -> bool:
    """Keep today's features and probabilities as the drift reference when the model changed.

    The reference is the model's population on its first day in production, not its
    training set: training snapshots sample each lead at fixed ages, while the open
    population piles up old, quiet leads — on the demo CRM the two differ by a score PSI
    of 0.80 with no drift at all.

    Args:
        con: a read-write connection to the warehouse.
        spec: the model family.
        frame: today's feature rows.
        scores: today's scores, row for row.
        version: the scoring model's version (or the rules').
        run_id: the Dagster run.

    Returns:
        Whether the reference was (re)set.
    """
    name = reference_table(spec)
    if table_exists(con, "features", name):
        kept = fetch_one(con, f"select any_value(model_version) from features.{name}")[0]
        if kept == version:
            return False
    reference = frame.with_columns(
        probability=scores["probability"],
        model_version=pl.lit(version),
        reference_run_id=pl.lit(run_id),
    )
    replace_table(con, "features", name, reference, f"drift reference of {version}")
    return True


def scores_asset(spec: FamilySpec) -> AssetsDefinition:
    """``ml/<entity>_scores``: every open entity scored as of the data's today."""
    family = spec.family

    @asset(
        key=scores_key(spec),
        group_name="ml",
        # Not downstream of the champion asset on purpose: a promotion the check blocks
        # must not stop scoring with the current champion (the alias is read at run time).
        deps=staging_deps(spec),
        kinds={"duckdb"},
        description=f"Scores of every open {family.entity} as of the data's today, in the score "
        f"contract: score 0-100, probability, grade, reasons, next action, model and path.",
    )
    def scores(context: AssetExecutionContext, crmlens: CrmlensResource) -> MaterializeResult:
        started = time.perf_counter()
        settings = crmlens.settings()
        champion_model = registry.load(settings, family, registry.CHAMPION)
        model, version = champion_model if champion_model else (None, None)
        with session(settings.warehouse_path) as con:
            today = data_today(con, settings.as_of)
            population = spec.features.scoring_population(con, today)
            features = spec.features.build(con, population)
            rate, why = (
                (None, "model") if model is not None else no_signal_rate(con, spec, features.frame)
            )
            table = score(
                family,
                features,
                model,
                model_version=version,
                run_id=context.run_id,
                scored_at=today,
                valid_for=timedelta(days=1),
                no_signal_rate=rate,
                rule_reference=rule_reference(con, spec) if model is None else None,
            )
            table = route(
                table,
                trend_history(con, spec, today, settings.trend_days),
                qualifies=family.qualifies,
                score_is_risk=family.score_is_risk,
                id_column=family.id_column,
                today=today,
                thresholds=(settings.mql_points, settings.qualified_points),
                trend=(settings.trend_days, settings.trend_points),
            )
            version = version or (BASE_RATE_VERSION if rate is not None else RULES_VERSION)
            replace_table(con, "ml", spec.scores_table, table)
            replace_table(con, "features", scoring_features_table(spec), features.frame)
            new_reference = keep_reference(
                con, spec, features.frame, table, version, context.run_id
            )
        grades = table.group_by("grade").len().sort("grade")
        return MaterializeResult(
            metadata={
                "rows": table.height,
                "path": table["scoring_path"][0] if table.height else "none",
                "path_reason": why,
                "model_version": version,
                "as_of": str(today),
                "mean_score": float(table["score"].mean()) if table.height else 0.0,
                "grades": MetadataValue.json(
                    dict(zip(grades["grade"], grades["len"], strict=True))
                ),
                "confidence": MetadataValue.json(
                    {str(k): n for k, n in table.group_by("confidence").len().iter_rows()}
                ),
                "drift_reference": "set today" if new_reference else "kept",
                "seconds": round(time.perf_counter() - started, 2),
            }
        )

    return scores
