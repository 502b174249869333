"""The one chart style of the dashboards: fonts, axes, colours, number formats.

Colours carry meaning and mean the same on every page: grades A→D go from green to
grey, risk is orange-red; the colours of a page's own vocabulary (churn bands, freshness
statuses, alert severities) are set with that page's charts, in the same spirit. Money is
shown in SI notation (1.2M, 350k): amounts are in the CRM's own currency, which the data
does not name.
"""

from __future__ import annotations

import altair as alt
import streamlit as st

FONT = "Source Sans Pro, sans-serif"
INK = "#31333F"
MUTED = "#8A8D97"
PRIMARY = "#1F6FEB"
RISK = "#D1495B"
PALETTE = [
    "#1F6FEB",
    "#F28E2B",
    "#2CA58D",
    "#E15759",
    "#8E6BBF",
    "#76B7B2",
    "#EDC948",
    "#B07AA1",
    "#FF9DA7",
    "#9C755F",
]
GRADES = ["A", "B", "C", "D"]
GRADE_COLORS = ["#1A7F37", "#58A55C", "#E3B341", "#B8BCC4"]
MONEY = ".3~s"
MONTH = "%b %Y"
COUNT = ",.0f"
PCT = ".0%"
HEIGHT = 300


def show(chart: alt.TopLevelMixin, *, key: str | None = None) -> None:
    """Draw a chart in the page's style, as wide as its column.

    Args:
        chart: any Altair chart, unstyled.
        key: the element's key, when a page draws the same chart twice.
    """
    styled = (
        chart.configure(font=FONT, background="transparent")
        .configure_view(stroke=None)
        .configure_axis(
            labelColor=INK,
            titleColor=MUTED,
            titleFontWeight="normal",
            titleFontSize=12,
            labelFontSize=12,
            gridColor="#ECEDF0",
            domainColor="#D5D7DD",
            tickColor="#D5D7DD",
        )
        .configure_legend(
            orient="top",
            title=None,
            labelColor=INK,
            labelFontSize=12,
            symbolType="circle",
        )
        .configure_axisQuantitative(tickCount=6)
        .configure_range(category=PALETTE)
        .configure_title(anchor="start", color=INK, fontSize=14, fontWeight="normal")
    )
    st.altair_chart(styled, width="stretch", theme=None, key=key)


def scale(domain: list[str], colors: list[str]) -> alt.Scale:
    """A colour scale: each value of ``domain`` in the colour at the same place.

    Args:
        domain: the values.
        colors: their colours, in the same order.

    Returns:
        The scale, for an ``alt.Color``.
    """
    return alt.Scale(domain=domain, range=colors)


def grade_scale() -> alt.Scale:
    """Grades A→D, green to grey."""
    return scale(GRADES, GRADE_COLORS)


def tip(
    field: str, title: str | None = None, fmt: str | None = None, kind: str = "Q"
) -> alt.Tooltip:
    """A tooltip line.

    Args:
        field: the column.
        title: its name for people (the column's name if None).
        fmt: a d3 number or date format.
        kind: the Vega-Lite type letter (Q, N, O, T).

    Returns:
        The tooltip entry.
    """
    return alt.Tooltip(f"{field}:{kind}", title=title or field, format=fmt or alt.Undefined)
