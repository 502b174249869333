"""The Team page's processing: the reps who did something, ranked, and the weekday × hour
grid of activity."""

from __future__ import annotations

import polars as pl

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def active_reps(board: pl.DataFrame) -> pl.DataFrame:
    """The reps who closed a deal or logged an activity in the period.

    Args:
        board: :func:`dashboards.queries.team.leaderboard`.

    Returns:
        The reps with a closed deal or an activity.
    """
    return board.filter((pl.col("closed") > 0) | (pl.col("activities") > 0))


def ranked(board: pl.DataFrame, by: str) -> pl.DataFrame:
    """The reps, best first by ``by`` (reps without a value last).

    Args:
        board: reps.
        by: the column to rank by.

    Returns:
        The reps, best first.
    """
    return board.sort(by, descending=True, nulls_last=True)


def heatmap(frame: pl.DataFrame) -> pl.DataFrame:
    """Every weekday × hour cell (zeros included), with weekday names.

    Args:
        frame: :func:`dashboards.queries.team.activity_heatmap`.

    Returns:
        ``weekday``, ``hour``, ``activities``, ``hours``, ``weekday_name``, 168 rows.
    """
    grid = pl.DataFrame({"weekday": list(range(1, 8))}).join(
        pl.DataFrame({"hour": list(range(24))}), how="cross"
    )
    typed = frame.with_columns(pl.col("weekday").cast(pl.Int64), pl.col("hour").cast(pl.Int64))
    return (
        grid.join(typed, on=["weekday", "hour"], how="left")
        .with_columns(
            pl.col("activities").fill_null(0),
            pl.col("hours").fill_null(0.0),
            weekday_name=pl.col("weekday").replace_strict(dict(enumerate(WEEKDAYS, start=1))),
        )
        .sort("weekday", "hour")
    )


def busiest(frame: pl.DataFrame) -> str | None:
    """The busiest weekday and hour.

    Args:
        frame: :func:`heatmap`.

    Returns:
        The weekday and hour, e.g. 'Tue 10:00'; None without activity.
    """
    if frame.is_empty() or frame["activities"].sum() == 0:
        return None
    top = frame.sort("activities", descending=True).row(0, named=True)
    return f"{WEEKDAYS[top['weekday'] - 1]} {top['hour']:02d}:00"


def earning(per_hour: pl.DataFrame) -> pl.DataFrame:
    """The clients with revenue and logged hours: the chart's axes are logarithmic.

    Args:
        per_hour: :func:`dashboards.queries.team.revenue_per_hour`.

    Returns:
        The clients with revenue and hours above 0.
    """
    return per_hour.filter((pl.col("revenue") > 0) & (pl.col("hours") > 0))
