"""Schema drift: the columns a load gave, against the contract and the previous load.

An optional canonical column that is missing, or renamed in the CRM, would become null
in every row without a word. So each load compares the columns its source gave with
the contract (the canonical columns the spec does not declare under ``lacks``) and
with the previous load of the same table; what vanished or appeared is written into
``ops.ingest_log.schema_changes`` and logged, and the ``<table>_schema_changes`` asset
check warns about it.
"""

from __future__ import annotations

import json

import duckdb

from crmlens import sql
from crmlens.contracts import TableContract
from crmlens.warehouse import fetch_one


def previous_columns(con: duckdb.DuckDBPyConnection, source: str, table: str) -> list[str] | None:
    """The columns the latest load of ``table`` from ``source`` gave; None before any.

    Args:
        con: a connection to the warehouse (ops.ingest_log exists).
        source: the spec's name.
        table: the canonical table.

    Returns:
        The columns, or None.
    """
    row = fetch_one(
        con,
        sql.load("crmlens.ingest", "ingest_log_previous_columns"),
        {"source": source, "table_name": table},
    )
    return json.loads(row[0]) if row else None


def schema_changes(
    contract: TableContract,
    columns: list[str] | None,
    previous: list[str] | None,
    lacks: list[str],
) -> list[str]:
    """How a load's columns differ from the contract and from the previous load.

    Args:
        contract: the table's contract.
        columns: the columns the source gave (None: it gave none; nothing is judged).
        previous: the columns of the previous load (None: the first load).
        lacks: the canonical columns the spec says its CRM does not have.

    Returns:
        One sentence per change, in a stable order.
    """
    if columns is None:
        return []
    given = set(columns)
    changes = [
        f"canonical column {c!r} is missing: null in every row (if the CRM has no such "
        f"field, list it under `lacks:` in the spec)"
        for c in contract.columns
        if c not in given and c not in lacks
    ]
    if previous is not None:
        before = set(previous)
        changes += [
            f"column {c!r} vanished since the previous load" for c in previous if c not in given
        ]
        changes += [
            f"column {c!r} is new since the previous load" for c in columns if c not in before
        ]
    return changes
