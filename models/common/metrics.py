"""How good a probability is: discrimination, calibration, and what a sales team feels.

- ROC AUC and PR AUC (average precision): does the score rank converters first?
- Brier score and log loss: are the probabilities right, not just the order?
- lift in the top decile: how much richer the best 10 % are than the average;
- calibration by decile and the expected calibration error (ECE): among leads
  given 30 %, do 30 % convert?
"""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)


def calibration_by_decile(
    probability: np.ndarray,
    labels: np.ndarray,
    bins: int = 10,
    weight: np.ndarray | None = None,
) -> pl.DataFrame:
    """Mean predicted probability against the observed rate, per decile of the prediction.

    Rows are sorted by probability (stable) and cut into ``bins`` equal-count bins (the
    first ones one row larger when the rows do not divide evenly). Training (the test
    set's calibration and ECE) and monitoring (the champion on matured labels) both use it.

    Args:
        probability: Predicted probabilities.
        labels: Observed outcomes (0/1 or booleans).
        bins: How many bins.
        weight: Per-row weights (default 1): the means are weighted, ``rows`` is the bin's
            total weight (its row count without weights).

    Returns:
        decile (1 = lowest probabilities), rows, predicted (mean probability) and observed
        (rate of positives), one row per non-empty bin.
    """
    probability = np.asarray(probability, dtype=float)
    labels = np.asarray(labels, dtype=float)
    w = np.ones(len(labels)) if weight is None else np.asarray(weight, dtype=float)
    order = np.argsort(probability, kind="stable")
    rows = [
        {
            "decile": i + 1,
            "rows": len(idx) if weight is None else float(w[idx].sum()),
            "predicted": float(np.average(probability[idx], weights=w[idx])),
            "observed": float(np.average(labels[idx], weights=w[idx])),
        }
        for i, idx in enumerate(np.array_split(order, bins))
        if len(idx)
    ]
    count = pl.Int64 if weight is None else pl.Float64
    schema = {"decile": pl.Int64, "rows": count, "predicted": pl.Float64, "observed": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def expected_calibration_error(table: pl.DataFrame) -> float:
    """Row-weighted mean |observed − predicted| over the bins of :func:`calibration_by_decile`
    (0 for no rows)."""
    n = sum(table["rows"])
    if n == 0:
        return 0.0
    gaps = zip(table["rows"], table["observed"], table["predicted"], strict=True)
    return float(sum(rows * abs(observed - predicted) for rows, observed, predicted in gaps) / n)


def ece_by_chance(
    probability: np.ndarray,
    weight: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    resamples: int = 200,
    seed: int = 0,
) -> tuple[float, float]:
    """The ECE a perfectly calibrated model shows on these rows by chance alone: labels
    drawn from the probabilities themselves (one draw per entity in ``groups``, whose
    snapshots share one outcome), their ECE's mean and 95th percentile. On a few hundred
    entities it is several points: a measured ECE within it is noise.

    Args:
        probability: Predicted probabilities.
        weight: Per-row weights (default 1).
        groups: Each row's entity (default: every row its own).
        resamples: How many label draws.
        seed: Seeds the draws.

    Returns:
        The mean and the 95th percentile of the drawn ECEs.
    """
    probability = np.asarray(probability, dtype=float)
    if groups is None:
        inverse, entities = np.arange(len(probability)), len(probability)
    else:
        _, inverse = np.unique(np.asarray(groups), return_inverse=True)
        entities = int(inverse.max()) + 1 if len(inverse) else 0
    rng = np.random.default_rng(seed)
    drawn = [
        expected_calibration_error(
            calibration_by_decile(
                probability, rng.random(entities)[inverse] < probability, weight=weight
            )
        )
        for _ in range(resamples)
    ]
    return float(np.mean(drawn)), float(np.percentile(drawn, 95))


def lift_top_decile(y: np.ndarray, p: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Positive rate among the top 10 % by score, over the overall positive rate (the top
    10 % of the total weight when rows are weighted)."""
    w = np.ones(len(p)) if weight is None else np.asarray(weight, dtype=float)
    order = np.argsort(-p, kind="stable")
    if weight is None:
        top = order[: max(1, int(np.ceil(0.1 * len(p))))]
    else:
        top = order[: max(1, int(np.searchsorted(np.cumsum(w[order]), 0.1 * w.sum()) + 1))]
    base = np.average(y, weights=w)
    return float(np.average(y[top], weights=w[top]) / base) if base > 0 else float("nan")


def evaluate(y: np.ndarray, p: np.ndarray, weight: np.ndarray | None = None) -> dict[str, float]:
    """Every metric of one model on one set of rows (both classes must be present).

    Args:
        y: Observed outcomes.
        p: Predicted probabilities.
        weight: Per-row weights (each entity's snapshots weighing 1 in total, say); None
            weighs every row 1. ``rows`` stays the row count.

    Returns:
        ROC AUC, PR AUC, Brier, log loss, lift in the top decile, ECE, rows, positive rate.
    """
    y = np.asarray(y, dtype=int)
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return {
        "roc_auc": float(roc_auc_score(y, p, sample_weight=weight)),
        "pr_auc": float(average_precision_score(y, p, sample_weight=weight)),
        "brier": float(brier_score_loss(y, p, sample_weight=weight)),
        "log_loss": float(log_loss(y, p, labels=[0, 1], sample_weight=weight)),
        "lift_top_decile": lift_top_decile(y, p, weight),
        "ece": expected_calibration_error(calibration_by_decile(p, y, weight=weight)),
        "rows": float(len(y)),
        "positive_rate": float(np.average(y, weights=weight)),
    }
