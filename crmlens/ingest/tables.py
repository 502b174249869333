"""The tables ingest writes: ``raw.<table>``, ``quarantine.<table>``, ``ops.ingest_log``.

The raw and quarantine tables are generated from the contracts (a column per
contract field, then lineage); custom attributes are added to a raw table as a
source first brings them.
"""

from __future__ import annotations

import duckdb

from crmlens import sql
from crmlens.contracts import CONTRACTS, TableContract
from crmlens.ingest.cast import widen
from crmlens.ingest.vocabulary import ensure_vocabulary
from crmlens.sources.files import DELETED
from crmlens.warehouse import duck_type, ensure_schemas, quote_ident, table_columns

QUARANTINE_COLUMNS = {
    "_source_file": "VARCHAR",
    "_source_row": "BIGINT",
    "_partition": "DATE",
    "record_key": "VARCHAR",
    "column_name": "VARCHAR",
    "reason_code": "VARCHAR",
    "reason": "VARCHAR",
    "failures": "JSON",
    "record": "JSON",
}

LIVE_COMMENT = (
    "live: the CRM holds only its current value, overwritten over time; not a point-in-time feature"
)


def _raw_ddl(contract: TableContract) -> str:
    cols = [f"{quote_ident(c)} {duck_type(t)}" for c, t in contract.columns.items()]
    cols += ["_source_file VARCHAR", "_source_row BIGINT"]
    if contract.partition_column:
        cols.append("_partition DATE")
    return f"create table if not exists raw.{contract.name} ({', '.join(cols)})"


def ensure_tables(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Create raw.<table>, quarantine.<table> and the ingest log if absent (empty is valid),
    and ``raw.vocabulary`` with the canonical rows of the table's vocabularies.

    Args:
        con: a read-write connection to the warehouse.
        table: the canonical table name.
    """
    ensure_schemas(con)
    con.execute(_raw_ddl(CONTRACTS[table]))
    cols = ", ".join(f"{c} {t}" for c, t in QUARANTINE_COLUMNS.items())
    con.execute(f"create table if not exists quarantine.{table} ({cols})")
    con.execute(sql.load("crmlens.ingest", "ingest_log_table"))
    con.execute(sql.load("crmlens.ingest", "ingest_log_columns"))
    # dbt reads it (int_sales_as_of) whether or not a spec declared anything
    con.execute(sql.load("crmlens.ingest", "source_settings_table"))
    ensure_vocabulary(con, table)


def add_custom_columns(con: duckdb.DuckDBPyConnection, table: str, custom: dict[str, str]) -> None:
    """Add to ``raw.<table>`` the custom columns it lacks; widen those whose type widened.

    Args:
        con: the connection of the load's transaction.
        table: the canonical table.
        custom: custom column -> DuckDB type.
    """
    existing = table_columns(con, "raw", table)
    for column, dtype in custom.items():
        if column not in existing:
            con.execute(f"alter table raw.{table} add column {quote_ident(column)} {dtype}")
        elif existing[column] != dtype and widen(existing[column], dtype) == dtype:
            con.execute(
                f"alter table raw.{table} alter column {quote_ident(column)} set data type {dtype}"
            )


def ensure_deleted_column(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Give ``raw.<table>`` its deletion mark, ``_deleted_at``, if absent (null: live).

    Added when a spec first declares deletions for the table; staging drops the rows
    it marks.
    """
    con.execute(f"alter table raw.{table} add column if not exists {DELETED} timestamp")


def mark_live_fields(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> None:
    """Record on each raw column that its value is live (feature builders skip it).

    Args:
        con: a read-write connection to the warehouse.
        table: the canonical table.
        columns: the live custom columns (absent ones are ignored).
    """
    present = table_columns(con, "raw", table)
    for column in columns:
        if column in present:
            con.execute(f"comment on column raw.{table}.{quote_ident(column)} is '{LIVE_COMMENT}'")
