"""Target 1, always: the ``publish`` schema of the warehouse, and its history."""

from __future__ import annotations

import duckdb

from crmlens.publish.contract import ScoreTable
from crmlens.warehouse import (
    ensure_schemas,
    fetch_one,
    quote_ident,
    table_columns,
    table_exists,
)


def publish_table(con: duckdb.DuckDBPyConnection, table: ScoreTable) -> int:
    """Replace ``publish.<table>`` with the scored rows and add them to ``publish.<table>_history``.

    One transaction: a reader sees the previous version or this one. A rerun of the
    same run replaces its own version in the history.

    Args:
        con: a read-write connection to the warehouse.
        table: the score table.

    Returns:
        The rows published (0 if the scores were never made).
    """
    schema, name = table.source.split(".")
    if not table_exists(con, schema, name):
        return 0
    available = table_columns(con, schema, name)
    select = ", ".join(
        quote_ident(c) if c in available else f"null as {quote_ident(c)}" for c in table.columns
    )
    ensure_schemas(con)
    con.execute("begin transaction")
    try:
        con.execute(
            f"create or replace table publish.{table.name} as select {select} from {table.source}"
        )
        _align_history(con, table)
        # A rerun of the same run replaces its own version; other versions stay.
        con.execute(
            f"delete from publish.{table.name}_history where run_id in "
            f"(select distinct run_id from publish.{table.name})"
        )
        con.execute(
            f"insert into publish.{table.name}_history by name select * from publish.{table.name}"
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return fetch_one(con, f"select count(*) from publish.{table.name}")[0]


def _align_history(con: duckdb.DuckDBPyConnection, table: ScoreTable) -> None:
    """Give ``publish.<table>_history`` exactly the contract's columns.

    A column the contract gained is added (null in the versions published before it);
    a column the contract never documented is dropped — the six ``*_1`` duplicates
    that an earlier release wrote into the forecast are the case this exists for.
    """
    history = f"{table.name}_history"
    if not table_exists(con, "publish", history):
        con.execute(
            f"create table publish.{history} as select * from publish.{table.name} where false"
        )
        return
    current = table_columns(con, "publish", table.name)
    kept = table_columns(con, "publish", history)
    for column in table.columns:
        if column not in kept:
            con.execute(
                f"alter table publish.{history} add column {quote_ident(column)} {current[column]}"
            )
    for column in kept:
        if column not in table.columns:
            con.execute(f"alter table publish.{history} drop column {quote_ident(column)}")
