"""References to ids the CRM never had: an event for a contact that never existed.

An id counts as known when it was loaded or quarantined: an event for a contact
with a typo in its e-mail is not a defect of the event.
"""

from __future__ import annotations

import logging

import duckdb
import polars as pl

from crmlens.contracts import TableContract
from crmlens.ingest.failures import no_failures
from crmlens.ingest.tables import ensure_tables

log = logging.getLogger(__name__)


def known_references(
    con: duckdb.DuckDBPyConnection, contract: TableContract
) -> dict[str, pl.Series]:
    """Per reference column, the ids the CRM has (loaded or quarantined); read once per load.

    A referenced table that is still empty means the reference cannot be judged
    (the source lacks that table): that check is skipped, with a warning.

    Args:
        con: a read-write connection to the warehouse.
        contract: the contract of the table being loaded.

    Returns:
        Reference column -> the known ids, for the references that can be judged.
    """
    known = {}
    for column, (ref_table, ref_column) in contract.references.items():
        ensure_tables(con, ref_table)
        ids = con.sql(
            f"select {ref_column} as k from raw.{ref_table} union "
            f"select json_extract_string(record, '$.{ref_column}') from quarantine.{ref_table}"
        ).pl()["k"]
        if ids.is_empty():
            log.warning(
                "%s.%s: %s is empty, reference check skipped", contract.name, column, ref_table
            )
            continue
        known[column] = ids
    return known


def check_references(
    contract: TableContract, rows: pl.DataFrame, known: dict[str, pl.Series]
) -> pl.DataFrame:
    """Rows whose references name ids the CRM never had.

    Args:
        contract: the table's contract.
        rows: the typed batch, with ``_rid``.
        known: from :func:`known_references`.

    Returns:
        One failure per (row, unknown reference) (see :mod:`.failures`).
    """
    failures = [no_failures()]
    for column, ids_known in known.items():
        ref_table = contract.references[column][0]
        # Look up each distinct id once, then pick out the (few) rows that carry an unknown one.
        ids = rows[column].drop_nulls().unique()
        missing_ids = ids.filter(~ids.is_in(ids_known.implode()))
        if missing_ids.is_empty():
            continue
        unknown = rows.filter(pl.col(column).is_in(missing_ids.implode()))
        failures.append(
            unknown.select(
                "_rid",
                column=pl.lit(column),
                reason_code=pl.lit("unknown_reference"),
                reason=pl.format(f"{column}: '{{}}' is not a known {ref_table} id", column),
                value=pl.col(column),
            )
        )
    return pl.concat(failures)
