"""Ingest: source rows → contract → ``raw.<table>`` or ``quarantine.<table>``.

Nothing is lost (DESIGN.md, non-negotiables). Every row a source yields ends in
exactly one place:

* ``raw.<table>`` — valid rows, upserted by key (the latest ``updated_at`` wins;
  an older or identical version changes nothing);
* ``quarantine.<table>`` — rows the CSV parser could not split, values that do
  not cast to the column's type, rows that break the contract, references to
  ids the CRM never had, and conflicting versions of one key; each with its
  source file, row, column and a reason in words.

``rows_in = rows_loaded + rows_quarantined`` is checked on every load, and a
load that does not reconcile raises :class:`ReconciliationError` inside the
transaction, so nothing of it is kept. Each load is one transaction: readers
never see half a load, and a rerun with the same input leaves the same tables.

Day-partitioned tables (events) are replaced a day at a time: loading a day
deletes exactly that day's rows (from raw and quarantine) and inserts the day
again. Large loads are processed in chunks of whole days, which bounds memory.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pandera.polars as pa
import polars as pl

from crmlens.contracts import (
    CONTRACTS,
    DEFAULT_FUTURE_TOLERANCE,
    TableContract,
    latest_allowed_timestamp,
    validation_clock,
)
from crmlens.sources.spec import LINEAGE_COLUMNS, ReadBatch, Reject, SourceSpec, read_table
from crmlens.warehouse import duck_type, ensure_schemas, fetch_one, quote_ident, table_columns

log = logging.getLogger(__name__)

QUARANTINE_COLUMNS = {
    "_source_file": "VARCHAR",
    "_source_row": "BIGINT",
    "_partition": "DATE",
    "record_key": "VARCHAR",
    "column_name": "VARCHAR",
    "reason_code": "VARCHAR",
    "reason": "VARCHAR",
    "failures": "JSON",
    "record": "JSON",
}

INGEST_LOG_DDL = """
create table if not exists ops.ingest_log (
    run_id varchar, source varchar, table_name varchar, partitions varchar,
    rows_in bigint, rows_loaded bigint, rows_quarantined bigint,
    inserted bigint, updated bigint, unchanged bigint, superseded bigint,
    started_at timestamp, seconds double
)
"""


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
    seconds: float = 0.0

    @property
    def reconciles(self) -> bool:
        return self.rows_in == self.rows_loaded + self.rows_quarantined

    def check(self) -> None:
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


# --- table set-up ----------------------------------------------------------------


def raw_ddl(contract: TableContract) -> str:
    cols = [f"{quote_ident(c)} {duck_type(t)}" for c, t in contract.columns.items()]
    cols += ["_source_file VARCHAR", "_source_row BIGINT"]
    if contract.partition_column:
        cols.append("_partition DATE")
    return f"create table if not exists raw.{contract.name} ({', '.join(cols)})"


def ensure_tables(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Create raw.<table>, quarantine.<table> and the ingest log if absent (empty is valid)."""
    ensure_schemas(con)
    contract = CONTRACTS[table]
    con.execute(raw_ddl(contract))
    cols = ", ".join(f"{c} {t}" for c, t in QUARANTINE_COLUMNS.items())
    con.execute(f"create table if not exists quarantine.{table} ({cols})")
    con.execute(INGEST_LOG_DDL)


# --- the load ----------------------------------------------------------------------


