"""What "now" means for the data.

A warehouse holds the CRM as of its last export, which may lie days or years
behind the wall clock (the synthetic CRM ends on 2026-10-31; the bank data in
2010). Scoring, aging and risk flags are judged as of the data's own "today": the
start of the day after the newest event or activity, but never later than the
wall clock. The setting ``as_of`` (``CRMLENS_AS_OF``, YYYY-MM-DD) pins it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb

from crmlens.warehouse import fetch_one, table_exists

_CANDIDATES = (
    ("raw", "events", "occurred_at"),
    ("raw", "activities", "occurred_at"),
    ("raw", "opportunity_stage_history", "changed_at"),
    ("raw", "leads", "updated_at"),
    ("raw", "subscriptions", "started_at"),
    ("raw", "accounts", "updated_at"),
)


def utc_now() -> datetime:
    """The wall clock in UTC, naive: how the warehouse stores every timestamp."""
    return datetime.now(UTC).replace(tzinfo=None)


def data_today(con: duckdb.DuckDBPyConnection, pinned: datetime | None = None) -> datetime:
    """The data's "today".

    Args:
        con: a connection to the warehouse or a snapshot of it.
        pinned: the settings' ``as_of``; when set, it is the answer.

    Returns:
        Midnight (UTC, naive) after the newest activity in the warehouse, capped at now.
    """
    if pinned is not None:
        return pinned
    now = utc_now()
    newest = None
    for schema, table, column in _CANDIDATES:
        if not table_exists(con, schema, table):
            continue
        row = fetch_one(
            con, f"select max({column}) from {schema}.{table} where {column} <= ?", [now]
        )
        if row and row[0] is not None:
            newest = row[0] if newest is None else max(newest, row[0])
    if newest is None:
        return datetime(now.year, now.month, now.day)
    day = datetime(newest.year, newest.month, newest.day) + timedelta(days=1)
    return min(day, now)
