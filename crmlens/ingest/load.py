"""Loading one table: a transaction per chunk of days, batches prepared ahead.

The source's feed (:mod:`crmlens.sources.feed`) gives the chunks and reads each
chunk's batch; :func:`~crmlens.ingest.prepare.prepare` checks it; this module
writes it (quarantine, then raw), checks that the counts reconcile, and commits;
the last chunk's transaction also writes the load's row in ``ops.ingest_log``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import duckdb
import polars as pl

from crmlens.contracts import CONTRACTS, DEFAULT_FUTURE_TOLERANCE
from crmlens.ingest import deletions, drift, log, quarantine, source_settings, upsert, vocabulary
from crmlens.ingest.prepare import LoadState, Prepared, prepare
from crmlens.ingest.references import known_references
from crmlens.ingest.result import IngestResult, ReconciliationError
from crmlens.ingest.tables import (
    add_custom_columns,
    ensure_deleted_column,
    ensure_tables,
    mark_live_fields,
)
from crmlens.ingest.versions import already_loaded
from crmlens.sources.feed import DEFAULT_CHUNK_ROWS, Chunk, TableFeed, open_feed
from crmlens.sources.postgres import read_vocabularies
from crmlens.sources.spec import SourceSpec

__all__ = ["IngestResult", "ReconciliationError", "ingest_table"]

logger = logging.getLogger(__name__)


def ingest_table(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    table: str,
    *,
    days: list[date] | None = None,
    run_id: str | None = None,
    now: datetime | None = None,
    tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> IngestResult:
    """Load one canonical table from a source spec into the warehouse.

    A non-partitioned table loads in one transaction. A day-partitioned table
    loads in chunks of whole days, one transaction each (a day's delete and its
    insert commit together), which bounds memory: DuckDB keeps a transaction's
    appended rows in memory until it commits. A failure leaves every day either
    as it was or fully reloaded, and a rerun is safe.

    Args:
        con: a read-write connection to the warehouse (not inside a transaction).
        spec: the source spec (files or postgres).
        table: the canonical table name.
        days: for day-partitioned tables, the days to (re)load; ``None`` loads all days found.
        run_id: recorded in ``ops.ingest_log``; a new id when absent.
        now: the clock for "not in the future" checks (default: the wall clock).
        tolerance: how far past ``now`` a timestamp may lie.
        chunk_rows: rows per chunk for day-partitioned loads.

    Returns:
        The counts of the load; they reconcile.

    Raises:
        ReconciliationError: the counts of a chunk did not reconcile (it was rolled back).
        SpecError: the spec cannot be read as it says.
    """
    started = time.perf_counter()
    spec = read_vocabularies(spec)  # stages a postgres CRM keeps in a table of its own
    contract = CONTRACTS[table]
    result = IngestResult(table=table, source=spec.name)
    ensure_tables(con, table)
    source_settings.record(con, spec)
    if not spec.provides(table):
        result.warnings += vocabulary.record(con, spec, table)
        result.seconds = time.perf_counter() - started
        return result
    known = known_references(con, contract)
    feed = open_feed(spec, table, days=days, chunk_rows=chunk_rows)
    state = LoadState(feed.source, contract, feed.declared_types, known, now, tolerance)
    state.partitioned, state.date_formats = feed.partitioned, feed.date_formats
    state.accept = vocabulary.accepting(con, spec, contract)
    if feed.deletions:
        ensure_deleted_column(con, table)
        state.feed, state.deletions, state.clock = feed, feed.deletions, deletions.clock(now)
    if feed.partitioned:
        result.partitions = sorted(d.isoformat() for c in feed.chunks for d in c.replace)
    # Every load ends in a transaction that also writes its log row: a crash cannot leave
    # a load in raw without its row in ops.ingest_log (nor a row without its load).
    chunks = feed.chunks or [Chunk(replace=[], read=[])]

    previous = drift.previous_columns(con, spec.name, table)

    def finish() -> None:
        result.check()
        changes = drift.schema_changes(contract, result.columns, previous, feed.lacks)
        result.schema_changes = changes + result.schema_changes
        for change in changes:
            logger.warning("%s: %s", table, change)
        if state.deletions:
            _finish_deletions(con, state, result)
        mark_live_fields(con, table, feed.live_fields)
        result.warnings += vocabulary.record(con, spec, table)  # logged there
        result.seconds = time.perf_counter() - started
        log.record(con, log.entry(run_id or uuid.uuid4().hex, result))

    if len(chunks) > 1:
        _load_pipelined(con, feed, chunks, state, result, finish)
    else:
        prepared = prepare(con, feed.read(con, chunks[0]), state) if chunks[0].reads else None
        _commit_chunk(con, state, chunks[0], prepared, result, finish)
    return result


def _commit_chunk(
    con: duckdb.DuckDBPyConnection,
    state: LoadState,
    chunk: Chunk,
    prepared: Prepared | None,
    result: IngestResult,
    finish: Callable[[], None] | None = None,
) -> None:
    """One transaction: delete the chunk's days, write its rows, check they reconcile.

    The last chunk's transaction also runs ``finish`` (the load's log row), so the
    load and its log row commit together.
    """
    part = IngestResult(table=state.contract.name, source=state.source)
    replace = chunk.replace
    if prepared is not None:
        # A day whose file cannot be read keeps what an earlier load put in raw; when the
        # select could not run at all, nothing of the chunk was read, and no day changes.
        kept = prepared.kept_days if prepared.columns is not None else set(replace)
        replace = [d for d in replace if d not in kept]
    con.execute("begin transaction")
    try:
        if replace:
            upsert.delete_days(con, state.contract.name, replace)
            quarantine.delete_days(con, state.contract.name, replace)
        if prepared is not None:
            _write_batch(con, state, prepared, part)
        part.check()
        result.absorb(part)
        if finish is not None:
            finish()
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _load_pipelined(
    con: duckdb.DuckDBPyConnection,
    feed: TableFeed,
    chunks: list[Chunk],
    state: LoadState,
    result: IngestResult,
    finish: Callable[[], None],
) -> None:
    """Check chunk k+1 on a reader connection while chunk k is written.

    Writing is bound by DuckDB's compression and checking by polars; overlapping
    them keeps both cores busy. The reader only reads (files and the catalog), so
    it never competes with the writer's transactions.
    """
    reader = con.cursor()

    def prepare_chunk(chunk: Chunk) -> Prepared | None:
        return prepare(reader, feed.read(reader, chunk), state) if chunk.reads else None

    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="crmlens-ingest") as pool:
            future = pool.submit(prepare_chunk, chunks[0])
            for i, chunk in enumerate(chunks):
                prepared = future.result()
                last = i + 1 == len(chunks)
                if not last:
                    future = pool.submit(prepare_chunk, chunks[i + 1])
                _commit_chunk(con, state, chunk, prepared, result, finish if last else None)
    finally:
        reader.close()


def _write_batch(
    con: duckdb.DuckDBPyConnection, state: LoadState, prepared: Prepared, result: IngestResult
) -> None:
    """Write a prepared batch (quarantine, then raw) and count it into ``result``."""
    add_custom_columns(con, state.contract.name, prepared.custom)
    if state.partitioned:
        _set_aside_keys_loaded_elsewhere(con, state, prepared)
    quarantine.write_quarantine(
        con,
        state.contract,
        prepared.quarantine,
        prepared.files,
        prepared.bad_files,
        partitioned=state.partitioned,
    )
    written = upsert.write_raw(con, state.contract, prepared.rows, partitioned=state.partitioned)
    result.inserted += written.inserted
    result.updated += written.updated
    result.unchanged += written.unchanged
    result.files += len(prepared.files) + len(prepared.bad_files)
    for warning in prepared.warnings:
        logger.warning("%s: %s", state.contract.name, warning)
    result.warnings += prepared.warnings
    for change in prepared.widened:
        logger.warning("%s: %s", state.contract.name, change)
    result.schema_changes += prepared.widened
    result.rows_in += prepared.rows_in
    result.rows_quarantined += prepared.quarantine.height
    result.reasons.update(prepared.quarantine["reason_code"].to_list())
    result.superseded += prepared.superseded
    result.rows_loaded += int(prepared.rows["_keep"].sum()) + prepared.superseded
    result.custom_attributes = sorted(set(result.custom_attributes) | set(prepared.custom))
    result.columns = prepared.columns


def _set_aside_keys_loaded_elsewhere(
    con: duckdb.DuckDBPyConnection, state: LoadState, prepared: Prepared
) -> None:
    """Quarantine rows whose key another day already holds in raw (``duplicate_key``).

    Checked in the writing transaction, after the chunk's days were deleted: it sees
    what earlier chunks of this load committed, which a reader preparing ahead cannot.
    """
    found = upsert.keys_in_raw(con, state.contract, prepared.rows)
    if found.is_empty():
        return
    failures = already_loaded(state.contract, found)
    rows = quarantine.quarantine_rows(prepared.src, failures, state.contract)
    prepared.quarantine = pl.concat([prepared.quarantine, rows], how="vertical_relaxed")
    prepared.rows = prepared.rows.with_columns(
        _keep=pl.col("_keep") & ~pl.col("_rid").is_in(found["_rid"].implode())
    )


def _finish_deletions(
    con: duckdb.DuckDBPyConnection, state: LoadState, result: IngestResult
) -> None:
    """In the load's last transaction: tombstones for rows it did not read, absent keys."""
    assert state.deletions is not None and state.clock is not None
    contract = state.contract
    if state.tombstones is not None:
        deletions.apply_tombstones(con, contract, state.tombstones.keys, state.clock)
    if state.deletions.full_snapshot:
        if state.complete and state.seen:
            seen = pl.concat(state.seen).unique()
            deletions.mark_absent(con, contract, seen, state.rejected_lines, state.clock)
        else:
            warning = (
                "not a full snapshot (a file could not be read, or there were no rows): "
                "keys absent from it are not marked deleted"
            )
            logger.warning("%s: %s", contract.name, warning)
            result.warnings.append(warning)
    result.marked_deleted = deletions.count_deleted(con, contract.name)
