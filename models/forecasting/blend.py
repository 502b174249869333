"""The pipeline forecast against the statistical one: backtest, blend weights, the quarter table.

At every origin of the total monthly bookings backtest (month starts), the pipeline as it
stood then (:func:`models.forecasting.deals.snapshot_deals`) is forecast with the kernel
and stage win rates learned before that origin, and compared, quarter by quarter, with the
statistical forecast the backtest made from the same origin. The errors give the blend
weights (:func:`models.forecasting.pipeline.blend_weights`) and the backtest rows of the
pipeline methods. The live forecast then applies the same functions at the data's today,
with the calibrated probabilities.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import polars as pl

from models.forecasting import pipeline as pl_fc
from models.forecasting.methods import Z80
from models.forecasting.pipeline import QUARTERS, QuarterPlan
from models.forecasting.series import shift

BACKTEST_SCHEMA = {
    "origin": pl.Date,
    "horizon": pl.Int64,
    "quarter_start": pl.Date,
    "actual": pl.Float64,
    "closed": pl.Float64,
    "weighted_pipeline": pl.Float64,
    "probability_weighted": pl.Float64,
    "slippage_adjusted": pl.Float64,
    "pipeline_lo80": pl.Float64,
    "pipeline_hi80": pl.Float64,
    "statistical": pl.Float64,
    "statistical_lo80": pl.Float64,
    "statistical_hi80": pl.Float64,
}


def _month_forecasts(records: pl.DataFrame, periods: list[date], origin: int) -> dict:
    rows = records.filter(pl.col("origin") == origin)
    return {
        periods[origin + h - 1]: (p, lo, hi)
        for h, p, lo, hi in rows.select("horizon", "point", "lo80", "hi80").iter_rows()
    }


def backtest(
    snapshots: pl.DataFrame,
    won: pl.DataFrame,
    periods: list[date],
    values: np.ndarray,
    records: pl.DataFrame,
    *,
    draws: int = 1000,
    seed: int = 0,
) -> pl.DataFrame:
    """Quarter forecasts of the pipeline methods and the statistical one at past origins.

    Args:
        snapshots: :func:`deals.snapshot_deals` at every month start.
        won: Won deals (amount, closed_at, product_line).
        periods: Month starts of the total monthly bookings series (complete months).
        values: Its values.
        records: The chosen method's backtest records on that series (origin index,
            horizon, point, lo80, hi80, ...).
        draws: Monte Carlo draws per origin (for the pipeline's 80 % interval).
        seed: Seeds the draws.

    Returns:
        One row per origin and quarter ahead whose months are all complete
        (:data:`BACKTEST_SCHEMA`).
    """
    actual = dict(zip(periods, values.tolist(), strict=True))
    rows = []
    for o in sorted(set(records["origin"].to_list())):
        origin = periods[o]
        plan = QuarterPlan.at(origin)
        forecasts = _month_forecasts(records, periods, o)
        usable = [
            k
            for k, first in enumerate(plan.quarters)
            if all(
                m in actual and (m < origin or m in forecasts)
                for m in (shift("month", first, i) for i in range(3))
            )
        ]
        if not usable:
            continue
        deals = snapshots.filter(pl.col("snapshot") == origin)
        rates = pl_fc.stage_win_rates(snapshots, origin)
        deals = pl_fc.impute_amounts(pl_fc.with_probability(deals, rates), won, origin)
        slippage = pl_fc.learn_slippage(snapshots, origin)
        at = datetime(origin.year, origin.month, origin.day)
        closed = pl_fc.closed_between(won, plan.quarters[0], at)
        pipe = pl_fc.pipeline_quarters(deals, plan, slippage, closed, draws=draws, seed=seed)
        stat, sd = pl_fc.statistical_quarters(plan, actual, forecasts, strict=False)
        for k in usable:
            truth = sum(actual[shift("month", plan.quarters[k], i)] for i in range(3))
            rows.append(
                (
                    origin,
                    k + 1,
                    plan.quarters[k],
                    truth,
                    float(pipe.closed[k]),
                    float(pipe.weighted_pipeline[k]),
                    float(pipe.probability_weighted[k]),
                    float(pipe.slippage_adjusted[k]),
                    float(pipe.quantiles[0.1][k]),
                    float(pipe.quantiles[0.9][k]),
                    float(stat[k]),
                    float(max(stat[k] - Z80 * sd[k], pipe.closed[k])),
                    float(stat[k] + Z80 * sd[k]),
                )
            )
    return pl.DataFrame(rows, schema=BACKTEST_SCHEMA, orient="row")


def backtest_scores(
    rows: pl.DataFrame, weights: dict[int, tuple[float, int, str | None]]
) -> pl.DataFrame:
    """MAE, sMAPE and 80 % coverage per method and quarter ahead (blended with ``weights``)."""
    if rows.is_empty():
        return pl.DataFrame(
            schema={
                "method": pl.String,
                "horizon": pl.Int64,
                "mae": pl.Float64,
                "smape": pl.Float64,
                "coverage80": pl.Float64,
                "origins": pl.UInt32,
            }
        )
    w = pl.col("horizon").replace_strict({h: v[0] for h, v in weights.items()}, default=0.5)
    rows = rows.with_columns(
        blended=w * pl.col("slippage_adjusted") + (1 - w) * pl.col("statistical"),
        blended_lo80=w * pl.col("pipeline_lo80") + (1 - w) * pl.col("statistical_lo80"),
        blended_hi80=w * pl.col("pipeline_hi80") + (1 - w) * pl.col("statistical_hi80"),
    )
    bounds = {
        "slippage_adjusted": ("pipeline_lo80", "pipeline_hi80"),
        "statistical": ("statistical_lo80", "statistical_hi80"),
        "blended": ("blended_lo80", "blended_hi80"),
    }
    parts = []
    for method in (
        "weighted_pipeline",
        "probability_weighted",
        "slippage_adjusted",
        "statistical",
        "blended",
    ):
        err = (pl.col("actual") - pl.col(method)).abs()
        denom = pl.col("actual").abs() + pl.col(method).abs()
        cover = pl.lit(None, dtype=pl.Boolean)
        if method in bounds:
            lo, hi = bounds[method]
            cover = (pl.col("actual") >= pl.col(lo)) & (pl.col("actual") <= pl.col(hi))
        parts.append(
            rows.group_by("horizon")
            .agg(
                mae=err.mean(),
                smape=pl.when(denom > 0).then(200 * err / denom).otherwise(0.0).mean(),
                coverage80=cover.cast(pl.Float64).mean(),
                origins=pl.len(),
            )
            .with_columns(method=pl.lit(method))
        )
    return (
        pl.concat(parts)
        .select("method", "horizon", "mae", "smape", "coverage80", "origins")
        .sort("method", "horizon")
    )


def quarter_forecast(
    deals: pl.DataFrame,
    won: pl.DataFrame,
    snapshots: pl.DataFrame,
    today: datetime,
    actual: dict[date, float],
    forecasts: dict[date, tuple[float, float, float]],
    weights: dict[int, tuple[float, int, str | None]],
    *,
    draws: int = pl_fc.DRAWS,
    seed: int = 0,
) -> tuple[pl.DataFrame, dict]:
    """The published quarter table: one row per quarter and scenario (long).

    Args:
        deals: Open deals now (:func:`deals.open_deals`), probability null where unscored.
        won: Won deals (for closed-to-date and amount imputation).
        snapshots: Month-start snapshots (for the kernel and the stage rates of unscored deals).
        today: The data's today: the origin.
        actual: Complete months of total bookings.
        forecasts: Month -> (point, lo80, hi80) of the statistical total bookings forecast,
            from the current month on.
        weights: Blend weights per quarter ahead.
        draws: Monte Carlo draws.
        seed: Seeds the draws.

    Returns:
        The table and facts about it (kernel, deal counts, probability sources).
    """
    origin = today.date()
    plan = QuarterPlan.at(origin)
    rates = pl_fc.stage_win_rates(snapshots, origin)
    deals = pl_fc.impute_amounts(pl_fc.with_probability(deals, rates), won, origin)
    slippage = pl_fc.learn_slippage(snapshots, origin)
    closed = pl_fc.closed_between(won, plan.quarters[0], today)
    pipe = pl_fc.pipeline_quarters(deals, plan, slippage, closed, draws=draws, seed=seed)
    stat, sd = pl_fc.statistical_quarters(plan, actual, forecasts)
    mix = pl_fc.combine(pipe, stat, sd, weights)
    stat_lo = np.maximum(stat - Z80 * sd, pipe.closed)
    stat_hi = stat + Z80 * sd
    values = {
        "weighted_pipeline": (pipe.weighted_pipeline, None, None),
        "probability_weighted": (pipe.probability_weighted, None, None),
        "slippage_adjusted": (pipe.slippage_adjusted, pipe.quantiles[0.1], pipe.quantiles[0.9]),
        "statistical": (stat, stat_lo, stat_hi),
        "blended": (mix["blended"], mix["commit"], mix["best_case"]),
        "commit": (mix["commit"], None, None),
        "most_likely": (mix["most_likely"], None, None),
        "best_case": (mix["best_case"], None, None),
    }
    table = _quarter_table(plan, pipe, values, weights)
    sources = deals["probability_source"].value_counts()
    info = {
        "open_deals": deals.height,
        "amounts_imputed": int(deals["amount_imputed"].sum()),
        "probability_sources": dict(
            zip(sources["probability_source"], sources["count"], strict=True)
        ),
        "slippage_on_time": slippage.on_time,
        "slippage_overdue": slippage.overdue,
        "slippage_wins": (slippage.wins_on_time, slippage.wins_overdue),
        "slippage_note": slippage.note,
        "blend": {
            "lo95": mix["lo95"].tolist(),
            "hi95": mix["hi95"].tolist(),
        },
        "quarters": [pl_fc.quarter_label(q) for q in plan.quarters],
    }
    return table, info


def _quarter_table(
    plan: QuarterPlan,
    pipe: pl_fc.PipelineQuarters,
    values: dict[str, tuple],
    weights: dict[int, tuple[float, int, str | None]],
) -> pl.DataFrame:
    """One row per quarter and scenario: amount, 80 % interval where there is one, weights."""
    rows = []
    for k in range(QUARTERS):
        w, n, reason = weights[k + 1]
        for scenario, (amount, lo, hi) in values.items():
            rows.append(
                {
                    "quarter": pl_fc.quarter_label(plan.quarters[k]),
                    "quarter_start": plan.quarters[k],
                    "horizon": k + 1,
                    "scenario": scenario,
                    "amount": float(amount[k]),
                    "lo80": None if lo is None else float(lo[k]),
                    "hi80": None if hi is None else float(hi[k]),
                    "closed_to_date": float(pipe.closed[k]),
                    "pipeline_weight": float(w),
                    "weight_origins": n,
                    "weight_reason": reason,
                    "description": pl_fc.SCENARIOS[scenario],
                }
            )
    return pl.DataFrame(rows).with_columns(
        pl.col("lo80").cast(pl.Float64),
        pl.col("hi80").cast(pl.Float64),
        pl.col("weight_reason").cast(pl.String),
    )
