"""The Campaigns page's charts: credited revenue, the attribution models compared, and
each campaign's cost against its return."""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboards.charts.generic import grouped_bars, hbar
from dashboards.charts.style import HEIGHT, MONEY, MUTED, tip


def credited_revenue(by: pl.DataFrame, level: str) -> alt.Chart:
    """Credited revenue per campaign or channel, the 15 largest.

    Args:
        by: :func:`dashboards.processing.campaigns.attribution_by` of one model.
        level: ``name`` or ``channel``.

    Returns:
        The chart.
    """
    return hbar(
        by.head(15),
        level,
        "revenue",
        value_title="Credited revenue",
        tooltip=[
            level,
            tip("revenue", "revenue", ",.0f"),
            tip("pipeline", "pipeline", ",.0f"),
        ],
    )


def models_compared(by_channel: pl.DataFrame) -> alt.Chart:
    """Credited revenue per channel under each attribution model, side by side.

    Args:
        by_channel: :func:`dashboards.processing.campaigns.attribution_by` per channel,
            every model.

    Returns:
        The chart.
    """
    return grouped_bars(by_channel, "channel", "revenue", "model", y_title="Credited revenue")


def cost_vs_revenue(frame: pl.DataFrame) -> alt.LayerChart:
    """Campaigns by cost and credited revenue (log axes, both positive), with the
    break-even diagonal: above it, a campaign paid for itself.

    Args:
        frame: :func:`dashboards.processing.campaigns.under_model` (name, channel, cost,
            revenue, roi).

    Returns:
        The chart.
    """
    positive = frame.filter((pl.col("cost") > 0) & (pl.col("revenue") > 0))
    low = float(min(positive["cost"].min() or 1, positive["revenue"].min() or 1))
    high = float(max(positive["cost"].max() or 1, positive["revenue"].max() or 1))
    log = alt.Scale(type="log")
    even = (
        alt.Chart(pl.DataFrame({"v": [low, high]}))
        .mark_line(color=MUTED, strokeDash=[4, 4])
        .encode(x=alt.X("v:Q", scale=log), y=alt.Y("v:Q", scale=log))
    )
    dots = (
        alt.Chart(positive)
        .mark_circle(opacity=0.75, size=90, stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("cost:Q", title="Cost", scale=log, axis=alt.Axis(format=MONEY)),
            y=alt.Y("revenue:Q", title="Credited revenue", scale=log, axis=alt.Axis(format=MONEY)),
            color=alt.Color("channel:N", title=None),
            tooltip=[
                "name",
                "channel",
                tip("cost", "cost", ",.0f"),
                tip("revenue", "credited revenue", ",.0f"),
                tip("roi", "ROI", ".0%"),
            ],
        )
    )
    return (even + dots).properties(height=HEIGHT)
