"""Target 1, always: the ``publish`` schema of the warehouse, and its history."""

from __future__ import annotations

import duckdb

from crmlens.publish.contract import ScoreTable
from crmlens.warehouse import ensure_schemas, fetch_one, table_columns, table_exists


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
    select = ", ".join(c if c in available else f"null as {c}" for c in table.columns)
    ensure_schemas(con)
    con.execute("begin transaction")
    try:
        con.execute(
            f"create or replace table publish.{table.name} as select {select} from {table.source}"
        )
        con.execute(
            f"create table if not exists publish.{table.name}_history as "
            f"select * from publish.{table.name} where false"
        )
        # A rerun of the same run replaces its own version; other versions stay.
        con.execute(
            f"delete from publish.{table.name}_history where run_id in "
            f"(select distinct run_id from publish.{table.name})"
        )
        con.execute(f"insert into publish.{table.name}_history select * from publish.{table.name}")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return fetch_one(con, f"select count(*) from publish.{table.name}")[0]
