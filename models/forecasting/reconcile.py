"""Make segment forecasts add up to the total: variance-weighted adjustment with the total fixed.

Choice: each segment type (region, team, product line) is reconciled to the total's own
forecast. The adjusted segment points x solve

    minimise  Σ (x_c − ŷ_c)² / σ²_c   subject to  Σ x_c = ŷ_total,  x_c ≥ 0

so x_c = ŷ_c + λ·σ²_c: the gap between the total and the sum of the segments is shared in
proportion to each segment's forecast variance (σ from the segment's own 95 % interval at
that horizon), and a segment driven below zero is held at zero while the rest absorb the
remainder. This is MinT with a diagonal error covariance in which the total is known
exactly — weighted least squares reconciliation with the top level held.

Why not bottom-up: the segment series are the noisy ones (a team's weekly bookings are
mostly zeros and a few large deals); summing their forecasts loses the quarter-end
pattern that only the aggregate shows clearly, and crmlens segments by three crossing
dimensions, so bottom-up would give three different totals (or require team × product
line × region cells, sparser still). Why not full OLS/MinT: OLS moves the total by a
different amount for each dimension, and MinT's covariance estimate is unstable with a
dozen backtest origins. Holding the total keeps one number per metric for managers
while the segments that are least certain absorb the difference.

Intervals move with their point (the width of each segment's interval is kept), and are
clipped at zero. Interval bounds are not additive, so a total's interval is not the sum of
its segments' — only points add up.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from models.forecasting.series import TOTAL

GROUP = ("metric", "grain", "period")


def to_total(total: float, points: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """Adjust ``points`` so they sum to ``total``, in proportion to ``variances``, none below 0.

    Args:
        total: The (fixed) total forecast.
        points: Base forecasts of the segments.
        variances: Their forecast variances (all zero: the gap is shared equally).

    Returns:
        The reconciled segment forecasts; they sum to ``total`` when ``total`` ≥ 0.
    """
    points = np.asarray(points, dtype=float)
    weights = np.asarray(variances, dtype=float).copy()
    if not np.any(weights > 0):
        weights = np.ones_like(points)
    free = np.ones(len(points), dtype=bool)
    out = np.zeros_like(points)
    total = max(float(total), 0.0)
    while free.any():
        w = weights[free]
        if w.sum() <= 0:
            w = np.ones_like(w)
        gap = total - points[free].sum()
        candidate = points[free] + gap * w / w.sum()
        negative = candidate < 0
        if not negative.any():
            out[free] = candidate
            break
        idx = np.flatnonzero(free)[negative]
        out[idx] = 0.0
        free[idx] = False
    return out


def reconcile(forecasts: pl.DataFrame) -> pl.DataFrame:
    """Reconcile every segment type of every metric, grain and period to its total.

    Args:
        forecasts: One row per series and period with ``metric, grain, segment_type,
            segment, period, point, lo80, hi80, lo95, hi95``.

    Returns:
        The same rows with reconciled ``point`` and shifted intervals, and the forecast
        before reconciliation in ``base_point``. Groups without a total are unchanged.
    """
    frame = forecasts.with_columns(base_point=pl.col("point"))
    totals = frame.filter(pl.col("segment_type") == "total").select(*GROUP, total=pl.col("point"))
    parts = []
    segments = frame.filter(pl.col("segment_type") != "total")
    for (_, _, _, _), group in segments.group_by([*GROUP, "segment_type"], maintain_order=True):
        row = group.join(totals, on=list(GROUP), how="left")
        total = row["total"][0]
        if total is None:
            parts.append(group)
            continue
        sd = (group["hi95"] - group["lo95"]).to_numpy() / (2 * 1.959963984540054)
        point = to_total(total, group["point"].to_numpy(), sd**2)
        shift = point - group["point"].to_numpy()
        parts.append(
            group.with_columns(
                point=pl.Series(point),
                **{
                    c: (pl.col(c) + pl.Series(shift)).clip(lower_bound=0.0)
                    for c in ("lo80", "hi80", "lo95", "hi95")
                },
            )
        )
    out = pl.concat([frame.filter(pl.col("segment_type") == "total"), *parts], how="vertical")
    return out.sort(["metric", "grain", "segment_type", "segment", "period"])


def check_additive(
    forecasts: pl.DataFrame, column: str = "point", tol: float = 1e-6
) -> pl.DataFrame:
    """Groups (metric, grain, period, segment type) whose segments do not add up to the total."""
    totals = forecasts.filter(pl.col("segment") == TOTAL).select(*GROUP, total=pl.col(column))
    sums = (
        forecasts.filter(pl.col("segment_type") != "total")
        .group_by([*GROUP, "segment_type"])
        .agg(segments=pl.col(column).sum())
    )
    joined = sums.join(totals, on=list(GROUP))
    return joined.filter(
        (pl.col("segments") - pl.col("total")).abs() > tol * pl.col("total").abs().clip(1.0)
    )