def ingest_table(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    table: str,
    *,
    days: list[date] | None = None,
    run_id: str | None = None,
    now: datetime | None = None,
    tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE,
    chunk_rows: int = 750_000,
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
        The counts of the load; they reconcile (else ReconciliationError was raised).
    """
    started = time.perf_counter()
    run_id = run_id or uuid.uuid4().hex
    contract = CONTRACTS[table]
    result = IngestResult(table=table, source=spec.name)
    ensure_tables(con, table)
    if not spec.provides(table):
        result.seconds = time.perf_counter() - started
        return result
    state = _LoadState(spec, contract, _known_references(con, contract), now, tolerance)
    if spec.kind == "postgres":
        from crmlens.sources.postgres import read_postgres_table  # psycopg only when used

        def read(reader: duckdb.DuckDBPyConnection, _days: list[date] | None) -> ReadBatch:
            return read_postgres_table(reader, spec, table)

        chunks = [_Chunk(replace=[], read=None)]
    else:

        def read(reader: duckdb.DuckDBPyConnection, chunk_days: list[date] | None) -> ReadBatch:
            return read_table(reader, spec, table, chunk_days)

        chunks = _plan_chunks(spec, table, days, chunk_rows)
        if spec.partition_alias(table) is not None:
            result.partitions = sorted(d.isoformat() for c in chunks for d in c.replace)

    if len(chunks) > 1:
        _load_pipelined(con, chunks, read, state, result)
    else:
        for chunk in chunks:
            prepared = _prepare_batch(con, read(con, chunk.read), state) if chunk.reads else None
            _commit_chunk(con, state, chunk, prepared, result)
    result.check()
    _mark_live_fields(con, table, spec.live_fields.get(table, []))
    result.seconds = time.perf_counter() - started
    _log(con, run_id, result)
    return result


LIVE_COMMENT = (
    "live: the CRM holds only its current value, overwritten over time; not a point-in-time feature"
)


def _mark_live_fields(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> None:
    """Record on the raw column that its value is live (feature builders skip it)."""
    present = table_columns(con, "raw", table)
    for column in columns:
        if column in present:
            con.execute(f"comment on column raw.{table}.{quote_ident(column)} is '{LIVE_COMMENT}'")


@dataclass
class _Chunk:
    """The days one transaction replaces, and the days it reads (None: not partitioned)."""

    replace: list[date]
    read: list[date] | None

    @property
    def reads(self) -> bool:
        return self.read is None or bool(self.read)


@dataclass
class _LoadState:
    """What every chunk of one load shares."""

    spec: SourceSpec
    contract: TableContract
    known: dict[str, pl.Series]
    now: datetime | None
    tolerance: timedelta
    # Custom-attribute types, fixed by the first chunk that has the column, so all
    # chunks of a load agree.
    targets: dict[str, str] = field(default_factory=dict)


@dataclass
class _Prepared:
    """A chunk read and checked, ready to write."""

    rows: pl.DataFrame  # every row of the chunk; `_keep` marks those that go to raw
    quarantine: pl.DataFrame
    rows_in: int
    superseded: int
    files: list[str]
    custom: dict[str, str]


def _commit_chunk(
    con: duckdb.DuckDBPyConnection,
    state: _LoadState,
    chunk: _Chunk,
    prepared: _Prepared | None,
    result: IngestResult,
) -> None:
    """One transaction: delete the chunk's days, write its rows, check they reconcile."""
    part = IngestResult(table=state.contract.name, source=state.spec.name)
    con.execute("begin transaction")
    try:
        if chunk.replace:
            _delete_partitions(con, state.contract.name, chunk.replace)
        if prepared is not None:
            _write_batch(con, state, prepared, part)
        part.check()
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    result.absorb(part)


def _load_pipelined(
    con: duckdb.DuckDBPyConnection,
    chunks: list[_Chunk],
    read: Any,
    state: _LoadState,
    result: IngestResult,
) -> None:
    """Check chunk k+1 on a reader connection while chunk k is written.

    Writing is bound by DuckDB's compression and checking by polars; overlapping
    them keeps both cores busy. The reader only reads (files and the catalog), so
    it never competes with the writer's transactions.
    """
    reader = con.cursor()

    def prepare(chunk: _Chunk) -> _Prepared | None:
        return _prepare_batch(reader, read(reader, chunk.read), state) if chunk.reads else None

    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="crmlens-ingest") as pool:
            future = pool.submit(prepare, chunks[0])
            for i, chunk in enumerate(chunks):
                prepared = future.result()
                if i + 1 < len(chunks):
                    future = pool.submit(prepare, chunks[i + 1])
                _commit_chunk(con, state, chunk, prepared, result)
    finally:
        reader.close()


