"""What CRMs route on, beside the score: confidence, qualification and trend.

- **Confidence** (model path): the calibrated probability ``p`` of a row is the observed
  rate among the calibration rows (out-of-sample scores of the fitted rows) that the
  calibrator put near ``p``. How many there were is the evidence behind this row's
  probability. :func:`calibration_evidence` counts them (weighted: each entity once) in
  :data:`EVIDENCE_BINS` equal-width bins of the calibrated probability, kept on the model;
  :func:`wilson_half_width` is the half-width of the 95 % Wilson interval of ``p`` with
  that many rows, in score points; :func:`confidence_level` reads it as high (at most
  :data:`HIGH_POINTS`), medium (at most :data:`MEDIUM_POINTS`) or low. On the rule and
  no-signal paths there is no calibrated evidence: confidence ``low``, no interval.
- **Qualification** (leads): MQL from ``mql_points``, SQL from ``qualified_points`` on
  the published score; never on the no-signal path (the base rate does not rank).
- **Trend**: the score against the entity's latest published score at least
  ``days`` before (improving, steady, declining, or not enough history).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl

from models.common.floor import NO_SIGNAL_PATH

EVIDENCE_BINS = 20
Z95 = 1.959964
HIGH_POINTS = 5.0
MEDIUM_POINTS = 10.0
HIGH, MEDIUM, LOW = "high", "medium", "low"
MQL, SQL, NOT_QUALIFIED = "MQL", "SQL", "none"
IMPROVING, STEADY, DECLINING = "improving", "steady", "declining"
RISING, FALLING = "rising", "falling"  # a risk's trend (deal risk)
NOT_ENOUGH_HISTORY = "not enough history"
MODEL_PATH = "model"


def evidence_bin(probability: np.ndarray) -> np.ndarray:
    """The evidence bin of each probability: ``floor(p × EVIDENCE_BINS)``, 1.0 in the last."""
    p = np.nan_to_num(np.asarray(probability, dtype=float), nan=0.0)
    return np.clip((p * EVIDENCE_BINS).astype(int), 0, EVIDENCE_BINS - 1)


def calibration_evidence(probability: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """Effective calibration rows per bin of the calibrated probability.

    Args:
        probability: the calibrated probability of each calibration row.
        weight: each row's weight (default 1; training weighs each entity once).

    Returns:
        :data:`EVIDENCE_BINS` floats: the summed weights of the rows in each bin.
    """
    weight = np.ones(len(probability)) if weight is None else np.asarray(weight, dtype=float)
    return np.bincount(evidence_bin(probability), weights=weight, minlength=EVIDENCE_BINS)


def wilson_half_width(probability: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Half-width, in score points, of the 95 % Wilson interval of ``p`` from ``rows`` rows
    (50 points, total ignorance, with no rows)."""
    p = np.clip(np.asarray(probability, dtype=float), 0.0, 1.0)
    n = np.asarray(rows, dtype=float)
    z2 = Z95**2
    with np.errstate(divide="ignore", invalid="ignore"):
        half = Z95 / (1 + z2 / n) * np.sqrt(p * (1 - p) / n + z2 / (4 * n**2))
    return np.where(n > 0, 100 * half, 50.0)


def confidence_level(half_width: pl.Expr) -> pl.Expr:
    """high / medium / low from the interval's half-width in points (null stays low)."""
    return (
        pl.when(half_width <= HIGH_POINTS)
        .then(pl.lit(HIGH))
        .when(half_width <= MEDIUM_POINTS)
        .then(pl.lit(MEDIUM))
        .otherwise(pl.lit(LOW))
    )


def confidence(
    probability: np.ndarray, path: str, evidence: np.ndarray | None
) -> tuple[pl.Series, pl.Series]:
    """Confidence level and interval half-width (points) of each row of one scoring path.

    Args:
        probability: the published probability of each row.
        path: the scoring path (``model``, ``rule_based``, ``no_reliable_signal``).
        evidence: the model's :func:`calibration_evidence` (None: a model trained before it
            was kept, or not the model path).

    Returns:
        ``confidence`` (high / medium / low; null for a model without evidence) and
        ``confidence_interval`` (null off the model path).
    """
    rows = len(probability)
    if path != MODEL_PATH:
        return (
            pl.Series("confidence", [LOW] * rows, dtype=pl.String),
            pl.Series("confidence_interval", [None] * rows, dtype=pl.Float64),
        )
    if evidence is None:
        return (
            pl.Series("confidence", [None] * rows, dtype=pl.String),
            pl.Series("confidence_interval", [None] * rows, dtype=pl.Float64),
        )
    half = np.round(wilson_half_width(probability, evidence[evidence_bin(probability)]), 1)
    interval = pl.Series("confidence_interval", half, dtype=pl.Float64)
    level = pl.select(confidence_level(pl.lit(interval)).alias("confidence")).to_series()
    return level, interval


