"""What the shared sidebar needs from the data: the data's today and the users."""

from __future__ import annotations

from datetime import date

import polars as pl

from dashboards.data import DataUnavailable, query_file


def data_today() -> date:
    """The data's "today" (the marts' as-of date).

    The marts define it once (``marts.dim_data_today``): the filters' default period ends
    on the day the marts measure ages at.

    Returns:
        The as-of date; the wall clock's date when there is no data yet.
    """
    try:
        frame = query_file("data_today")
    except DataUnavailable:
        return date.today()
    value = frame["d"][0] if frame.height else None
    return value or date.today()


def users() -> pl.DataFrame:
    """Users that can own things, for the owner and team filters.

    Returns:
        One row per user: ``user_id``, ``label`` (the name, else the id), ``team_name``,
        ``role``, ordered by label.
    """
    return query_file("users")
