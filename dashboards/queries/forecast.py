"""The Forecast page's queries: the published series, their actuals, the quarter's
scenarios, backtests and the accuracy of past forecasts.

A series is one ``metric`` (bookings, new_pipeline, mrr) at one ``grain`` (month, week)
for one ``segment`` of a ``segment_type`` (total/all, region, team, product_line).
"""

from __future__ import annotations

import polars as pl

from dashboards.data import query_file


def _series(metric: str, grain: str, segment_type: str, segment: str) -> dict:
    return {"metric": metric, "grain": grain, "segment_type": segment_type, "segment": segment}


def forecast_series(metric: str, grain: str, segment_type: str, segment: str) -> pl.DataFrame:
    """The published forecast of one series (one row per period ahead).

    Args:
        metric: bookings, new_pipeline or mrr.
        grain: month or week.
        segment_type: total, region, team or product_line.
        segment: the segment's value (``all`` for the total).

    Returns:
        ``period``, ``horizon``, the point forecast and its 80 %/95 % intervals, the
        method, its backtest figures and the current period's ``partial_actual``.
    """
    return query_file("forecast_series", _series(metric, grain, segment_type, segment))


def forecast_segments() -> pl.DataFrame:
    """Which series the forecast publishes.

    Returns:
        ``metric``, ``grain``, ``segment_type``, ``segment`` (quarters aside).
    """
    return query_file("forecast_segments")


def forecast_actuals(metric: str, grain: str, segment_type: str, segment: str) -> pl.DataFrame:
    """Actual values of a forecast series, defined as models.forecasting.series does.

    Args:
        metric: bookings, new_pipeline or mrr (MRR is monthly whatever the grain).
        grain: month or week.
        segment_type: total, region, team or product_line.
        segment: the segment's value.

    Returns:
        ``period``, ``actual``, by period.
    """
    name = "forecast_actuals_mrr" if metric == "mrr" else "forecast_actuals_deals"
    return query_file(name, _series(metric, grain, segment_type, segment))


def forecast_scenarios() -> pl.DataFrame:
    """Quarters of total bookings: commit / most likely / best case and what is closed.

    Returns:
        One row per quarter and scenario, with ``closed_to_date`` and a description.
    """
    return query_file("forecast_scenarios")


def forecast_backtest(metric: str, grain: str, segment_type: str, segment: str) -> pl.DataFrame:
    """Backtest errors by method and horizon for one series.

    Args:
        metric: bookings, new_pipeline or mrr.
        grain: month or week.
        segment_type: total, region, team or product_line.
        segment: the segment's value.

    Returns:
        ``method``, ``horizon``, MASE, sMAPE, MAE, interval coverages, ``origins`` and
        ``chosen`` (the published method).
    """
    return query_file("forecast_backtest", _series(metric, grain, segment_type, segment))


def forecast_accuracy(metric: str, grain: str, segment_type: str, segment: str) -> pl.DataFrame:
    """Past published forecasts of one series whose period is complete, against the actual.

    Args:
        metric: bookings, new_pipeline or mrr.
        grain: month or week.
        segment_type: total, region, team or product_line.
        segment: the segment's value.

    Returns:
        One row per forecast and period: the forecast, the actual, the error and whether
        the actual fell inside the 80 % and 95 % intervals.
    """
    return query_file("forecast_accuracy", _series(metric, grain, segment_type, segment))
