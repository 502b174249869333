"""Routing to ``quarantine.<table>``: one row per bad input row, with its reasons.

Each quarantine row names the source file, row and column, gives a reason in
words (``reason``), every failure of the row (``failures``, JSON) and the row as
it was read (``record``, JSON). Rows the CSV parser could not split come as
rejects, with the line as it stood in the file. A file that cannot be read at all
is one row, ``unreadable_file``, naming the file, the line and why.
"""

from __future__ import annotations

import json
from datetime import date

import duckdb
import polars as pl

from crmlens.contracts import TableContract
from crmlens.ingest.batch import as_text, internal
from crmlens.sources.files import BadFile, Reject

_QUARANTINE_SCHEMA = {
    "_source_file": pl.String,
    "_source_row": pl.Int64,
    "_partition": pl.Date,
    "record_key": pl.String,
    "column_name": pl.String,
    "reason_code": pl.String,
    "reason": pl.String,
    "failures": pl.String,
    "record": pl.String,
}


def quarantine_rows(src: pl.DataFrame, bad: pl.DataFrame, contract: TableContract) -> pl.DataFrame:
    """One quarantine row per bad input row.

    Args:
        src: the batch as read (original values), with ``_rid``.
        bad: the failures of every check (see :mod:`.failures`).
        contract: the table's contract.

    Returns:
        Rows of ``quarantine.<table>``: the first failure of each row names its column
        and reason, all its failures are kept in ``failures``, its values in ``record``.
    """
    if bad.is_empty():
        return _empty()
    grouped = bad.group_by("_rid", maintain_order=True).agg(
        column_name=pl.col("column").first(),
        reason_code=pl.col("reason_code").first(),
        reason=pl.col("reason").first(),
        failures=pl.struct(
            pl.col("column"), pl.col("reason_code"), pl.col("reason"), pl.col("value")
        ),
    )
    record_cols = [c for c in src.columns if not internal(c)]
    originals = src.select(pl.all().gather(grouped["_rid"].sort()))  # _rid is the row position
    originals = originals.select(
        "_rid",
        "_source_file",
        "_source_row",
        pl.col("_partition")
        if "_partition" in src.columns
        else pl.lit(None, pl.Date).alias("_partition"),
        record_key=pl.concat_str(
            [pl.col(k).cast(pl.String).fill_null("") for k in contract.key], separator="|"
        ),
        record=pl.struct([as_text(c, src.schema[c]) for c in record_cols]).struct.json_encode(),
    )
    out = originals.join(grouped, on="_rid").sort("_rid")
    return out.select(
        "_source_file",
        "_source_row",
        "_partition",
        "record_key",
        "column_name",
        "reason_code",
        "reason",
        failures=pl.concat_str(
            pl.lit("["),
            pl.col("failures").list.eval(pl.element().struct.json_encode()).list.join(","),
            pl.lit("]"),
        ),
        record="record",
    )


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=_QUARANTINE_SCHEMA)


def reject_rows(rejects: list[Reject]) -> pl.DataFrame:
    """One quarantine row per record the CSV parser could not read."""
    if not rejects:
        return _empty()
    rows = []
    for r in rejects:
        reason = f"the CSV parser could not read line {r.source_row}: {r.error}"
        failure = {
            "column": r.column,
            "reason_code": "unparseable_row",
            "reason": reason,
            "value": r.line,
        }
        rows.append(
            {
                "_source_file": r.source_file,
                "_source_row": r.source_row,
                "_partition": None,
                "record_key": None,
                "column_name": r.column,
                "reason_code": "unparseable_row",
                "reason": reason,
                "failures": json.dumps([failure]),
                "record": json.dumps({"line": r.line}),
            }
        )
    return pl.DataFrame(rows, schema=_QUARANTINE_SCHEMA)


def file_rows(bad_files: list[BadFile]) -> pl.DataFrame:
    """One quarantine row per file that cannot be read at all (the whole file set aside)."""
    if not bad_files:
        return _empty()
    rows = []
    for bad in bad_files:
        reason = f"{bad.source_file} cannot be read, the whole file is set aside: {bad.reason}"
        failure = {
            "column": None,
            "reason_code": "unreadable_file",
            "reason": reason,
            "value": None,
        }
        rows.append(
            {
                "_source_file": bad.source_file,
                "_source_row": bad.line,
                "_partition": bad.partition,
                "record_key": None,
                "column_name": None,
                "reason_code": "unreadable_file",
                "reason": reason,
                "failures": json.dumps([failure]),
                "record": json.dumps({"file": bad.source_file, "bytes": bad.size}),
            }
        )
    return pl.DataFrame(rows, schema=_QUARANTINE_SCHEMA)


def delete_days(con: duckdb.DuckDBPyConnection, table: str, days: list[date]) -> None:
    """Delete what earlier loads of these days quarantined.

    Args:
        con: the connection of the load's transaction.
        table: the canonical table.
        days: the days being reloaded.
    """
    con.execute(f"delete from quarantine.{table} where _partition in (select unnest(?))", [days])


def write_quarantine(
    con: duckdb.DuckDBPyConnection,
    contract: TableContract,
    rows: pl.DataFrame,
    files: list[str],
    bad_files: list[str] | None = None,
    *,
    partitioned: bool = False,
) -> None:
    """Replace what earlier loads of the same files quarantined, then add this load's rows.

    Partitioned tables had their days' quarantine deleted with the days; database
    sources replace the earlier entry of each key read again. A file that cannot be
    read replaces only the earlier row saying so: what an earlier load of it put in
    raw and quarantine stays (nothing of it was read this time).

    Args:
        con: the connection of the load's transaction.
        contract: the table's contract.
        rows: from :func:`quarantine_rows`, :func:`reject_rows` and :func:`file_rows`.
        files: the files the batch read (none for a database source).
        bad_files: the files it could not read.
        partitioned: read from day files (their days' quarantine is already deleted).
    """
    table = contract.name
    if not partitioned and files:
        con.execute(
            f"delete from quarantine.{table} where _source_file in (select unnest(?))", [files]
        )
    elif not files and not bad_files and rows.height:
        con.register("_qkeys", rows.select("record_key"))
        con.execute(
            f"delete from quarantine.{table} where record_key in (select record_key from _qkeys)"
        )
        con.unregister("_qkeys")
    if bad_files:
        con.execute(
            f"delete from quarantine.{table} where reason_code = 'unreadable_file' "
            f"and _source_file in (select unnest(?))",
            [bad_files],
        )
    if rows.is_empty():
        return
    con.register("_q", rows)
    con.execute(f"insert into quarantine.{table} by name select * from _q")
    con.unregister("_q")