def _plan_chunks(
    spec: SourceSpec, table: str, days: list[date] | None, chunk_rows: int
) -> list[_Chunk]:
    """Chunks of whole days of about ``chunk_rows`` rows; one chunk if not partitioned.

    A day asked for that has no file is still replaced (by nothing: the source no
    longer has it), in the first chunk.
    """
    source = spec.partition_alias(table)
    if source is None:
        return [_Chunk(replace=[], read=None)]
    available = spec.available_days(table)
    wanted = sorted(set(days)) if days is not None else available
    present = set(available)
    readable = [d for d in wanted if d in present]
    sizes = _day_sizes(spec, source, readable)
    chunks: list[_Chunk] = []
    rows = 0
    for day in readable:
        if not chunks or rows + sizes[day] > chunk_rows:
            chunks.append(_Chunk(replace=[], read=[]))
            rows = 0
        chunks[-1].replace.append(day)
        chunks[-1].read.append(day)  # type: ignore[union-attr]
        rows += sizes[day]
    gone = [d for d in wanted if d not in present]
    if gone:
        if not chunks:
            chunks.append(_Chunk(replace=[], read=[]))
        chunks[0].replace = sorted(chunks[0].replace + gone)
    return chunks


def _day_sizes(spec: SourceSpec, source: Any, days: list[date]) -> dict[date, int]:
    """Rows per day file: exact for Parquet (footer), estimated from bytes otherwise."""
    import pyarrow.parquet as pq

    sizes: dict[date, int] = {}
    fmt = source.resolved_format()
    for day in days:
        path = spec.root / source.path.replace("{day}", day.isoformat())
        if not path.exists():
            sizes[day] = 0
        elif fmt == "parquet":
            sizes[day] = pq.ParquetFile(path).metadata.num_rows
        else:
            sizes[day] = path.stat().st_size // 120  # ~bytes per event line
    return sizes


def _delete_partitions(con: duckdb.DuckDBPyConnection, table: str, days: list[date]) -> None:
    for schema in ("raw", "quarantine"):
        con.execute(f"delete from {schema}.{table} where _partition in (select unnest(?))", [days])


def _log(con: duckdb.DuckDBPyConnection, run_id: str, r: IngestResult) -> None:
    con.execute(
        "insert into ops.ingest_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            r.source,
            r.table,
            r.metadata().get("partitions"),
            r.rows_in,
            r.rows_loaded,
            r.rows_quarantined,
            r.inserted,
            r.updated,
            r.unchanged,
            r.superseded,
            datetime.now(UTC).replace(tzinfo=None),
            r.seconds,
        ],
    )


# --- one batch -----------------------------------------------------------------------


