"""How good a probability is: discrimination, calibration, and what a sales team feels.

- ROC AUC and PR AUC (average precision): does the score rank converters first?
- Brier score and log loss: are the probabilities right, not just the order?
- lift in the top decile: how much richer the best 10 % are than the average;
- calibration by decile and the expected calibration error (ECE): among leads
  given 30 %, do 30 % convert?
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)


def calibration_by_decile(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    """Rows sorted by predicted probability, cut into equal-count bins."""
    order = np.argsort(p, kind="stable")
    out = []
    for i, idx in enumerate(np.array_split(order, bins)):
        if len(idx) == 0:
            continue
        out.append(
            {
                "decile": i + 1,
                "rows": len(idx),
                "mean_predicted": float(p[idx].mean()),
                "observed_rate": float(y[idx].mean()),
            }
        )
    return out


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Row-weighted mean |observed − predicted| over equal-count bins."""
    table = calibration_by_decile(y, p, bins)
    n = sum(r["rows"] for r in table)
    return float(sum(r["rows"] * abs(r["observed_rate"] - r["mean_predicted"]) for r in table) / n)


def lift_top_decile(y: np.ndarray, p: np.ndarray) -> float:
    """Positive rate among the top 10 % by score, over the overall positive rate."""
    k = max(1, int(np.ceil(0.1 * len(p))))
    top = np.argsort(-p, kind="stable")[:k]
    base = y.mean()
    return float(y[top].mean() / base) if base > 0 else float("nan")


def evaluate(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Every metric of one model on one set of rows (both classes must be present)."""
    y = np.asarray(y, dtype=int)
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "lift_top_decile": lift_top_decile(y, p),
        "ece": expected_calibration_error(y, p),
        "rows": float(len(y)),
        "positive_rate": float(y.mean()),
    }