def qualification(mql_points: float, sql_points: float) -> pl.Expr:
    """MQL / SQL / none from the ``score`` column; none on the no-signal path."""
    return (
        pl.when(pl.col("scoring_path") == NO_SIGNAL_PATH)
        .then(pl.lit(NOT_QUALIFIED))
        .when(pl.col("score") >= sql_points)
        .then(pl.lit(SQL))
        .when(pl.col("score") >= mql_points)
        .then(pl.lit(MQL))
        .otherwise(pl.lit(NOT_QUALIFIED))
    )


def score_trend(
    scores: pl.DataFrame,
    history: pl.DataFrame | None,
    id_column: str,
    *,
    today: datetime,
    days: int = 7,
    points: float = 5.0,
    higher_is_better: bool = True,
) -> pl.Series:
    """Each score against the entity's latest published score at least ``days`` before.

    Args:
        scores: today's scores (``id_column``, ``score``, ``scoring_path``).
        history: earlier published scores (``id_column``, ``score``, ``scoring_path``,
            ``as_of``), or None when nothing was published yet.
        id_column: the entity's key.
        today: the data's today (the scores' ``as_of``).
        days: how far back the comparison score must be.
        points: the change that counts as improving or declining.
        higher_is_better: False where the score is a risk (churn): a falling score improves.

    Returns:
        ``score_trend`` per row of ``scores``, in their order: improving, steady, declining,
        or "not enough history" (no score that old, or either is a base rate).
    """
    if history is None or history.is_empty():
        return pl.Series("score_trend", [NOT_ENOUGH_HISTORY] * scores.height, dtype=pl.String)
    cutoff = today - timedelta(days=days)
    sign = 1.0 if higher_is_better else -1.0
    before = (
        history.lazy()
        .filter(pl.col("as_of") <= cutoff)
        .group_by(id_column)
        .agg(
            pl.col("score").sort_by("as_of").last().alias("_before"),
            pl.col("scoring_path").sort_by("as_of").last().alias("_before_path"),
        )
    )
    joined = (
        scores.lazy()
        .select(id_column, "score", "scoring_path")
        .with_row_index("_row")
        .join(before, on=id_column, how="left")
        .sort("_row")  # the join does not keep the rows' order
        .with_columns(_change=sign * (pl.col("score") - pl.col("_before")))
        .collect()  # eagerly below: a lazy select after the sort lost the rows' order
        .select(
            pl.when(
                pl.col("_before").is_null()
                | (pl.col("_before_path") == NO_SIGNAL_PATH)
                | (pl.col("scoring_path") == NO_SIGNAL_PATH)
            )
            .then(pl.lit(NOT_ENOUGH_HISTORY))
            .when(pl.col("_change") >= points)
            .then(pl.lit(IMPROVING))
            .when(pl.col("_change") <= -points)
            .then(pl.lit(DECLINING))
            .otherwise(pl.lit(STEADY))
            .alias("score_trend")
        )
    )
    return joined.to_series()


def route(
    scores: pl.DataFrame,
    history: pl.DataFrame | None,
    *,
    qualifies: bool,
    score_is_risk: bool,
    id_column: str,
    today: datetime,
    thresholds: tuple[float, float] = (50, 70),
    trend: tuple[int, float] = (7, 5.0),
) -> pl.DataFrame:
    """The score table with its trend and, for a family that qualifies (leads), its
    qualification.

    Args:
        scores: the score table of :func:`models.common.scoring.score`.
        history: earlier published scores (see :func:`score_trend`), or None.
        qualifies: whether to add ``qualification``.
        score_is_risk: whether a falling score improves (churn).
        id_column: the entity's key.
        today: the data's today.
        thresholds: MQL and SQL points.
        trend: days back and points of change (see :func:`score_trend`).

    Returns:
        ``scores`` with ``score_trend`` (and ``qualification``) added.
    """
    days, points = trend
    trend_column = score_trend(
        scores,
        history,
        id_column,
        today=today,
        days=days,
        points=points,
        higher_is_better=not score_is_risk,
    )
    routed = scores.with_columns(trend_column)
    if "risk_score" in scores.columns:  # deals: the risk's own trend, rising or falling
        routed = routed.with_columns(risk_trend(scores, history, id_column, today, days, points))
    if qualifies:
        routed = routed.with_columns(qualification=qualification(*thresholds))
    return routed


def risk_trend(
    scores: pl.DataFrame,
    history: pl.DataFrame | None,
    id_column: str,
    today: datetime,
    days: int,
    points: float,
) -> pl.Series:
    """``risk_trend`` of each row: its ``risk_score`` against the latest published one at
    least ``days`` before — rising, steady, falling or not enough history."""
    now = scores.select(id_column, "scoring_path", score=pl.col("risk_score"))
    before = None
    if history is not None and "risk_score" in history.columns:
        before = history.select(id_column, "as_of", "scoring_path", score=pl.col("risk_score"))
    trend = score_trend(now, before, id_column, today=today, days=days, points=points)
    return trend.replace({IMPROVING: RISING, DECLINING: FALLING}).alias("risk_trend")
