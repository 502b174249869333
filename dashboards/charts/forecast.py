"""The Forecast page's charts: the forecast with its intervals, past forecasts against the
actuals, the quarter's scenarios, and backtest errors by horizon."""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboards.charts.style import HEIGHT, INK, MONEY, MONTH, PRIMARY
from dashboards.processing.forecast import SCENARIO_ORDER

_SCENARIO_COLORS = ["#8A8D97", "#2CA58D", PRIMARY, "#8E6BBF"]


def forecast(history: pl.DataFrame, ahead: pl.DataFrame, *, y_title: str) -> alt.LayerChart:
    """Actuals as a line, the forecast as a dashed line inside its 80 % and 95 % bands.

    Args:
        history: ``period``, ``actual``.
        ahead: ``period``, ``point``, ``lo80``, ``hi80``, ``lo95``, ``hi95``.
        y_title: the value axis' title.

    Returns:
        The chart.
    """
    x = alt.X("period:T", title=None, axis=alt.Axis(format=MONTH))
    band95 = (
        alt.Chart(ahead)
        .mark_area(opacity=0.15, color=PRIMARY)
        .encode(x=x, y=alt.Y("lo95:Q", title=y_title, axis=alt.Axis(format=MONEY)), y2="hi95:Q")
    )
    band80 = (
        alt.Chart(ahead).mark_area(opacity=0.3, color=PRIMARY).encode(x=x, y="lo80:Q", y2="hi80:Q")
    )
    point = (
        alt.Chart(ahead)
        .mark_line(strokeDash=[6, 4], point=True, color=PRIMARY)
        .encode(
            x=x,
            y="point:Q",
            tooltip=[
                alt.Tooltip("period:T"),
                alt.Tooltip("point:Q", title="forecast", format=",.0f"),
                alt.Tooltip("lo80:Q", title="80 % low", format=",.0f"),
                alt.Tooltip("hi80:Q", title="80 % high", format=",.0f"),
                alt.Tooltip("lo95:Q", title="95 % low", format=",.0f"),
                alt.Tooltip("hi95:Q", title="95 % high", format=",.0f"),
            ],
        )
    )
    actual = (
        alt.Chart(history)
        .mark_line(point=True, color=INK)
        .encode(
            x=x,
            y="actual:Q",
            tooltip=[alt.Tooltip("period:T"), alt.Tooltip("actual:Q", format=",.0f")],
        )
    )
    return (band95 + band80 + actual + point).properties(height=HEIGHT + 40)


def past_forecasts(frame: pl.DataFrame) -> alt.LayerChart:
    """Published forecasts of complete periods (point and 80 % interval) against the actual.

    Args:
        frame: :func:`dashboards.queries.forecast.forecast_accuracy`.

    Returns:
        The chart.
    """
    x = alt.X("period:T", title=None, axis=alt.Axis(format=MONTH))
    rule = (
        alt.Chart(frame)
        .mark_rule(color=PRIMARY, opacity=0.5, strokeWidth=3)
        .encode(
            x=x,
            y=alt.Y("lo80:Q", axis=alt.Axis(format=MONEY), title="Forecast vs actual"),
            y2="hi80:Q",
        )
    )
    point = alt.Chart(frame).mark_tick(color=PRIMARY, thickness=2, size=14).encode(x=x, y="point:Q")
    actual = (
        alt.Chart(frame)
        .mark_point(shape="diamond", filled=True, color=INK, size=70)
        .encode(
            x=x,
            y="actual:Q",
            tooltip=[
                alt.Tooltip("period:T"),
                alt.Tooltip("horizon:Q", title="months ahead"),
                alt.Tooltip("point:Q", title="forecast", format=",.0f"),
                alt.Tooltip("actual:Q", format=",.0f"),
                alt.Tooltip("within80:N", title="inside 80 %"),
            ],
        )
    )
    return (rule + point + actual).properties(height=HEIGHT)


def scenarios(frame: pl.DataFrame) -> alt.Chart:
    """Commit / most likely / best case per quarter, with the amount already closed.

    Args:
        frame: :func:`dashboards.processing.forecast.scenarios`.

    Returns:
        The chart.
    """
    return (
        alt.Chart(frame)
        .mark_bar(cornerRadiusEnd=2)
        .encode(
            x=alt.X("quarter:N", title=None, axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("scenario:N", sort=SCENARIO_ORDER),
            y=alt.Y("amount:Q", title="Bookings", axis=alt.Axis(format=MONEY)),
            color=alt.Color(
                "scenario:N",
                scale=alt.Scale(domain=SCENARIO_ORDER, range=_SCENARIO_COLORS),
                title=None,
            ),
            tooltip=["quarter", "scenario", alt.Tooltip("amount:Q", format=",.0f"), "description"],
        )
        .properties(height=HEIGHT)
    )


def accuracy_by_horizon(frame: pl.DataFrame, *, value: str, title: str, fmt: str) -> alt.Chart:
    """An error measure by horizon, one line per method (the chosen one bold).

    Args:
        frame: :func:`dashboards.queries.forecast.forecast_backtest`.
        value: the error column.
        title: its axis title.
        fmt: its number format.

    Returns:
        The chart.
    """
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("horizon:O", title="Periods ahead", axis=alt.Axis(labelAngle=0)),
            y=alt.Y(f"{value}:Q", title=title, axis=alt.Axis(format=fmt)),
            color=alt.Color("method:N", title=None),
            strokeWidth=alt.condition("datum.chosen", alt.value(3.5), alt.value(1.2)),
            tooltip=["method", "horizon", alt.Tooltip(f"{value}:Q", format=".3f"), "origins"],
        )
        .properties(height=HEIGHT)
    )
