"""The Overview page's charts: bookings and MRR by month, open alerts by kind."""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboards.charts.generic import hbar, line, time_bars
from dashboards.charts.style import COUNT, scale, tip

SEVERITIES = ["high", "medium"]
SEVERITY_COLORS = ["#D1495B", "#F28E2B"]


def bookings_by_month(frame: pl.DataFrame) -> alt.Chart:
    """Bookings per month (``month``, ``bookings``, ``won``, ``closed``, ``win_rate``).

    Args:
        frame: :func:`dashboards.processing.overview.with_win_rate`.

    Returns:
        The chart.
    """
    return time_bars(
        frame,
        "month",
        "bookings",
        y_title="Bookings",
        tooltip=[
            tip("month", "month", "%b %Y", "T"),
            tip("bookings", "bookings", ",.0f"),
            tip("won", "deals won"),
            tip("closed", "deals closed"),
            tip("win_rate", "win rate", ".0%"),
        ],
    )


def mrr(frame: pl.DataFrame) -> alt.Chart:
    """MRR at each month's end (``month``, ``mrr``).

    Args:
        frame: :func:`dashboards.queries.overview.monthly_mrr`.

    Returns:
        The chart.
    """
    return line(frame, "month", "mrr", y_title="MRR")


def alerts_by_kind(counts: pl.DataFrame) -> alt.Chart:
    """Open alerts per kind, stacked by severity (``kind_label``, ``severity``, ``alerts``).

    Args:
        counts: :func:`dashboards.processing.overview.alert_counts`.

    Returns:
        The chart.
    """
    return hbar(
        counts,
        "kind_label",
        "alerts",
        value_title="Open alerts",
        color="severity",
        scale=scale(SEVERITIES, SEVERITY_COLORS),
        fmt=COUNT,
        tooltip=[
            tip("kind_label", "alert", kind="N"),
            tip("severity", "severity", kind="N"),
            tip("alerts", "alerts", ","),
        ],
    )
