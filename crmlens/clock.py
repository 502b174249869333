"""What "now" means for the data.

A warehouse holds the CRM as of its last export, which may lie days or years
behind the wall clock (the synthetic CRM ends on 2026-10-31; the bank data in
2010). Scoring, aging and risk flags are judged as of the data's own "today". In
order of precedence:

1. the setting ``as_of`` (``CRMLENS_AS_OF``, YYYY-MM-DD);
2. the source spec's ``as_of`` (the export date), which ingest records in
   ``ops.source_settings``;
3. from the data: the start of the day after the newest timestamp of what happened
   (events, activities, stage changes, lead and deal changes, subscriptions, invoices,
   tickets, account changes), but never later than the wall clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb

from crmlens import sql
from crmlens.warehouse import fetch_one, table_exists

_CANDIDATES = (
    ("raw", "events", "occurred_at"),
    ("raw", "activities", "occurred_at"),
    ("raw", "opportunity_stage_history", "changed_at"),
    ("raw", "leads", "updated_at"),
    ("raw", "opportunities", "updated_at"),
    ("raw", "subscriptions", "started_at"),
    ("raw", "invoices", "issued_at"),
    ("raw", "tickets", "created_at"),
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
        The pinned moment, else the source's export date, else midnight (UTC, naive)
        after the newest activity in the warehouse, capped at now.
    """
    if pinned is not None:
        return pinned
    declared = source_as_of(con)
    if declared is not None:
        return declared
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


def source_as_of(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The export date the source's spec declared (``as_of``), as ingest recorded it.

    Args:
        con: a connection to the warehouse or a snapshot of it.

    Returns:
        Its midnight, or None when the spec left it to the data (or nothing was loaded).
    """
    if not table_exists(con, "ops", "source_settings"):
        return None
    row = fetch_one(con, sql.load("crmlens", "source_as_of"))
    return row[0] if row else None
