"""Ingest of context series: each series of the spec to ``context.<series>``, every run.

A series is small (one row per date) and derived from whole files, so every load reads
it again and replaces what the context schema held, in one transaction with its
catalog, ``ops.context_series`` (:mod:`crmlens.sources.context`): readers see the old
series or the new, and a series the spec no longer names is gone. A spec without a
``context:`` section leaves both empty.

Each stored row keeps its ``date``, its value columns, ``available_at`` (the date plus
the spec's publication lag, the moment the value is known) and, as lineage,
``_source_file`` (the files the select read, comma-separated) unless the select returns
its own.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

import duckdb
import polars as pl

from crmlens import sql
from crmlens.clock import utc_now
from crmlens.sources.context import DATE_COLUMN, SeriesRows, check_rows
from crmlens.sources.files import read_select
from crmlens.sources.spec import SourceSpec, SpecError
from crmlens.warehouse import ensure_schemas, quote_ident, transaction

SCHEMA = "context"


@dataclass
class ContextResult:
    """What a context load stored: rows per series, and what a user should know."""

    rows: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def read_series(con: duckdb.DuckDBPyConnection, spec: SourceSpec, name: str) -> SeriesRows:
    """Read and check one series of a spec.

    Args:
        con: the connection to read in (the aliases become temporary views).
        spec: a files spec.
        name: the series.

    Returns:
        Its rows, one per date, with the kind of each value column.

    Raises:
        SpecError: in one line, naming the spec, the series and the column at fault.
    """
    where = f"{spec.where()}, context series {name!r}"
    batch = read_select(con, spec, spec.context[name].select, where)
    try:
        frame = batch.collect()
        if frame is None:
            reasons = "; ".join(f"{b.source_file}: {b.reason}" for b in batch.bad_files)
            raise SpecError(f"{where}: no readable file ({reasons})")
        rows = check_rows(where, batch.relation, frame, name)
    except ValueError as exc:
        raise SpecError(str(exc).splitlines()[0]) from None
    finally:
        for view in batch.views:
            con.execute(f"drop view if exists {quote_ident(view)}")
    if "_source_file" not in rows.frame.columns:
        rows.frame = rows.frame.with_columns(_source_file=pl.lit(", ".join(batch.files)))
    rows.warnings += [f"{where}: {r.source_file} line {r.line}: {r.error}" for r in batch.rejects]
    return rows


def ingest_context(
    con: duckdb.DuckDBPyConnection, spec: SourceSpec, run_id: str | None = None
) -> ContextResult:
    """Store every context series of the spec, replacing what the context schema held.

    Every series is read and checked before anything is written: a bad one changes
    nothing.

    Args:
        con: a read-write connection to the warehouse (not inside a transaction).
        spec: the source spec.
        run_id: recorded in the catalog; a new id when absent.

    Returns:
        Rows stored per series, and warnings.

    Raises:
        SpecError: a series cannot be read as the spec says.
    """
    ensure_schemas(con)
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(sql.load("crmlens.ingest", "context_catalog_table"))
    series = [read_series(con, spec, name) for name in spec.context]
    result = ContextResult()
    stale = [row[0] for row in con.execute(sql.load("crmlens.ingest", "context_tables")).fetchall()]
    now, run_id = utc_now(), run_id or uuid.uuid4().hex
    with transaction(con):
        for table in stale:
            con.execute(f"drop table {SCHEMA}.{quote_ident(table)}")
        con.execute("delete from ops.context_series")
        for rows in series:
            settings = spec.context[rows.name]
            stored = _store(con, rows, settings.available_after_days)
            dates = stored[DATE_COLUMN]
            con.execute(
                sql.load("crmlens.ingest", "context_catalog_insert"),
                {
                    "series": rows.name,
                    "available_after_days": settings.available_after_days,
                    "check_time_proxy": settings.check_time_proxy,
                    "value_columns": json.dumps(rows.kinds),
                    "row_count": stored.height,
                    "first_date": dates.min(),
                    "last_date": dates.max(),
                    "source": spec.name,
                    "run_id": run_id,
                    "loaded_at": now,
                },
            )
            result.rows[rows.name] = stored.height
            result.warnings += rows.warnings
    return result


def _store(con: duckdb.DuckDBPyConnection, rows: SeriesRows, lag_days: int) -> pl.DataFrame:
    """Write one series to ``context.<series>`` (inside the load's transaction)."""
    con.register("_series", rows.frame)
    try:
        stored = con.sql(
            sql.load("crmlens.ingest", "context_series_rows"), params={"lag_days": lag_days}
        ).pl()
    finally:
        con.unregister("_series")
    con.register("_stored", stored)
    try:
        con.execute(f"create table {SCHEMA}.{quote_ident(rows.name)} as select * from _stored")
    finally:
        con.unregister("_stored")
    return stored
