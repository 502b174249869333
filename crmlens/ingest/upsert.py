"""Writing the kept rows into ``raw.<table>``: an upsert by key, latest ``updated_at`` wins.

A row whose key is new is inserted; one that differs from the raw row is an
update; one identical to it, or older than it, changes nothing. Day-partitioned
tables have their days deleted first, so their rows are simply inserted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from crmlens.contracts import TableContract
from crmlens.sources.files import DELETED, LINEAGE_COLUMNS
from crmlens.warehouse import quote_ident


@dataclass
class Upserted:
    """What writing one batch into raw did."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def delete_days(con: duckdb.DuckDBPyConnection, table: str, days: list[date]) -> None:
    """Delete the raw rows of these days (a day is reloaded whole).

    Args:
        con: the connection of the load's transaction.
        table: the canonical table.
        days: the days being reloaded.
    """
    con.execute(f"delete from raw.{table} where _partition in (select unnest(?))", [days])


def keys_in_raw(
    con: duckdb.DuckDBPyConnection, contract: TableContract, rows: pl.DataFrame
) -> pl.DataFrame:
    """The kept rows whose key raw already holds, with where raw's copy came from.

    Run after a chunk's days were deleted: what it finds lives in other days.

    Args:
        con: the connection of the load's transaction.
        contract: the table's contract.
        rows: the batch with ``_rid`` and ``_keep``.

    Returns:
        ``_rid``, the key, ``first_file`` and ``first_row`` per row found.
    """
    key = [quote_ident(k) for k in contract.key]
    con.register("_incoming", rows.filter("_keep").select("_rid", *contract.key))
    try:
        return con.sql(
            f"select i._rid, {', '.join('i.' + k for k in key)}, "
            f"r._source_file as first_file, r._source_row as first_row "
            f"from _incoming i join raw.{contract.name} r on {_key_match(contract)}"
        ).pl()
    finally:
        con.unregister("_incoming")


def write_raw(
    con: duckdb.DuckDBPyConnection,
    contract: TableContract,
    rows: pl.DataFrame,
    *,
    partitioned: bool = False,
) -> Upserted:
    """Write the rows whose ``_keep`` is true into ``raw.<table>``.

    Args:
        con: the connection of the load's transaction.
        contract: the table's contract.
        rows: the batch with ``_rid``, ``_keep``, lineage and custom columns.
        partitioned: read from day files, whose days were deleted first: rows are inserted.
            Otherwise rows are upserted by key (also a day-partitioned table read from a
            plain file or a database: a rerun must not append its rows again).

    Returns:
        How many rows were inserted, updated, and left unchanged.
    """
    table = contract.name
    if rows.is_empty():
        return Upserted()
    con.register("_rows", rows)
    try:
        if partitioned:
            con.execute(
                f"insert into raw.{table} by name "
                f"select * exclude (_keep, _rid) from _rows where _keep"
            )
            return Upserted(inserted=rows["_keep"].sum())
        counts = _classify(con, contract, rows)
        on = _key_match(contract)
        con.execute(
            f"delete from raw.{table} r using _classified i where {on} and i._action = 'update'"
        )
        con.execute(
            f"insert into raw.{table} by name select * exclude (_action) from _classified "
            f"where _action in ('insert', 'update')"
        )
        con.execute("drop table _classified")
        return Upserted(
            inserted=counts.get("insert", 0),
            updated=counts.get("update", 0),
            unchanged=counts.get("same", 0) + counts.get("stale", 0),
        )
    finally:
        con.unregister("_rows")


def _key_match(contract: TableContract) -> str:
    return " and ".join(f"r.{k} = i.{k}" for k in map(quote_ident, contract.key))


def _classify(
    con: duckdb.DuckDBPyConnection, contract: TableContract, rows: pl.DataFrame
) -> dict[str, int]:
    """Tag each kept row of ``_rows`` insert, update, same or stale, in ``_classified``."""
    key = [quote_ident(k) for k in contract.key]
    business = [
        quote_ident(c) for c in rows.columns if c not in (*LINEAGE_COLUMNS, "_keep", "_rid")
    ]
    same = (
        f"({', '.join('i.' + c for c in business)}) is not distinct from "
        f"({', '.join('r.' + c for c in business)})"
    )
    stale = f"i.{contract.updated_at} < r.{contract.updated_at}" if contract.updated_at else "false"
    deleted = ""
    if DELETED in rows.columns:
        # Deleted and live differ; a row deleted again keeps when it was first deleted.
        same += f" and (i.{DELETED} is null) = (r.{DELETED} is null)"
        deleted = (
            f", coalesce(case when i.{DELETED} is not null then r.{DELETED} end, i.{DELETED}) "
            f"as {DELETED}"
        )
    excluded = f"_keep, _rid{', ' + DELETED if deleted else ''}"
    con.execute(
        f"create or replace temp table _classified as "
        f"select i.* exclude ({excluded}){deleted}, case when r.{key[0]} is null then 'insert' "
        f"when {stale} then 'stale' when {same} then 'same' else 'update' end as _action "
        f"from _rows i left join raw.{contract.name} r on {_key_match(contract)} where i._keep"
    )
    return dict(con.execute("select _action, count(*) from _classified group by 1").fetchall())
