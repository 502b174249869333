"""Loading one table: a transaction per chunk of days, batches prepared ahead.

The source's feed (:mod:`crmlens.sources.feed`) gives the chunks and reads each
chunk's batch; :func:`~crmlens.ingest.prepare.prepare` checks it; this module
writes it (quarantine, then raw), checks that the counts reconcile, commits, and
logs the load.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb

from crmlens.contracts import CONTRACTS, DEFAULT_FUTURE_TOLERANCE
from crmlens.ingest import log, quarantine, upsert
from crmlens.ingest.prepare import LoadState, Prepared, prepare
from crmlens.ingest.references import known_references
from crmlens.ingest.tables import add_custom_columns, ensure_tables, mark_live_fields
from crmlens.sources.feed import DEFAULT_CHUNK_ROWS, Chunk, TableFeed, open_feed
from crmlens.sources.spec import SourceSpec

logger = logging.getLogger(__name__)


class ReconciliationError(RuntimeError):
    """rows_in != rows_loaded + rows_quarantined: a row went missing or was counted twice."""


@dataclass
class IngestResult:
    """What one load did; the counts reconcile or the load raised."""

    table: str
    source: str
    partitions: list[str] | None = None
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    superseded: int = 0
    reasons: Counter = field(default_factory=Counter)
    files: int = 0
    custom_attributes: list[str] = field(default_factory=list)
    # What a user should know though nothing was lost (a file with a header and no rows).
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def reconciles(self) -> bool:
        """Whether every row read was loaded or quarantined, exactly once."""
        return self.rows_in == self.rows_loaded + self.rows_quarantined

    def check(self) -> None:
        """Raise :class:`ReconciliationError` unless the counts reconcile."""
        if not self.reconciles:
            raise ReconciliationError(
                f"{self.table}: {self.rows_in} rows in but {self.rows_loaded} loaded + "
                f"{self.rows_quarantined} quarantined"
            )

    def absorb(self, part: IngestResult) -> None:
        """Add the counts of one committed chunk of this load."""
        for name in ("rows_in", "rows_loaded", "rows_quarantined", "inserted", "updated"):
            setattr(self, name, getattr(self, name) + getattr(part, name))
        for name in ("unchanged", "superseded", "files"):
            setattr(self, name, getattr(self, name) + getattr(part, name))
        self.reasons.update(part.reasons)
        self.warnings += part.warnings
        self.custom_attributes = sorted(set(self.custom_attributes) | set(part.custom_attributes))

    def metadata(self) -> dict[str, Any]:
        """Flat figures for Dagster asset metadata and the CLI."""
        out = {k: v for k, v in asdict(self).items() if k not in ("reasons", "partitions")}
        out["reconciled"] = self.reconciles
        out["quarantine_reasons"] = dict(self.reasons)
        if self.partitions is not None:
            out["partitions"] = (
                f"{self.partitions[0]}..{self.partitions[-1]} ({len(self.partitions)})"
                if len(self.partitions) > 1
                else ",".join(self.partitions)
            )
        return out


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
    run_id = run_id or uuid.uuid4().hex
    contract = CONTRACTS[table]
    result = IngestResult(table=table, source=spec.name)
    ensure_tables(con, table)
    if not spec.provides(table):
        result.seconds = time.perf_counter() - started
        return result
    known = known_references(con, contract)
    feed = open_feed(spec, table, days=days, chunk_rows=chunk_rows)
    state = LoadState(feed.source, contract, feed.declared_types, known, now, tolerance)
    if feed.partitioned:
        result.partitions = sorted(d.isoformat() for c in feed.chunks for d in c.replace)

    if len(feed.chunks) > 1:
        _load_pipelined(con, feed, state, result)
    else:
        for chunk in feed.chunks:
            prepared = prepare(con, feed.read(con, chunk), state) if chunk.reads else None
            _commit_chunk(con, state, chunk, prepared, result)
    result.check()
    mark_live_fields(con, table, feed.live_fields)
    result.seconds = time.perf_counter() - started
    log.record(con, _log_entry(run_id, result))
    return result


def _commit_chunk(
    con: duckdb.DuckDBPyConnection,
    state: LoadState,
    chunk: Chunk,
    prepared: Prepared | None,
    result: IngestResult,
) -> None:
    """One transaction: delete the chunk's days, write its rows, check they reconcile."""
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
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    result.absorb(part)


def _load_pipelined(
    con: duckdb.DuckDBPyConnection, feed: TableFeed, state: LoadState, result: IngestResult
) -> None:
    """Check chunk k+1 on a reader connection while chunk k is written.

    Writing is bound by DuckDB's compression and checking by polars; overlapping
    them keeps both cores busy. The reader only reads (files and the catalog), so
    it never competes with the writer's transactions.
    """
    reader = con.cursor()
    chunks = feed.chunks

    def prepare_chunk(chunk: Chunk) -> Prepared | None:
        return prepare(reader, feed.read(reader, chunk), state) if chunk.reads else None

    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="crmlens-ingest") as pool:
            future = pool.submit(prepare_chunk, chunks[0])
            for i, chunk in enumerate(chunks):
                prepared = future.result()
                if i + 1 < len(chunks):
                    future = pool.submit(prepare_chunk, chunks[i + 1])
                _commit_chunk(con, state, chunk, prepared, result)
    finally:
        reader.close()


def _write_batch(
    con: duckdb.DuckDBPyConnection, state: LoadState, prepared: Prepared, result: IngestResult
) -> None:
    """Write a prepared batch (quarantine, then raw) and count it into ``result``."""
    add_custom_columns(con, state.contract.name, prepared.custom)
    quarantine.write_quarantine(
        con, state.contract, prepared.quarantine, prepared.files, prepared.bad_files
    )
    written = upsert.write_raw(con, state.contract, prepared.rows)
    result.inserted += written.inserted
    result.updated += written.updated
    result.unchanged += written.unchanged
    result.files += len(prepared.files) + len(prepared.bad_files)
    for warning in prepared.warnings:
        logger.warning("%s: %s", state.contract.name, warning)
    result.warnings += prepared.warnings
    result.rows_in += prepared.rows_in
    result.rows_quarantined += prepared.quarantine.height
    result.reasons.update(prepared.quarantine["reason_code"].to_list())
    result.superseded += prepared.superseded
    result.rows_loaded += int(prepared.rows["_keep"].sum()) + prepared.superseded
    result.custom_attributes = sorted(set(result.custom_attributes) | set(prepared.custom))


def _log_entry(run_id: str, r: IngestResult) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "source": r.source,
        "table_name": r.table,
        "partitions": r.metadata().get("partitions"),
        "rows_in": r.rows_in,
        "rows_loaded": r.rows_loaded,
        "rows_quarantined": r.rows_quarantined,
        "inserted": r.inserted,
        "updated": r.updated,
        "unchanged": r.unchanged,
        "superseded": r.superseded,
        "started_at": datetime.now(UTC).replace(tzinfo=None),
        "seconds": r.seconds,
    }
