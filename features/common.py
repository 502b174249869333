"""Shared pieces of the point-in-time feature builders.

Every builder takes *snapshots* — (entity id, ``as_of``) pairs — and returns one
row of features per snapshot, computed only from rows whose own timestamp lies
strictly before that snapshot's ``as_of``. Training sets stack many snapshots;
scoring uses one, at the data's today. Builders read the dbt staging views
(typed, validated, custom attributes kept), in DuckDB SQL. Each ends by joining the
source's context series as of the snapshot (:mod:`features.context`): a value counts
once it is known (its date plus its publication lag at or before ``as_of``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import polars as pl

from crmlens import sql
from crmlens.contracts import CONTRACTS, EVENT_TYPES
from crmlens.warehouse import quote_ident, table_columns

LINEAGE = ("_source_file", "_source_row", "_partition")


@dataclass(frozen=True)
class FeatureSet:
    """Features of some snapshots, and how each column is to be treated by a model."""

    frame: pl.DataFrame
    id_column: str
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    # Numeric features a time split keeps even when they follow the calendar: context
    # series, dated indicators known at the time (features.context).
    time_exempt: list[str] = field(default_factory=list)

    @property
    def feature_columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]


def custom_columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Custom attributes of a canonical table usable as features -> DuckDB type.

    The raw columns beyond the contract, except live fields (a source spec's
    ``live_fields``: values the CRM overwrites over time, like a "latest NPS"; an old
    snapshot would see a later value, so they are never point-in-time features).
    """
    canonical = set(CONTRACTS[table].columns) | set(LINEAGE)
    rows = con.execute(sql.load("features", "live_columns"), {"table": table}).fetchall()
    live = {row[0] for row in rows}
    return {
        c: t
        for c, t in table_columns(con, "raw", table).items()
        if c not in canonical and c not in live
    }


def split_custom(types: dict[str, str]) -> tuple[list[str], list[str]]:
    """Numeric (numbers and booleans) and categorical (text) custom attributes."""
    numeric, categorical = [], []
    for column, dtype in types.items():
        if dtype.upper() in ("VARCHAR", "TEXT"):
            categorical.append(column)
        elif dtype.upper().startswith(("DATE", "TIMESTAMP")):
            continue  # a raw date is no feature; a builder derives ages from it when it means one
        else:
            numeric.append(column)
    return numeric, categorical


def event_window_sql(
    windows: tuple[int, ...], recency_types: tuple[str, ...], alias: str = "e"
) -> tuple[str, list[str]]:
    """Count-per-type-per-window and days-since-last-of-type aggregates over joined events.

    The events relation must carry ``event_type``, ``occurred_at`` and the
    snapshot's ``as_of``; every event in it already lies before ``as_of``.

    Args:
        windows: Days of each count window.
        recency_types: Event types that get a days-since-the-last-one column.
        alias: The events relation's alias in the query.

    Returns:
        The select-list fragment (each aggregate preceded by a comma) and the column names.
    """
    exprs, names = counts_per_type_and_window(alias, "event_type", EVENT_TYPES, windows)
    for event_type in recency_types:
        name = f"days_since_{event_type}"
        exprs.append(
            f"min(date_diff('second', {alias}.occurred_at, {alias}.as_of)) "
            f"filter (where {alias}.event_type = '{event_type}') / 86400.0 as {name}"
        )
        names.append(name)
    exprs.append(
        f"min(date_diff('second', {alias}.occurred_at, {alias}.as_of)) / 86400.0 as days_since_last_event"
    )
    names.append("days_since_last_event")
    exprs.append("count(*) as events_total")
    names.append("events_total")
    return select_list(exprs), names


def counts_per_type_and_window(
    alias: str,
    type_column: str,
    types: tuple[str, ...],
    windows: tuple[int, ...],
    prefix: str = "",
) -> tuple[list[str], list[str]]:
    """A count of the rows of each type in each window before the snapshot's ``as_of``.

    The relation (events, activities) must carry ``occurred_at`` and the snapshot's
    ``as_of``; every row in it already lies before ``as_of``.

    Args:
        alias: The relation's alias in the query.
        type_column: Its column of the row's type (``event_type``, ``activity_type``).
        types: The types, one count per type and window.
        windows: Days of each count window.
        prefix: Put before each column name: ``activity_`` gives ``activity_call_30d``.

    Returns:
        The aggregate expressions (each with its ``as`` name) and the column names, by
        type then window.
    """
    exprs, names = [], []
    for kind in types:
        for days in windows:
            name = f"{prefix}{kind}_{days}d"
            exprs.append(
                f"count(*) filter (where {alias}.{type_column} = '{kind}' and "
                f"{alias}.occurred_at >= {alias}.as_of - interval {days} day) as {name}"
            )
            names.append(name)
    return exprs, names


def select_list(exprs: list[str]) -> str:
    """A select-list fragment of ``exprs``, each on its own line preceded by a comma."""
    return "".join(f",\n        {e}" for e in exprs)


def fill_counts(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """A snapshot with no events has zero of each count (not null); recencies stay null."""
    present = [c for c in columns if c in frame.columns]
    return frame.with_columns([pl.col(c).fill_null(0) for c in present])


def select(con: duckdb.DuckDBPyConnection, name: str, **params: object) -> pl.DataFrame:
    """Run ``features/sql/<name>.sql`` with its ``$name`` parameters.

    Args:
        con: Warehouse connection.
        name: The file name without ``.sql``.
        **params: Its parameters, by name.

    Returns:
        The query's result.
    """
    return con.sql(sql.load("features", name), params=params).pl()


def run(
    con: duckdb.DuckDBPyConnection,
    query: str,
    snapshots: pl.DataFrame,
    params: dict | None = None,
) -> pl.DataFrame:
    """Run a builder's query with the snapshots registered as ``_snapshots``.

    Args:
        con: Warehouse connection.
        query: The query; it reads the snapshots from ``_snapshots``.
        snapshots: One row per (entity id, ``as_of``), with any extra columns.
        params: Its ``$name`` parameters, if it has any.

    Returns:
        The query's result.
    """
    con.register("_snapshots", snapshots)
    try:
        return con.sql(query, params=params).pl() if params else con.sql(query).pl()
    finally:
        con.unregister("_snapshots")


def qualified(columns: list[str], alias: str) -> str:
    """A select-list fragment of ``columns`` of ``alias``, each preceded by a comma."""
    return "".join(f", {alias}.{quote_ident(c)}" for c in columns)