def _prepare_batch(
    con: duckdb.DuckDBPyConnection, batch: ReadBatch, state: _LoadState
) -> _Prepared:
    """Read a batch, type it, run the contract and the reference checks, split it."""
    contract = state.contract
    # One contiguous chunk: DuckDB returns a batch per input file, and inserting from
    # hundreds of small Arrow chunks costs nearly twice as much as from one.
    relation = batch.relation
    json_cols = [c for c in contract.json_columns if c in relation.columns]
    if json_cols:
        # JSON validity is computed in the read itself: one scan instead of two.
        flags = ", ".join(f"json_valid({quote_ident(c)}) as {_json_flag(c)}" for c in json_cols)
        relation = relation.query("_batch", f"select *, {flags} from _batch")
    src = relation.pl().rechunk()
    for view in batch.views:
        con.execute(f"drop view if exists {view}")
    if "_source_file" not in src.columns:
        src = src.with_columns(_source_file=pl.lit(f"{state.spec.name}:{contract.name}"))
    if "_source_row" not in src.columns:
        src = src.with_columns(_source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
    # Columns a source lacks are null (DESIGN.md): add them, typed, before the contract runs.
    missing = {c: t for c, t in contract.columns.items() if c not in src.columns}
    if missing:
        src = src.with_columns([pl.lit(None, dtype=t).alias(c) for c, t in missing.items()])
    src = src.with_row_index("_rid")

    custom = [c for c in src.columns if c not in contract.columns and not _internal(c)]
    new = [c for c in custom if c not in state.targets]
    state.targets |= _target_types(con, state.spec, contract, src, new)
    targets = {c: duck_type(t) for c, t in contract.columns.items()} | {
        c: state.targets[c] for c in custom
    }

    # Every check runs on the whole typed frame; failures are few, so the rows are
    # filtered once at the end by a mask instead of copying the frame at each step.
    typed, type_failures = _cast(con, src, targets, contract)
    with validation_clock(state.now, state.tolerance):
        contract_failures = _validate(contract, typed, latest_allowed_timestamp())
    ref_failures = _check_references(contract, typed, state.known)
    bad = pl.concat(
        [_failures_frame(type_failures), contract_failures, ref_failures], how="vertical_relaxed"
    )
    valid = _keep_mask(typed, bad)
    valid, dup_failures, superseded = _resolve_versions(contract, valid)
    bad = pl.concat([bad, dup_failures], how="vertical_relaxed")

    quarantine = _quarantine_rows(src, bad, contract)
    quarantine = pl.concat([quarantine, _reject_rows(batch.rejects)], how="vertical_relaxed")
    return _Prepared(
        rows=valid.drop("_rid"),
        quarantine=quarantine,
        rows_in=src.height + len(batch.rejects),
        superseded=superseded,
        files=sorted(set(batch.files)),
        custom={c: state.targets[c] for c in custom},
    )


def _write_batch(
    con: duckdb.DuckDBPyConnection, state: _LoadState, prepared: _Prepared, result: IngestResult
) -> None:
    table = state.contract.name
    _add_missing_columns(con, table, prepared.custom)
    _write_quarantine(con, state.contract, prepared.quarantine, prepared.files)
    _write_raw(con, state.contract, prepared.rows, result)
    result.files += len(prepared.files)
    result.rows_in += prepared.rows_in
    result.rows_quarantined += prepared.quarantine.height
    result.reasons.update(prepared.quarantine["reason_code"].to_list())
    result.superseded += prepared.superseded
    result.rows_loaded += int(prepared.rows["_keep"].sum()) + prepared.superseded
    result.custom_attributes = sorted(set(result.custom_attributes) | set(prepared.custom))


def _internal(column: str) -> bool:
    """Columns ingest adds for itself: lineage, the row id, check flags."""
    return column in LINEAGE_COLUMNS or column == "_rid" or column.startswith("__")


def _json_flag(column: str) -> str:
    return f"__json_ok__{column}"


def _keep_mask(frame: pl.DataFrame, bad: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with a boolean ``_keep`` column: false for the rows named in ``bad``.

    Bad rows are about one in a hundred: marking them is cheaper than copying the
    other 99 % into a new frame; the insert filters on ``_keep`` as it writes.
    """
    keep = np.ones(frame.height, dtype=bool)
    if not bad.is_empty():
        keep[bad["_rid"].to_numpy()] = False
    return frame.with_columns(_keep=pl.Series(keep))


def _target_types(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    contract: TableContract,
    src: pl.DataFrame,
    custom: list[str],
) -> dict[str, str]:
    """DuckDB type of each custom column: the raw table's, the spec's, or inferred."""
    if not custom:
        return {}
    existing = table_columns(con, "raw", contract.name)
    declared = {k: v.upper() for k, v in spec.custom_attributes.get(contract.name, {}).items()}
    targets, to_infer = {}, []
    for column in custom:
        if column in existing:
            targets[column] = existing[column]
        elif column in declared:
            targets[column] = declared[column]
        elif src.schema[column] != pl.String:
            dtype = src.schema[column]
            targets[column] = duck_type(dtype) if _known(dtype) else "VARCHAR"
        else:
            to_infer.append(column)
    return targets | (_infer_types(con, src.select(to_infer)) if to_infer else {})


def _known(dtype: pl.DataType) -> bool:
    try:
        duck_type(dtype)
    except TypeError:
        return False
    return True


_BOOL_WORDS = ("true", "false", "yes", "no", "t", "f", "y", "n")


def _infer_types(con: duckdb.DuckDBPyConnection, text: pl.DataFrame) -> dict[str, str]:
    """Narrowest type every non-empty value of a text column fits (custom attributes)."""
    con.register("_infer", text)
    checks = []
    for c in text.columns:
        q = quote_ident(c)
        nonnull = f"{q} is not null and trim({q}) <> ''"
        checks.append(
            f"bool_and(not ({nonnull}) or lower(trim({q})) in {_BOOL_WORDS}), "
            f"bool_and(not ({nonnull}) or try_cast({q} as bigint) is not null), "
            f"bool_and(not ({nonnull}) or try_cast({q} as double) is not null), "
            f"bool_and(not ({nonnull}) or regexp_full_match(trim({q}), '\\d{{4}}-\\d{{2}}-\\d{{2}}')), "
            f"bool_and(not ({nonnull}) or try_cast({q} as timestamp) is not null), "
            f"count({q}) filter (where {nonnull})"
        )
    row = fetch_one(con, f"select {', '.join(checks)} from _infer")
    con.unregister("_infer")
    types = {}
    for i, c in enumerate(text.columns):
        is_bool, is_int, is_num, is_date, is_ts, n = row[i * 6 : i * 6 + 6]
        if not n:
            types[c] = "VARCHAR"
        elif is_bool:
            types[c] = "BOOLEAN"
        elif is_int:
            types[c] = "BIGINT"
        elif is_num:
            types[c] = "DOUBLE"
        elif is_date:
            types[c] = "DATE"
        elif is_ts:
            types[c] = "TIMESTAMP"
        else:
            types[c] = "VARCHAR"
    return types


def _add_missing_columns(
    con: duckdb.DuckDBPyConnection, table: str, custom: dict[str, str]
) -> None:
    existing = table_columns(con, "raw", table)
    for column, dtype in custom.items():
        if column not in existing:
            con.execute(f"alter table raw.{table} add column {quote_ident(column)} {dtype}")


_POLARS_OF = {
    "VARCHAR": pl.String,
    "DOUBLE": pl.Float64,
    "BIGINT": pl.Int64,
    "INTEGER": pl.Int32,
    "BOOLEAN": pl.Boolean,
    "TIMESTAMP": pl.Datetime("us"),
    "DATE": pl.Date,
    "JSON": pl.String,
}


def _cast_sql(column: str, target: str, source_is_text: bool) -> str:
    q = quote_ident(column)
    if target == "TIMESTAMP":
        # Through TIMESTAMPTZ so offsets ("...Z", "+02:00") land in UTC.
        return f"try_cast({q} as timestamptz)::timestamp"
    if target == "DATE":
        return f"coalesce(try_cast({q} as date), try_cast({q} as timestamp)::date)"
    if target == "BOOLEAN" and source_is_text:
        words = "('true', 't', 'yes', 'y', '1'), ('false', 'f', 'no', 'n', '0')"
        yes, no = words.split("), (")
        return (
            f"case when lower(trim({q})) in {yes}) then true "
            f"when lower(trim({q})) in ({no} then false end"
        )
    return f"try_cast({q} as {target})"


def _cast(
    con: duckdb.DuckDBPyConnection,
    src: pl.DataFrame,
    targets: dict[str, str],
    contract: TableContract,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cast every column to its target type; report values that do not fit.

    Returns the typed rows (same rows, same order as ``src``) and a frame of
    failures (_rid, column, value, target). Columns already of the right type
    (Parquet) pass through untouched; a JSON column is only checked, since a
    valid value is kept as it is.
    """
    json_cols = [c for c in contract.json_columns if _json_flag(c) in src.columns]
    to_cast = {
        c: t
        for c, t in targets.items()
        if c not in json_cols and src.schema[c] != _POLARS_OF.get(t, pl.String)
    }
    failures = [
        pl.DataFrame(
            schema={"_rid": pl.UInt32, "column": pl.String, "value": pl.String, "target": pl.String}
        )
    ]
    typed = src
    for c in json_cols:
        # The read computed json_valid() into a flag column (see _prepare_batch).
        flag = _json_flag(c)
        invalid = pl.col(c).is_not_null() & ~pl.col(flag).fill_null(True)
        bad = src.filter(invalid).select(
            "_rid", column=pl.lit(c), value=pl.col(c).cast(pl.String), target=pl.lit("JSON")
        )
        failures.append(bad)
        if bad.height:
            typed = typed.with_columns(pl.when(invalid).then(None).otherwise(pl.col(c)).alias(c))
    typed = typed.drop([_json_flag(c) for c in json_cols])
    if to_cast:
        con.register("_src", src.select(["_rid", *to_cast]))
        exprs, flags = ["_rid"], []
        for c, t in to_cast.items():
            q = quote_ident(c)
            cast = _cast_sql(c, t, src.schema[c] == pl.String)
            exprs.append(f"{cast} as {q}")
            flags.append(f"case when {q} is not null and {cast} is null then '{c}' end")
        sql = (
            f"select {', '.join(exprs)}, "
            f"list_filter([{', '.join(flags)}], lambda x: x is not null) as _bad from _src"
        )
        cast_part = con.sql(sql).pl()
        con.unregister("_src")
        if not cast_part["_rid"].equals(src["_rid"]):  # DuckDB kept the order; make sure
            cast_part = src.select("_rid").join(cast_part, on="_rid", how="left")
        typed = typed.with_columns(cast_part.select(list(to_cast)))
        long = (
            cast_part.select("_rid", "_bad")
            .filter(pl.col("_bad").list.len() > 0)
            .explode("_bad")
            .rename({"_bad": "column"})
        )
        if long.height:
            values = src.join(long.select("_rid").unique(), on="_rid").select(
                "_rid", *[pl.col(c).cast(pl.String) for c in to_cast]
            )
            long = long.join(values, on="_rid").with_columns(
                value=pl.coalesce(
                    [pl.when(pl.col("column") == c).then(pl.col(c)) for c in to_cast]
                ),
                target=pl.col("column").replace_strict(to_cast, default=None),
            )
            failures.append(long.select("_rid", "column", "value", "target"))
    return typed, pl.concat(failures)


def _failures_frame(type_failures: pl.DataFrame) -> pl.DataFrame:
    return type_failures.select(
        "_rid",
        "column",
        reason_code=pl.lit("type_error"),
        reason=pl.format("{}: cannot read '{}' as {}", "column", "value", "target"),
        value="value",
    )


_EMPTY_FAILURES = {
    "_rid": pl.UInt32,
    "column": pl.String,
    "reason_code": pl.String,
    "reason": pl.String,
    "value": pl.String,
}


def _ingest_schema(contract: TableContract) -> pa.DataFrameSchema:
    """The contract without its key-uniqueness rule: ingest resolves versions itself."""
    schema = contract.schema.to_schema()
    schema.unique = None
    for column in schema.columns.values():
        column.unique = False
    return schema


def _validate(contract: TableContract, valid: pl.DataFrame, limit: datetime) -> pl.DataFrame:
    """Run the contract; one row per (row, failure) with a reason in words."""
    if valid.is_empty():
        return pl.DataFrame(schema=_EMPTY_FAILURES)
    try:
        _ingest_schema(contract).validate(valid, lazy=True)
        return pl.DataFrame(schema=_EMPTY_FAILURES)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    if cases["index"].null_count():
        schema_level = cases.filter(pl.col("index").is_null())
        raise RuntimeError(
            f"{contract.name}: contract failed at schema level (a bug in casting): "
            f"{schema_level.select('column', 'check').rows()}"
        )
    cases = cases.with_columns(_rid=valid["_rid"].gather(cases["index"]))
    parts = [pl.DataFrame(schema=_EMPTY_FAILURES)]
    for (column, check), group in cases.group_by(["column", "check"], maintain_order=True):
        code, col, reason = _describe(contract, column, check, limit)
        parts.append(
            group.select(
                "_rid",
                column=pl.lit(col),
                reason_code=pl.lit(code),
                reason=reason,
                value=pl.col("failure_case"),
            )
        )
    return pl.concat(parts, how="vertical_relaxed")


def _describe(
    contract: TableContract, column: str, check: str, limit: datetime
) -> tuple[str, str, pl.Expr]:
    """(reason_code, column, sentence expression over ``failure_case``) for a pandera check."""
    value = pl.col("failure_case")
    if "_not_before_" in check:
        # Dataframe checks report the whole row as JSON.
        end, start = check.split("_not_before_")
        return (
            "end_before_start",
            end,
            pl.format(
                f"{end} ({{}}) is before {start} ({{}})",
                value.str.json_path_match(f"$.{end}"),
                value.str.json_path_match(f"$.{start}"),
            ),
        )
    if check == "not_nullable" or check.startswith("str_length"):
        return "missing_required", column, pl.lit(f"{column} is required but empty")
    if check.startswith("isin"):
        allowed = ", ".join(_allowed(contract.schema.to_schema().columns[column]))
        return (
            "unknown_value",
            column,
            pl.format(f"{column}: unknown value '{{}}' (allowed: {allowed})", value),
        )
    if check.startswith("str_matches") and "email" in column:
        return (
            "invalid_email",
            column,
            pl.format(f"{column}: '{{}}' is not a well-formed e-mail address", value),
        )
    if check.startswith("str_matches"):
        return (
            "invalid_format",
            column,
            pl.format(f"{column}: '{{}}' is not in the expected format", value),
        )
    if check.startswith("greater_than_or_equal_to"):
        return "negative_value", column, pl.format(f"{column}: {{}} is negative", value)
    if check.startswith("in_range"):
        return "out_of_range", column, pl.format(f"{column}: {{}} is out of range ({check})", value)
    if check == "not_in_future":
        latest = f"{limit:%Y-%m-%d %H:%M}"
        return (
            "future_timestamp",
            column,
            pl.format(f"{column}: {{}} lies in the future (latest allowed {latest})", value),
        )
    return f"failed_{check}", column, pl.format(f"{column}: '{{}}' fails {check}", value)


def _allowed(column: Any) -> list[str]:
    for check in column.checks:
        if check.name == "isin":
            return [str(v) for v in check.statistics["allowed_values"]]
    return []


def _known_references(
    con: duckdb.DuckDBPyConnection, contract: TableContract
) -> dict[str, pl.Series]:
    """Per reference column, the ids the CRM has (loaded or quarantined); read once per load.

    A referenced table that is still empty means the reference cannot be judged
    (the source lacks that table): that check is skipped, with a warning.
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


def _check_references(
    contract: TableContract, rows: pl.DataFrame, known: dict[str, pl.Series]
) -> pl.DataFrame:
    """References to ids the CRM never had (neither loaded nor quarantined)."""
    failures = [pl.DataFrame(schema=_EMPTY_FAILURES)]
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


def _resolve_versions(
    contract: TableContract, rows: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """One row per key among the kept rows: the latest version wins; repeats collapse.

    Works on the ``_keep`` mask: older versions and identical repeats of a key are
    marked not kept (superseded: their information is applied, then overwritten).
    Two different rows with the same key and the same ``updated_at`` cannot be
    ordered: both go to quarantine as ``duplicate_key``. Returns the rows with the
    updated mask, the failures, and the number of superseded rows.
    """
    key = list(contract.key)
    no_failures = pl.DataFrame(schema=_EMPTY_FAILURES)
    keys = rows.select(*key, "_keep").filter("_keep")  # the key columns only: no full copy
    if keys.is_empty():
        return rows, no_failures, 0
    if len(key) == 1 and keys[key[0]].n_unique() == keys.height:
        return rows, no_failures, 0  # the common case, checked fast
    key_expr = pl.col(key[0]) if len(key) == 1 else pl.struct(key)  # struct hashing is slow
    dups = rows.filter(pl.col("_keep") & key_expr.is_duplicated().over("_keep"))
    if dups.is_empty():
        return rows, no_failures, 0
    business = [c for c in rows.columns if c not in (*LINEAGE_COLUMNS, "_rid", "_keep")]
    latest = dups
    if contract.updated_at:
        u = pl.col(contract.updated_at)
        latest = dups.filter(u == u.max().over(key))
    distinct = latest.unique(subset=business, keep="first", maintain_order=True)
    conflicting = distinct.filter(key_expr.is_duplicated()).select(key).unique()
    winners = distinct.join(conflicting, on=key, how="anti")
    conflict_rows = latest.join(conflicting, on=key, how="semi")
    key_text = pl.concat_str([pl.col(k).cast(pl.String) for k in key], separator="|")
    failures = conflict_rows.select(
        "_rid",
        column=pl.lit(key[0]),
        reason_code=pl.lit("duplicate_key"),
        reason=pl.format(
            "key {} appears more than once with the same "
            + (contract.updated_at or "version")
            + " and different values",
            key_text,
        ),
        value=key_text,
    )
    drop = dups.join(winners.select("_rid"), on="_rid", how="anti")["_rid"].to_numpy()
    keep = rows["_keep"].to_numpy().copy()
    keep[drop] = False
    superseded = len(drop) - conflict_rows.height
    return rows.with_columns(_keep=pl.Series(keep)), failures, superseded


def _quarantine_rows(src: pl.DataFrame, bad: pl.DataFrame, contract: TableContract) -> pl.DataFrame:
    """One quarantine row per bad input row: its first failure names the column and
    reason, all failures are kept in ``failures``, and the original values in ``record``."""
    if bad.is_empty():
        return _empty_quarantine()
    grouped = bad.group_by("_rid", maintain_order=True).agg(
        column_name=pl.col("column").first(),
        reason_code=pl.col("reason_code").first(),
        reason=pl.col("reason").first(),
        failures=pl.struct(
            pl.col("column"), pl.col("reason_code"), pl.col("reason"), pl.col("value")
        ),
    )
    record_cols = [c for c in src.columns if not _internal(c)]
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
        record=pl.struct([pl.col(c).cast(pl.String) for c in record_cols]).struct.json_encode(),
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


def _empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
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
    )


def _reject_rows(rejects: list[Reject]) -> pl.DataFrame:
    if not rejects:
        return _empty_quarantine()
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
    return pl.DataFrame(rows, schema=_empty_quarantine().schema)


def _write_quarantine(
    con: duckdb.DuckDBPyConnection, contract: TableContract, rows: pl.DataFrame, files: list[str]
) -> None:
    """Replace what earlier loads of the same files quarantined, then add this load's rows.

    Partitioned tables had their days' quarantine deleted with the days; database
    sources replace the earlier entry of each key read again.
    """
    table = contract.name
    if not contract.partition_column and files:
        con.execute(
            f"delete from quarantine.{table} where _source_file in (select unnest(?))", [files]
        )
    elif not files and rows.height:
        con.register("_qkeys", rows.select("record_key"))
        con.execute(
            f"delete from quarantine.{table} where record_key in (select record_key from _qkeys)"
        )
        con.unregister("_qkeys")
    if rows.is_empty():
        return
    con.register("_q", rows)
    con.execute(f"insert into quarantine.{table} by name select * from _q")
    con.unregister("_q")


def _write_raw(
    con: duckdb.DuckDBPyConnection,
    contract: TableContract,
    rows: pl.DataFrame,
    result: IngestResult,
) -> None:
    """Write the kept rows: upsert by key, the latest updated_at winning; partitioned
    tables just insert (their days were deleted first)."""
    table = contract.name
    if rows.is_empty():
        return
    con.register("_rows", rows)
    try:
        if contract.partition_column:
            con.execute(
                f"insert into raw.{table} by name select * exclude (_keep) from _rows where _keep"
            )
            result.inserted += rows["_keep"].sum()
            return
        key = [quote_ident(k) for k in contract.key]
        on = " and ".join(f"r.{k} = i.{k}" for k in key)
        business = [quote_ident(c) for c in rows.columns if c not in (*LINEAGE_COLUMNS, "_keep")]
        same = (
            f"({', '.join('i.' + c for c in business)}) is not distinct from "
            f"({', '.join('r.' + c for c in business)})"
        )
        stale = (
            f"i.{contract.updated_at} < r.{contract.updated_at}" if contract.updated_at else "false"
        )
        con.execute(
            f"create or replace temp table _classified as "
            f"select i.* exclude (_keep), case when r.{key[0]} is null then 'insert' "
            f"when {stale} then 'stale' when {same} then 'same' else 'update' end as _action "
            f"from _rows i left join raw.{table} r on {on} where i._keep"
        )
        counts = dict(
            con.execute("select _action, count(*) from _classified group by 1").fetchall()
        )
        con.execute(
            f"delete from raw.{table} r using _classified i where {on} and i._action = 'update'"
        )
        con.execute(
            f"insert into raw.{table} by name select * exclude (_action) from _classified "
            f"where _action in ('insert', 'update')"
        )
        con.execute("drop table _classified")
        result.inserted += counts.get("insert", 0)
        result.updated += counts.get("update", 0)
        result.unchanged += counts.get("same", 0) + counts.get("stale", 0)
    finally:
        con.unregister("_rows")
