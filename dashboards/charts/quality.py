"""The Data quality page's charts: quarantined rows, freshness, empty fields, duplicates."""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboards.charts.generic import hbar
from dashboards.charts.style import COUNT, MUTED, PCT, scale, tip

STATUS = ["ok", "warn", "error", "empty"]
STATUS_COLORS = ["#2CA58D", "#E3B341", "#D1495B", "#B8BCC4"]
# Where marts.dq_freshness turns a table's status to warn and to error (48 and 168 hours).
_STATUS_DAYS = [2.0, 7.0]


def quarantined(frame: pl.DataFrame) -> alt.Chart:
    """Rows quarantined per table, stacked by reason (:func:`dashboards.queries.quality.quarantine`).

    Args:
        frame: :func:`dashboards.queries.quality.quarantine`.

    Returns:
        The chart.
    """
    return hbar(
        frame,
        "table_name",
        "rows",
        value_title="Rows quarantined",
        color="reason_code",
        fmt=COUNT,
        tooltip=[
            "table_name",
            "reason_code",
            tip("rows", "rows", ","),
            tip("share_of_input", "share of input", ".2%"),
            "sample_reason",
        ],
    )


def freshness(frame: pl.DataFrame) -> alt.LayerChart:
    """Age of each table's newest record in days, coloured by status, with the 2- and 7-day
    thresholds.

    Args:
        frame: :func:`dashboards.queries.quality.freshness` (``table_name``, ``hours_since``,
            ``freshness_status``, ``newest_at``, ``days_behind_data``).

    Returns:
        The chart.
    """
    aged = frame.with_columns(age_days=pl.col("hours_since") / 24)
    bars = (
        alt.Chart(aged)
        .mark_bar(cornerRadiusEnd=2)
        .encode(
            y=alt.Y("table_name:N", sort="-x", title=None),
            x=alt.X("age_days:Q", title="Days since the newest record (wall clock)"),
            color=alt.Color("freshness_status:N", scale=scale(STATUS, STATUS_COLORS), title=None),
            tooltip=[
                "table_name",
                "freshness_status",
                "newest_at",
                tip("age_days", "days old", ".1f"),
                tip("days_behind_data", "days behind the newest table", ".1f"),
            ],
        )
    )
    limits = (
        alt.Chart(pl.DataFrame({"days": _STATUS_DAYS}))
        .mark_rule(color=MUTED, strokeDash=[4, 4])
        .encode(x="days:Q")
    )
    return (bars + limits).properties(height=max(140, 24 * frame.height))


def empty_fields(frame: pl.DataFrame) -> alt.Chart:
    """Share of empty values per field (:func:`dashboards.processing.quality.emptiest`).

    Args:
        frame: :func:`dashboards.processing.quality.emptiest`.

    Returns:
        The chart.
    """
    return hbar(
        frame,
        "field",
        "null_rate",
        value_title="Empty",
        fmt=PCT,
        tooltip=[
            "field",
            "population",
            tip("null_rate", "empty", ".2%"),
            tip("nulls", "empty rows", ","),
        ],
    )


def pairs_by_rule(counts: pl.DataFrame) -> alt.Chart:
    """Duplicate pairs per matching rule, stacked by kind (``match_rule``, ``entity``, ``rows``).

    Args:
        counts: :func:`dashboards.processing.quality.pairs_by_rule`.

    Returns:
        The chart.
    """
    return hbar(
        counts,
        "match_rule",
        "rows",
        value_title="Pairs",
        color="entity",
        fmt=COUNT,
        tooltip=["entity", "match_rule", tip("rows", "pairs", ",")],
        height=160,
    )
