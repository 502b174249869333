"""``ops.ingest_log``: one row per load of one table, with its counts and duration."""

from __future__ import annotations

from typing import Any

import duckdb

from crmlens import sql


def record(con: duckdb.DuckDBPyConnection, entry: dict[str, Any]) -> None:
    """Append one load to ``ops.ingest_log``.

    Args:
        con: a read-write connection to the warehouse (the table exists: ``ensure_tables``).
        entry: the log's columns by name (``run_id``, ``source``, ``table_name``,
            ``partitions``, the counts, ``started_at``, ``seconds``).
    """
    con.execute(sql.load("crmlens.ingest", "ingest_log_insert"), entry)
