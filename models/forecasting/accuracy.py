"""Every published forecast is kept; once its periods complete, it is scored against them.

``ml.revenue_forecast_history`` holds every row each run published (``is_published``)
plus the comparison rows of that run (the seasonal-naive baseline of every series, the
pipeline methods of every quarter), keyed by ``run_id``: a rerun with the same run id
replaces its own rows and nothing else. ``ml.forecast_accuracy`` joins that history with
the actuals known now: one row per forecast whose period is complete, with its error and
whether its intervals held the actual; :func:`summary` rolls it up by method and horizon.
"""

from __future__ import annotations

import duckdb
import polars as pl

from crmlens.warehouse import replace_table, table_exists
from models.forecasting.pipeline import quarter_start
from models.forecasting.series import KEY, PERIOD_SCHEMA, QUARTER_BOOKINGS, TOTAL, SeriesSet

HISTORY = "revenue_forecast_history"
ACCURACY = "forecast_accuracy"
# The history columns the accuracy table reads (an empty table still has them).
_HISTORY_MINIMUM = {
    "run_id": pl.String,
    "published_at": pl.Datetime("us"),
    "forecast_origin": pl.Datetime("us"),
    **PERIOD_SCHEMA,
    "horizon": pl.Int64,
    "method": pl.String,
    "is_published": pl.Boolean,
    "point": pl.Float64,
    "lo80": pl.Float64,
    "hi80": pl.Float64,
    "lo95": pl.Float64,
    "hi95": pl.Float64,
}


def read_history(con: duckdb.DuckDBPyConnection) -> pl.DataFrame | None:
    """``ml.revenue_forecast_history``, or None before the first publication."""
    if not table_exists(con, "ml", HISTORY):
        return None
    return con.sql(f"select * from ml.{HISTORY}").pl()


def append_history(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame) -> int:
    """Add a run's rows to the history, replacing earlier rows of the same run id(s).

    Returns:
        Rows in the history afterwards.
    """
    existing = read_history(con)
    run_ids = rows["run_id"].unique().to_list()
    if existing is not None:
        kept = existing.filter(~pl.col("run_id").is_in(run_ids))
        combined = pl.concat([kept, rows], how="diagonal_relaxed")
    else:
        combined = rows
    combined = combined.sort("published_at", "run_id", *KEY, "period", "method")
    replace_table(
        con,
        "ml",
        HISTORY,
        combined,
        comment="Every published revenue forecast (is_published) and its comparison rows, by run_id.",
    )
    return combined.height


def actuals(series: SeriesSet) -> pl.DataFrame:
    """Actual values of every complete period, plus complete quarters of total monthly bookings."""
    monthly = series.frame.rename({"value": "actual"})
    total = series.frame.filter(
        (pl.col("metric") == "bookings")
        & (pl.col("grain") == "month")
        & (pl.col("segment") == TOTAL)
    )
    if total.is_empty():
        return monthly
    quarters = (
        total.with_columns(
            period=pl.col("period").map_elements(quarter_start, return_dtype=pl.Date)
        )
        .group_by("period")
        .agg(actual=pl.col("value").sum(), months=pl.len())
        .filter(pl.col("months") == 3)
        .select(
            **QUARTER_BOOKINGS.columns(),
            period="period",
            actual="actual",
        )
    )
    return pl.concat([monthly, quarters.cast(monthly.schema)])


def forecast_vs_actual(history: pl.DataFrame, actual: pl.DataFrame) -> pl.DataFrame:
    """Each historical forecast row with a complete actual: error, |error| %, interval hits."""
    joined = history.join(actual, on=[*KEY, "period"], how="inner")
    err = pl.col("actual") - pl.col("point")
    return joined.select(
        "run_id",
        "published_at",
        "forecast_origin",
        *KEY,
        "period",
        "horizon",
        "method",
        "is_published",
        "point",
        "lo80",
        "hi80",
        "lo95",
        "hi95",
        "actual",
        error=err,
        abs_error=err.abs(),
        abs_pct_error=pl.when(pl.col("actual") != 0).then(100 * err.abs() / pl.col("actual").abs()),
        within80=(pl.col("actual") >= pl.col("lo80")) & (pl.col("actual") <= pl.col("hi80")),
        within95=(pl.col("actual") >= pl.col("lo95")) & (pl.col("actual") <= pl.col("hi95")),
    ).sort("published_at", *KEY, "period", "method")


def summary(scored: pl.DataFrame) -> pl.DataFrame:
    """By metric, grain, segment type, method and horizon: count, MAE, MAPE, bias, coverage."""
    return (
        scored.group_by("metric", "grain", "segment_type", "method", "horizon")
        .agg(
            forecasts=pl.len(),
            mae=pl.col("abs_error").mean(),
            mape=pl.col("abs_pct_error").mean(),
            bias=pl.col("error").mean(),
            coverage80=pl.col("within80").cast(pl.Float64).mean(),
            coverage95=pl.col("within95").cast(pl.Float64).mean(),
        )
        .sort("metric", "grain", "segment_type", "method", "horizon")
    )


def refresh(con: duckdb.DuckDBPyConnection, series: SeriesSet) -> pl.DataFrame:
    """Rebuild ``ml.forecast_accuracy`` from the history and the actuals in ``series``."""
    history = read_history(con)
    if history is None:
        history = pl.DataFrame(schema=_HISTORY_MINIMUM)
    scored = forecast_vs_actual(history, actuals(series))
    replace_table(
        con,
        "ml",
        ACCURACY,
        scored,
        comment="Published forecasts against the actuals of their periods, by horizon and method.",
    )
    return scored
