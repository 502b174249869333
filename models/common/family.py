"""What makes a model family: its entity, label horizon, gate, baseline, reasons, actions.

A :class:`Family` is data plus a few functions; the shared training, scoring and
explanation code takes one and never branches on the family's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import polars as pl


@dataclass(frozen=True)
class GateResult:
    passed: bool
    entities: int
    positive_entities: int
    negative_entities: int
    reason: str


@dataclass(frozen=True)
class GateContext:
    """What a training set was cut from, so a gate that closes can say why and what to set.

    Attributes:
        family: the family (``lead_scoring``), as the spec's ``labels`` names it.
        entity: what one row is about (``lead``).
        population: how many of them the source has (settled or not).
        horizon_days: the label horizon the set was built with.
        mode: ``snapshots`` or ``one_outcome_per_row``.
        data_end: the data's today the set was cut at.
    """

    family: str
    entity: str
    population: int
    horizon_days: int
    mode: str
    data_end: datetime

    @property
    def entities(self) -> str:
        """The entity's plural, as a sentence says it (leads, opportunities, accounts)."""
        return self.entity[:-1] + "ies" if self.entity.endswith("y") else self.entity + "s"

    def why(self, settled: int) -> str:
        """Why only ``settled`` of the population have a label, and what the spec can change."""
        end = f"{self.data_end:%Y-%m-%d}"
        if self.mode == "one_outcome_per_row":
            need = f"a row trains once its outcome is settled, and the data ends {end}"
        else:
            need = f"labels need {self.horizon_days} days after a snapshot and the data ends {end}"
        return (
            f"{settled:,} of {self.population:,} {self.entities} have a settled label: {need}; "
            f"set labels.{self.family}.horizon_days, mode, or as_of"
        )


def positive_rows_for_auc(
    half_width: float = 0.1, auc: float = 0.75, test_share: float = 0.2
) -> int:
    """How many positive rows a training set needs for its test to measure ROC AUC to
    ±``half_width`` (95 %) at ``auc``: Hanley & McNeil's variance with many negatives,
    ``(Q2 − A²) / n_pos`` with ``Q2 = 2A² / (1 + A)``, over the newest ``test_share``.

    At the defaults the test needs 31 positives: 155 in the whole set.
    """
    q2 = 2 * auc**2 / (1 + auc)
    in_test = (1.96 / half_width) ** 2 * (q2 - auc**2)
    return int(np.ceil(np.ceil(in_test) / test_share))


@dataclass(frozen=True)
class Gate:
    """The minimum history to train on (Salesforce asks 1,000 leads with 120 conversions,
    200 won and 200 lost deals). Counted in distinct entities, not snapshots; a gate may
    also ask a number of positive rows (:func:`positive_rows_for_auc`: the evidence a test
    needs for a stable AUC interval)."""

    min_entities: int
    min_positive_entities: int
    min_negative_entities: int
    min_positive_rows: int = 0

    def check(
        self, ids: np.ndarray, labels: np.ndarray, context: GateContext | None = None
    ) -> GateResult:
        """Whether the training set holds enough history, and a sentence that says so.

        Args:
            ids: each row's entity.
            labels: each row's label.
            context: what the set was cut from: when the gate closes while entities of
                the source still wait for their label, the reason says why and what the
                spec can set.

        Returns:
            The verdict, the counts and the reason.
        """
        frame = pl.DataFrame({"id": ids, "y": labels})
        per_entity = frame.group_by("id").agg(pl.col("y").max())
        entities = per_entity.height
        positives = int(per_entity["y"].sum())
        negatives = entities - positives
        short = []
        if entities < self.min_entities:
            short.append(f"{entities} entities < {self.min_entities}")
        if positives < self.min_positive_entities:
            short.append(f"{positives} positive < {self.min_positive_entities}")
        if negatives < self.min_negative_entities:
            short.append(f"{negatives} negative < {self.min_negative_entities}")
        positive_rows = int(np.asarray(labels).sum())
        if positive_rows < self.min_positive_rows:
            short.append(f"{positive_rows} positive snapshots < {self.min_positive_rows}")
        reason = "enough history" if not short else "not enough history: " + ", ".join(short)
        if short and context is not None:
            reason += f" — {self._explain(context, entities)}"
        return GateResult(not short, entities, positives, negatives, reason)

    def _explain(self, context: GateContext, settled: int) -> str:
        """Why the gate closed: too few entities at all, or too few with a settled label."""
        if context.population == 0:
            return f"the source has no {context.entities}"
        if context.population < self.min_entities or context.population == settled:
            has = f"the source has {context.population:,} {context.entities}"
            return has if context.population == settled else f"{has} ({settled:,} settled)"
        return context.why(settled)


