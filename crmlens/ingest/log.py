"""``ops.ingest_log``: one row per load of one table, with its counts and duration.

The row is written in the load's last transaction (:mod:`.load`): a load and its log
row commit together or not at all.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from crmlens import sql
from crmlens.clock import utc_now
from crmlens.ingest.result import IngestResult


def entry(run_id: str, result: IngestResult) -> dict[str, Any]:
    """The log row of a load.

    Args:
        run_id: the run the load belongs to.
        result: what the load did.

    Returns:
        The log's columns by name.
    """
    return {
        "run_id": run_id,
        "source": result.source,
        "table_name": result.table,
        "partitions": result.metadata().get("partitions"),
        "rows_in": result.rows_in,
        "rows_loaded": result.rows_loaded,
        "rows_quarantined": result.rows_quarantined,
        "inserted": result.inserted,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "superseded": result.superseded,
        "started_at": utc_now(),
        "seconds": result.seconds,
        "columns": None if result.columns is None else json.dumps(result.columns),
        "schema_changes": json.dumps(result.schema_changes),
        "warnings": json.dumps(result.warnings),
        "marked_deleted": result.marked_deleted,
    }


def record(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> None:
    """Append one load to ``ops.ingest_log``.

    Args:
        con: a read-write connection to the warehouse (the table exists: ``ensure_tables``).
        row: the log's columns by name (see :func:`entry`).
    """
    con.execute(sql.load("crmlens.ingest", "ingest_log_insert"), row)
