"""The Customers page's charts: churn risk against MRR, MRR by risk band, renewals, and
the MRR bridge."""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboards.charts.generic import hbar, scatter
from dashboards.charts.style import HEIGHT, INK, MONEY, scale, tip
from dashboards.processing.customers import RISK_LEVELS

RISK_COLORS = ["#D1495B", "#F28E2B", "#8FB8DE"]  # high, medium, low risk
MOVEMENTS = ["new", "expansion", "reactivation", "contraction", "churn"]
MOVEMENT_COLORS = ["#1A7F37", "#58A55C", "#76B7B2", "#F28E2B", "#D1495B"]


def risk_scale() -> alt.Scale:
    """Churn bands in words, high risk red to low risk blue."""
    return scale(list(RISK_LEVELS.values()), RISK_COLORS)


def risk_vs_mrr(scored: pl.DataFrame) -> alt.Chart:
    """Each paying customer: its MRR (log) against its churn risk, coloured by band.

    Args:
        scored: :func:`dashboards.queries.customers.churn_risk` with ``risk`` and ``why``.

    Returns:
        The chart.
    """
    return scatter(
        scored.filter(pl.col("mrr") > 0),
        "mrr",
        "churn_risk",
        x_title="MRR",
        y_title="Churn risk (0-100)",
        color="risk",
        scale=risk_scale(),
        y_fmt="d",
        tooltip=[
            "account",
            "owner",
            tip("mrr", "MRR", ",.0f"),
            "churn_risk",
            "why",
            "next_action",
        ],
        log_x=True,
    )


def mrr_by_risk(scored: pl.DataFrame) -> alt.Chart:
    """Current MRR per churn band (``risk``, ``mrr``).

    Args:
        scored: customers with ``risk`` (their band in words) and ``mrr``.

    Returns:
        The chart.
    """
    return hbar(
        scored,
        "risk",
        "mrr",
        value_title="MRR",
        color="risk",
        scale=risk_scale(),
        sort=list(RISK_LEVELS.values()),
        height=180,
    )


def mrr_bridge(frame: pl.DataFrame) -> alt.LayerChart:
    """MRR movements per month (gains up, losses down) and the net change as a line.

    ``frame``: month, movement, amount (signed), and net per month.

    Args:
        frame: :func:`dashboards.processing.customers.mrr_bridge` (month, movement, signed
            amount, net).

    Returns:
        The chart.
    """
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):O", title=None, axis=alt.Axis(labelAngle=-40)),
            y=alt.Y("amount:Q", title="MRR change", axis=alt.Axis(format=MONEY)),
            color=alt.Color("movement:N", scale=scale(MOVEMENTS, MOVEMENT_COLORS), title=None),
            tooltip=[
                alt.Tooltip("yearmonth(month):O", title="month"),
                "movement",
                alt.Tooltip("amount:Q", format=",.0f"),
            ],
        )
    )
    net = (
        alt.Chart(frame)
        .mark_line(color=INK, point=True)
        .encode(
            x="yearmonth(month):O",
            y="mean(net):Q",
            tooltip=[
                alt.Tooltip("yearmonth(month):O", title="month"),
                alt.Tooltip("mean(net):Q", title="net change", format=",.0f"),
            ],
        )
    )
    return (bars + net).properties(height=HEIGHT)


def renewals_timeline(frame: pl.DataFrame) -> alt.Chart:
    """Renewals by date: MRR up the y axis (log), coloured by churn band, sized by risk.

    Args:
        frame: renewals with MRR > 0 and a churn band (``risk``) and ``why``.

    Returns:
        The chart.
    """
    return (
        alt.Chart(frame)
        .mark_circle(opacity=0.8, stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("renewal_date:T", title="Renewal date"),
            y=alt.Y("mrr:Q", title="MRR", scale=alt.Scale(type="log"), axis=alt.Axis(format=MONEY)),
            color=alt.Color("risk:N", scale=risk_scale(), title=None),
            size=alt.Size("churn_risk:Q", legend=None, scale=alt.Scale(range=[30, 400])),
            tooltip=[
                "account",
                "plan",
                alt.Tooltip("mrr:Q", format=",.0f"),
                "renewal_date",
                "churn_risk",
                "why",
            ],
        )
        .properties(height=HEIGHT)
    )
