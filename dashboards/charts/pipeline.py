"""The Pipeline page's charts: open deals by stage and age, the funnel, velocity, cycle
length, and the value at risk per flag (the Overview shows the open deals by stage)."""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboards.charts.generic import hbar, line
from dashboards.charts.style import HEIGHT, INK, MONEY, PCT, PRIMARY, RISK, tip


def open_by_stage(stages: pl.DataFrame, *, with_age: bool = False) -> alt.Chart:
    """Open value per stage, in process order (``stage``, ``deals``, ``amount``).

    Args:
        stages: :func:`dashboards.processing.pipeline.stage_frame` of the open deals.
        with_age: also tell the stage's average age (``avg_age_days``) in the tooltip.

    Returns:
        The chart.
    """
    tooltip = ["stage", "deals", tip("amount", "value", ",.0f")]
    if with_age:
        tooltip.append(tip("avg_age_days", "average age (days)", ".0f"))
    return hbar(
        stages,
        "stage",
        "amount",
        value_title="Open pipeline",
        sort=stages["stage"].to_list(),
        tooltip=tooltip,
    )


def funnel(frame: pl.DataFrame) -> alt.LayerChart:
    """Stage funnel: deals reaching each stage, labelled with the step conversion.

    Args:
        frame: :func:`dashboards.processing.pipeline.funnel` (stage, stage_order, deals,
            step_rate, amount, label).

    Returns:
        The chart.
    """
    base = alt.Chart(frame).encode(
        y=alt.Y("stage:N", sort=alt.EncodingSortField("stage_order"), title=None),
    )
    bars = base.mark_bar(color=PRIMARY, cornerRadiusEnd=2).encode(
        x=alt.X("deals:Q", title="Deals that reached the stage"),
        tooltip=[
            "stage",
            alt.Tooltip("deals:Q", format=","),
            alt.Tooltip("step_rate:Q", title="from previous stage", format=PCT),
            alt.Tooltip("amount:Q", title="value", format=",.0f"),
        ],
    )
    labels = base.mark_text(align="left", dx=4, color=INK).encode(
        x="deals:Q", text=alt.Text("label:N")
    )
    return (bars + labels).properties(height=230)


def velocity(frame: pl.DataFrame) -> alt.Chart:
    """Average days in each stage (``stage``, ``avg_days_in_stage``), in process order.

    Args:
        frame: :func:`dashboards.processing.pipeline.velocity`.

    Returns:
        The chart.
    """
    return hbar(
        frame,
        "stage",
        "avg_days_in_stage",
        value_title="Average days in stage",
        fmt=".0f",
        sort=frame["stage"].to_list(),
        tooltip=["stage", tip("avg_days_in_stage", "days", ".1f")],
    )


def cycle(frame: pl.DataFrame) -> alt.Chart:
    """Median days to win by month of closing (``month``, ``won``, median and average).

    Args:
        frame: :func:`dashboards.queries.pipeline.cycle_by_month`.

    Returns:
        The chart.
    """
    return line(
        frame,
        "month",
        "median_cycle_days",
        y_title="Median days to win",
        fmt=".0f",
        tooltip=[
            tip("month", "month", None, "T"),
            "won",
            tip("median_cycle_days", "median days", ".0f"),
            tip("avg_cycle_days", "average days", ".0f"),
        ],
    )


def aging(frame: pl.DataFrame, buckets: list[str]) -> alt.Chart:
    """Open value by age bucket, stacked by stage.

    Args:
        frame: ``age_bucket``, ``stage``, ``stage_order``, ``deals``, ``amount``.
        buckets: the age buckets in order.

    Returns:
        The chart.
    """
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("age_bucket:N", sort=buckets, title="Open for", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("sum(amount):Q", title="Open pipeline", axis=alt.Axis(format=MONEY)),
            color=alt.Color("stage:N", title=None, sort=alt.EncodingSortField("stage_order")),
            order=alt.Order("stage_order:Q"),
            tooltip=[
                "age_bucket",
                "stage",
                tip("deals", "deals", ","),
                tip("amount", "value", ",.0f"),
            ],
        )
        .properties(height=HEIGHT - 40)
    )


def value_at_risk(summary: pl.DataFrame) -> alt.Chart:
    """Value of the deals with each risk flag (``risk``, ``deals``, ``amount``).

    Args:
        summary: :func:`dashboards.processing.pipeline.risk_summary`.

    Returns:
        The chart.
    """
    return hbar(
        summary,
        "risk",
        "amount",
        value_title="Value of the deals with the flag",
        bar_color=RISK,
        tooltip=["risk", "deals", tip("amount", "value", ",.0f")],
        height=160,
    )
