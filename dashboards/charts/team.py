"""The Team page's charts: the rep leaderboard, when the team works, time per client and
revenue per hour."""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboards.charts.generic import hbar, scatter
from dashboards.charts.style import COUNT, MONEY, PCT, tip

_RANK_FORMATS = {"bookings": MONEY, "win_rate": PCT}


def leaderboard(top: pl.DataFrame, rank: str, title: str) -> alt.Chart:
    """The reps by ``rank``, coloured by team.

    Args:
        top: :func:`dashboards.queries.team.leaderboard` rows, best first.
        rank: the column they are ranked by.
        title: its name for people.

    Returns:
        The chart.
    """
    return hbar(
        top,
        "rep",
        rank,
        value_title=title,
        color="team",
        fmt=_RANK_FORMATS.get(rank, COUNT),
        sort="-x",
        tooltip=[
            "rep",
            "team",
            tip("bookings", "bookings", ",.0f"),
            "won",
            tip("win_rate", "win rate", ".0%"),
            "activities",
        ],
    )


def heatmap(frame: pl.DataFrame) -> alt.Chart:
    """Weekday × hour of activities (``weekday_name``, ``weekday``, ``hour``, ``activities``).

    Args:
        frame: :func:`dashboards.processing.team.heatmap` (every weekday × hour cell).

    Returns:
        The chart.
    """
    return (
        alt.Chart(frame)
        .mark_rect(cornerRadius=2)
        .encode(
            x=alt.X("hour:O", title="Hour of day (UTC)", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("weekday_name:N", sort=alt.EncodingSortField("weekday"), title=None),
            color=alt.Color(
                "activities:Q", scale=alt.Scale(scheme="blues"), title="Activities", legend=None
            ),
            tooltip=[
                alt.Tooltip("weekday_name:N", title="day"),
                "hour:O",
                alt.Tooltip("activities:Q", format=","),
                alt.Tooltip("hours:Q", title="hours logged", format=",.0f"),
            ],
        )
        .properties(height=240)
    )


def time_per_client(frame: pl.DataFrame) -> alt.Chart:
    """Hours per client, stacked by kind of activity (:func:`dashboards.queries.team.time_per_client`).

    Args:
        frame: :func:`dashboards.queries.team.time_per_client`.

    Returns:
        The chart.
    """
    return hbar(
        frame,
        "account",
        "hours",
        value_title="Hours",
        color="activity_type",
        fmt=",.0f",
        tooltip=[
            "account",
            "activity_type",
            tip("hours", "hours", ",.1f"),
            tip("cost", "cost", ",.0f"),
        ],
    )


def revenue_per_hour(frame: pl.DataFrame) -> alt.Chart:
    """Each client: hours logged against revenue (log axes), coloured by segment.

    Args:
        frame: :func:`dashboards.processing.team.earning`.

    Returns:
        The chart.
    """
    return scatter(
        frame,
        "hours",
        "revenue",
        x_title="Hours logged",
        y_title="Revenue",
        color="tier",
        x_fmt=",.0f",
        tooltip=[
            "account",
            "tier",
            tip("hours", "hours", ",.1f"),
            tip("revenue", "revenue", ",.0f"),
            tip("revenue_per_hour", "revenue per hour", ",.0f"),
        ],
        log_x=True,
        log_y=True,
    )
