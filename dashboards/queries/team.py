"""The Team page's queries: the reps' results, when they work, and where their time goes."""

from __future__ import annotations

import polars as pl

from dashboards.data import query_file


def leaderboard(params: dict) -> pl.DataFrame:
    """Per rep over the months of the period: deals, bookings, win rate, activity.

    Args:
        params: the filters' parameters (:meth:`dashboards.filters.Filters.params`).

    Returns:
        One row per rep, most bookings first.
    """
    return query_file("leaderboard", params)


def activity_heatmap(params: dict) -> pl.DataFrame:
    """Activities by weekday and hour (UTC), over the reps in scope, all history.

    Args:
        params: the filters' parameters.

    Returns:
        ``weekday`` (1 = Monday), ``hour``, ``activities``, ``hours``; cells without
        activity are absent.
    """
    return query_file("activity_heatmap", params)


def time_per_client(params: dict, top: int = 15) -> pl.DataFrame:
    """The ``top`` accounts by hours logged in the period, hours split by activity type.

    Args:
        params: the filters' parameters.
        top: how many accounts.

    Returns:
        ``account_id``, ``account``, ``activity_type``, ``hours``, ``cost``, ``activities``.
    """
    return query_file("time_per_client", params | {"top": top})


def revenue_per_hour(params: dict) -> pl.DataFrame:
    """Accounts with logged time: hours, revenue and revenue per hour (all history).

    Args:
        params: the filters' parameters.

    Returns:
        One row per account, the highest revenue per hour first.
    """
    return query_file("revenue_per_hour", params)
