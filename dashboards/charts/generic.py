"""The chart shapes every page uses: bars (horizontal, over time, grouped), lines, dots."""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboards.charts.style import HEIGHT, MONEY, MONTH, PRIMARY, tip


def _color(color: str | None, scale: alt.Scale | None, default: str) -> alt.Color | dict:
    """Colour by the ``color`` column (with ``scale``), else all in ``default``."""
    if color:
        return alt.Color(f"{color}:N", scale=scale or alt.Undefined, title=None)
    return alt.value(default)


def hbar(
    frame: pl.DataFrame,
    category: str,
    value: str,
    *,
    value_title: str,
    category_title: str | None = None,
    color: str | None = None,
    scale: alt.Scale | None = None,
    bar_color: str = PRIMARY,
    fmt: str = MONEY,
    sort: list[str] | str = "-x",
    tooltip: list | None = None,
    height: int | None = None,
) -> alt.Chart:
    """Horizontal bars, one per category (stacked by ``color`` if given).

    Args:
        frame: the rows; ``value`` is summed per category.
        category: the column of the bars.
        value: the column of their length.
        value_title: the value axis' title.
        category_title: the category axis' title (none by default).
        color: a column to stack and colour by.
        scale: its colour scale.
        bar_color: the bars' colour without ``color``.
        fmt: the value axis' number format.
        sort: the categories' order (a list, or an Altair sort such as "-x").
        tooltip: the tooltip (the category and the value by default).
        height: pixels (by default 26 a bar, from 120 to 520).

    Returns:
        The chart, to draw with :func:`dashboards.charts.style.show`.
    """
    rows = frame[category].n_unique() if frame.height else 1
    return (
        alt.Chart(frame)
        .mark_bar(cornerRadiusEnd=2)
        .encode(
            y=alt.Y(f"{category}:N", sort=sort, title=category_title),
            x=alt.X(f"sum({value}):Q", title=value_title, axis=alt.Axis(format=fmt)),
            color=_color(color, scale, bar_color),
            tooltip=tooltip or [category, alt.Tooltip(f"sum({value}):Q", format=",.0f")],
        )
        .properties(height=height or max(120, min(26 * rows, 520)))
    )


def time_bars(
    frame: pl.DataFrame,
    x: str,
    y: str,
    *,
    y_title: str,
    color: str | None = None,
    scale: alt.Scale | None = None,
    fmt: str = MONEY,
    unit: str = "yearmonth",
    tooltip: list | None = None,
) -> alt.Chart:
    """Bars over time (monthly by default), stacked by ``color`` if given.

    Args:
        frame: the rows; ``y`` is summed per time unit.
        x: the date column.
        y: the value column.
        y_title: the value axis' title.
        color: a column to stack and colour by.
        scale: its colour scale.
        fmt: the value axis' number format.
        unit: the Vega-Lite time unit of a bar.
        tooltip: the tooltip (the period and the value by default).

    Returns:
        The chart.
    """
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(f"{unit}({x}):O", title=None, axis=alt.Axis(labelAngle=-40)),
            y=alt.Y(f"sum({y}):Q", title=y_title, axis=alt.Axis(format=fmt)),
            color=_color(color, scale, PRIMARY),
            tooltip=tooltip
            or [alt.Tooltip(f"{unit}({x}):O"), alt.Tooltip(f"sum({y}):Q", format=",.0f")],
        )
        .properties(height=HEIGHT)
    )


def line(
    frame: pl.DataFrame,
    x: str,
    y: str,
    *,
    y_title: str,
    color: str | None = None,
    fmt: str = MONEY,
    x_type: str = "T",
    tooltip: list | None = None,
) -> alt.Chart:
    """A line with points (one per ``color`` if given).

    Args:
        frame: the rows.
        x: the x column (dates by default, shown as months).
        y: the value column.
        y_title: the value axis' title.
        color: a column with one line per value.
        fmt: the value axis' number format.
        x_type: the x column's Vega-Lite type letter.
        tooltip: the tooltip (x and y by default).

    Returns:
        The chart.
    """
    enc = {
        "x": alt.X(
            f"{x}:{x_type}",
            title=None,
            axis=alt.Axis(format=MONTH) if x_type == "T" else alt.Undefined,
        ),
        "y": alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=fmt)),
        "tooltip": tooltip or [alt.Tooltip(f"{x}:{x_type}"), alt.Tooltip(f"{y}:Q", format=",.2f")],
    }
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=None)
    else:
        enc["color"] = alt.value(PRIMARY)
    return (
        alt.Chart(frame)
        .mark_line(point=True, strokeWidth=2)
        .encode(**enc)
        .properties(height=HEIGHT)
    )


def scatter(
    frame: pl.DataFrame,
    x: str,
    y: str,
    *,
    x_title: str,
    y_title: str,
    color: str | None = None,
    scale: alt.Scale | None = None,
    size: str | None = None,
    tooltip: list | None = None,
    x_fmt: str = MONEY,
    y_fmt: str = MONEY,
    log_x: bool = False,
    log_y: bool = False,
) -> alt.Chart:
    """Dots; ``log_x``/``log_y`` spread skewed amounts (positive values only).

    Args:
        frame: one row per dot.
        x: the x column.
        y: the y column.
        x_title: the x axis' title.
        y_title: the y axis' title.
        color: a column to colour by.
        scale: its colour scale.
        size: a column to size the dots by.
        tooltip: the tooltip (x and y by default).
        x_fmt: the x axis' number format.
        y_fmt: the y axis' number format.
        log_x: a log x axis.
        log_y: a log y axis.

    Returns:
        The chart.
    """
    enc = {
        "x": alt.X(
            f"{x}:Q",
            title=x_title,
            scale=alt.Scale(type="log" if log_x else "linear"),
            axis=alt.Axis(format=x_fmt),
        ),
        "y": alt.Y(
            f"{y}:Q",
            title=y_title,
            scale=alt.Scale(type="log" if log_y else "linear"),
            axis=alt.Axis(format=y_fmt),
        ),
        "tooltip": tooltip or [x, y],
    }
    enc["color"] = _color(color, scale, PRIMARY)
    if size:
        enc["size"] = alt.Size(f"{size}:Q", legend=None, scale=alt.Scale(range=[20, 400]))
    return (
        alt.Chart(frame)
        .mark_circle(opacity=0.7, stroke="white", strokeWidth=0.5)
        .encode(**enc)
        .properties(height=HEIGHT + 60)
    )


def grouped_bars(
    frame: pl.DataFrame, category: str, value: str, group: str, *, y_title: str, fmt: str = MONEY
) -> alt.Chart:
    """Bars side by side: one group of bars per category, one bar per ``group``.

    Args:
        frame: one row per category and group.
        category: the column of the groups of bars.
        value: the column of the bars' height.
        group: the column of the bars within a group (and their colour).
        y_title: the value axis' title.
        fmt: the value axis' number format.

    Returns:
        The chart.
    """
    return (
        alt.Chart(frame)
        .mark_bar(cornerRadiusEnd=2)
        .encode(
            x=alt.X(f"{category}:N", title=None, axis=alt.Axis(labelAngle=-30)),
            xOffset=alt.XOffset(f"{group}:N"),
            y=alt.Y(f"{value}:Q", title=y_title, axis=alt.Axis(format=fmt)),
            color=alt.Color(f"{group}:N", title=None),
            tooltip=[category, group, tip(value, y_title, ",.0f")],
        )
        .properties(height=HEIGHT)
    )