@dataclass(frozen=True)
class Reason:
    """One sentence for a group of features (``pricing_view_7d``, ``_30d``… → "pricing_view").

    ``text`` is a polars expression over the feature columns that yields the
    sentence for every row at once (null to say nothing): reasons are written for
    a million rows without a Python loop per row.
    """

    group: str
    features: tuple[str, ...]
    text: pl.Expr


@dataclass(frozen=True)
class Family:
    name: str  # e.g. "lead_scoring"
    entity: str  # e.g. "lead"
    id_column: str  # e.g. "lead_id"
    registered_model: str  # MLflow registry name
    horizon_days: int
    positive_label: str  # e.g. "converted within 90 days"
    gate: Gate
    # Whether an entity's snapshots share one outcome (a lead converts once, a deal is won
    # or lost once): then no entity both trains and validates. Not so for churn, where each
    # monthly snapshot of an account has its own label.
    one_outcome_per_entity: bool
    # The rule-based score CRMs ship today, in parts keyed by reason group (the points each
    # part adds): the score is their sum (rule_points), and the cold-start path explains it
    # with them.
    rule_parts: Callable[[pl.DataFrame], dict[str, np.ndarray]]
    reasons: tuple[Reason, ...] = ()
    # Features that never become reasons (plumbing such as the snapshot age).
    silent_features: tuple[str, ...] = ()
    # (feature frame + score, probability, grade columns) -> expression of the next best action.
    next_action: Callable[[], pl.Expr] | None = None
    # Further output columns of the score table (e.g. deal risk flags), as expressions
    # over the feature frame plus score/probability.
    extra_outputs: Callable[[], dict[str, pl.Expr]] | None = None
    extra: dict = field(default_factory=dict)
    # Whether the score table carries a lead qualification (MQL / SQL, models.common.routing).
    qualifies: bool = False
    # Component scores beside the combined one (models.common.components): component ->
    # the reason groups it sums, and the rule's maximum points of those groups.
    components: dict[str, tuple[str, ...]] = field(default_factory=dict)
    component_points: dict[str, float] = field(default_factory=dict)
    # Whether a higher score is worse (a churn risk): its trend improves as it falls.
    score_is_risk: bool = False

    def rule_points(self, frame: pl.DataFrame) -> np.ndarray:
        """The rule-based score CRMs ship today.

        Args:
            frame: one row of features per entity.

        Returns:
            0-100 points per row: the sum of the rule's parts, clipped.
        """
        return np.clip(sum(self.rule_parts(frame).values()), 0, 100)


def numeric(frame: pl.DataFrame, column: str, default: float | None = 0.0) -> pl.Expr:
    """A feature as floats for a rule's arithmetic; a source may lack the column.

    Args:
        frame: the feature frame.
        column: the feature.
        default: the value where the feature is null or the frame lacks it; None keeps
            nulls (an unknown value earns no points).

    Returns:
        The expression.
    """
    if column not in frame.columns:
        return pl.lit(default, dtype=pl.Float64)
    value = pl.col(column).cast(pl.Float64)
    return value if default is None else value.fill_null(default)


def lift_grade(probability: pl.Expr, base_rate: float) -> tuple[pl.Expr, pl.Expr]:
    """Grade by how many times more likely than the average entity: A ≥ 2.5×, B ≥ 1.25×,
    C ≥ 0.6×, else D; band hot (A), warm (B), cold (C, D)."""
    lift = probability / base_rate if base_rate > 0 else probability * 0
    grade = (
        pl.when(lift >= 2.5)
        .then(pl.lit("A"))
        .when(lift >= 1.25)
        .then(pl.lit("B"))
        .when(lift >= 0.6)
        .then(pl.lit("C"))
        .otherwise(pl.lit("D"))
    )
    band = pl.when(lift >= 2.5).then(pl.lit("hot")).when(lift >= 1.25).then(pl.lit("warm"))
    return grade, band.otherwise(pl.lit("cold"))
