"""Access to the DuckDB warehouse.

One file, written only by the pipeline (DESIGN.md, "Storage"). Every connection
runs in UTC so that casts of offset-carrying strings land on the naive-UTC
convention of the canonical model.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl

from crmlens import sql as queries
from crmlens.runlock import WarehouseBusy, busy_message, holder

# DuckDB: 'Could not set lock on file "…": Conflicting lock is held in <program> (PID n) …'
_LOCK_HELD = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")

SCHEMAS = ("raw", "quarantine", "features", "ml", "publish", "ops")

_DUCK_TYPES: dict[type[pl.DataType], str] = {
    pl.String: "VARCHAR",
    pl.Float64: "DOUBLE",
    pl.Float32: "FLOAT",
    pl.Int64: "BIGINT",
    pl.Int32: "INTEGER",
    pl.Boolean: "BOOLEAN",
    pl.Datetime: "TIMESTAMP",
    pl.Date: "DATE",
}


def duck_type(dtype: pl.DataType) -> str:
    """The DuckDB type that stores a polars dtype of the contracts."""
    for base, name in _DUCK_TYPES.items():
        if isinstance(dtype, base) or dtype == base:
            return name
    raise TypeError(f"no DuckDB type for polars dtype {dtype!r}")


def connect(path: str | Path = ":memory:", *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB connection in UTC.

    Args:
        path: the database file (its folder is created), or ``:memory:``.
        read_only: open read-only (many readers, no writer).

    Returns:
        The connection; the caller closes it (or uses :func:`session`).
    """
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        held = _LOCK_HELD.search(str(exc))
        if not held:
            raise
        # One line naming the holder, not DuckDB's lock error deep in a traceback.
        other = f"another process (pid {held.group(2)}, {held.group(1)})"
        info = holder(path)
        if info and info.get("pid") == os.getpid():  # our own run lock: the other is DuckDB's
            info = None
        raise WarehouseBusy(busy_message(path, info, other)) from None
    con.execute("set TimeZone = 'UTC'")
    return con


@contextlib.contextmanager
def session(path: str | Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection that is closed on exit, so the file lock is released promptly.

    Args:
        path: the database file.
        read_only: open read-only.

    Yields:
        The connection.
    """
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction around a block: committed when it ends, rolled back when it raises.

    Args:
        con: a read-write connection.

    Yields:
        The connection, inside the transaction.
    """
    con.execute("begin transaction")
    try:
        yield con
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    """Create the warehouse's own schemas (dbt creates its own) if absent."""
    for schema in SCHEMAS:
        con.execute(f"create schema if not exists {schema}")


def fetch_one(
    con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None
) -> tuple | None:
    """The first row of a query.

    Fetches everything: in DuckDB 2 a half-read result blocks the connection for
    the next statement.

    Args:
        con: the connection.
        sql: the query.
        params: positional (``?``) or named (``$name``) parameters.

    Returns:
        The first row, or ``None`` if there is none.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether ``schema.table`` exists (a view counts).

    Args:
        con: the connection.
        schema: the schema.
        table: the table or view.

    Returns:
        True if it exists.
    """
    row = fetch_one(
        con, queries.load("crmlens", "table_exists"), {"schema": schema, "table_name": table}
    )
    return bool(row and row[0])


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    """The columns of ``schema.table`` and their types.

    Args:
        con: the connection.
        schema: the schema.
        table: the table or view.

    Returns:
        Column name -> DuckDB type name, in table order; empty if the table is absent.
    """
    rows = con.execute(
        queries.load("crmlens", "table_columns"), {"schema": schema, "table_name": table}
    ).fetchall()
    return dict(rows)


def quote_ident(name: str) -> str:
    """A SQL identifier, quoted (for names that come from data, not code)."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    """A SQL string literal, quoted: for file paths in statements that take no parameters
    (``COPY ... TO``), where a ``'`` in a folder name must not end the string."""
    return "'" + text.replace("'", "''") + "'"


def replace_table(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    frame: pl.DataFrame,
    comment: str | None = None,
) -> None:
    """Replace a table with a frame's rows in one transaction: readers see the old or the new.

    Args:
        con: a read-write connection.
        schema: the schema (created if absent).
        table: the table.
        frame: its new rows.
        comment: the table's comment, if any.
    """
    con.execute(f"create schema if not exists {schema}")
    con.register("_replacement", frame)
    try:
        with transaction(con):
            con.execute(f"create or replace table {schema}.{table} as select * from _replacement")
            if comment is not None:
                literal = "'" + comment.replace("'", "''") + "'"  # COMMENT takes no parameters
                con.execute(f"comment on table {schema}.{table} is {literal}")
    finally:
        con.unregister("_replacement")


def table_comment(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str | None:
    """The comment on ``schema.table``.

    Args:
        con: the connection.
        schema: the schema.
        table: the table.

    Returns:
        The comment, or ``None``.
    """
    row = fetch_one(
        con, queries.load("crmlens", "table_comment"), {"schema": schema, "table_name": table}
    )
    return row[0] if row else None
