"""The walk of one batch: read → type → contract → references → versions → split.

Every check runs on the whole typed frame; failures are few, so the rows are
marked once at the end by a mask instead of copying the frame at each step.
Nothing here writes to the warehouse: a batch can be prepared on a reader
connection while the previous one is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import duckdb
import polars as pl

from crmlens.contracts import TableContract, latest_allowed_timestamp, validation_clock
from crmlens.ingest.batch import internal, read_frame
from crmlens.ingest.cast import cast, target_types
from crmlens.ingest.deletions import Tombstones, mark_flagged, mark_tombstoned, read_tombstones
from crmlens.ingest.quarantine import file_rows, quarantine_rows, reject_rows
from crmlens.ingest.references import check_references
from crmlens.ingest.validate import nul_bytes, validate
from crmlens.ingest.versions import keep_mask, resolve_versions
from crmlens.ingest.vocabulary import Accepting, closed_list_failures
from crmlens.sources.feed import TableFeed
from crmlens.sources.files import DELETED, ReadBatch
from crmlens.sources.spec import Deletions, SpecError
from crmlens.warehouse import duck_type


@dataclass
class LoadState:
    """What every batch of one load shares."""

    source: str
    contract: TableContract
    declared: dict[str, str]  # custom column -> DuckDB type, as the spec declares it
    known: dict[str, pl.Series]
    now: datetime | None
    tolerance: timedelta
    # Custom-attribute types, fixed by the first chunk that has the column, so all
    # chunks of a load agree.
    targets: dict[str, str] = field(default_factory=dict)
    # Read from day files: a day is replaced whole, and a key belongs to one day.
    partitioned: bool = False
    # How the CRM says a record was deleted (None: the spec does not say), and what the
    # load gathers for it: the tombstones (read once), the keys read and the lines the
    # parser could not split (a full snapshot's absent keys), whether it read everything.
    feed: TableFeed | None = None
    deletions: Deletions | None = None
    clock: datetime | None = None
    tombstones: Tombstones | None = None
    seen: list[pl.DataFrame] = field(default_factory=list)
    rejected_lines: list[str] = field(default_factory=list)
    complete: bool = True
    # Per column of a closed vocabulary (stages, lead statuses), the labels it accepts.
    accept: dict[str, Accepting] = field(default_factory=dict)
    # The files' own date formats (strptime), tried before ISO 8601.
    date_formats: tuple[str, ...] = ()


@dataclass
class Prepared:
    """A batch read and checked, ready to write."""

    rows: pl.DataFrame  # every row of the batch; `_keep` marks those that go to raw
    quarantine: pl.DataFrame
    # The rows as read (``_rid`` is their position): a row found at write time to break
    # a rule (a key already in raw) is quarantined with its original values.
    src: pl.DataFrame
    rows_in: int
    superseded: int
    files: list[str]
    custom: dict[str, str]
    # Files that could not be read at all, and the days they hold: those days keep
    # what an earlier load put in raw (nothing of them was read this time).
    bad_files: list[str] = field(default_factory=list)
    kept_days: set[date] = field(default_factory=set)
    # The select's columns; None when it could not run (then no day is replaced).
    columns: list[str] | None = None
    warnings: list[str] = field(default_factory=list)
    widened: list[str] = field(default_factory=list)  # custom attributes whose type widened


def prepare(con: duckdb.DuckDBPyConnection, batch: ReadBatch, state: LoadState) -> Prepared:
    """Type a batch, run the contract and the reference checks, and split it.

    Args:
        con: the connection the batch was read on (reads only).
        batch: what the source read.
        state: what the load's batches share; custom types found here are added to it.

    Returns:
        The rows marked for raw, the quarantine rows, and the batch's counts.
    """
    contract = state.contract
    src, columns = read_frame(con, batch, contract, origin=f"{state.source}:{contract.name}")
    flag = state.deletions.flag if state.deletions else None
    if flag and columns is not None and flag not in columns:
        raise SpecError(f"{batch.where}: the select does not return the deleted flag {flag!r}")

    custom = [c for c in src.columns if c not in contract.columns and not internal(c)]
    custom = [c for c in custom if c != flag]
    found, widened = target_types(
        con, state.declared, contract, src, custom, state.targets, state.date_formats
    )
    state.targets |= found
    targets = {c: duck_type(t) for c, t in contract.columns.items()} | {
        c: state.targets[c] for c in custom
    }
    if flag in src.columns:
        targets[flag] = "BOOLEAN"

    nul_failures = nul_bytes(src, [c for c in src.columns if not internal(c)])
    typed, type_failures = cast(con, src, targets, contract, state.date_formats)
    with validation_clock(state.now, state.tolerance):
        contract_failures = validate(contract, typed, latest_allowed_timestamp())
    ref_failures = check_references(contract, typed, state.known)
    label_failures = closed_list_failures(typed, state.accept)
    bad = pl.concat(
        [nul_failures, type_failures, contract_failures, label_failures, ref_failures],
        how="vertical_relaxed",
    )
    if state.deletions:
        typed = _deletions(con, state, src, typed, batch)
    valid = keep_mask(typed, bad)
    valid, dup_failures, superseded = resolve_versions(
        contract, valid, partitioned=state.partitioned
    )
    bad = pl.concat([bad, dup_failures], how="vertical_relaxed")

    quarantine = pl.concat(
        [
            quarantine_rows(src, bad, contract),
            reject_rows(batch.rejects),
            file_rows(batch.bad_files),
        ],
        how="vertical_relaxed",
    )
    return Prepared(
        rows=valid,
        quarantine=quarantine,
        src=src,
        rows_in=src.height + len(batch.rejects) + len(batch.bad_files),
        superseded=superseded,
        files=sorted(set(batch.files)),
        custom={c: state.targets[c] for c in custom},
        bad_files=sorted({b.source_file for b in batch.bad_files}),
        kept_days={b.partition for b in batch.bad_files if b.partition is not None},
        columns=columns,
        warnings=list(batch.warnings),
        widened=widened,
    )


def _deletions(
    con: duckdb.DuckDBPyConnection,
    state: LoadState,
    src: pl.DataFrame,
    typed: pl.DataFrame,
    batch: ReadBatch,
) -> pl.DataFrame:
    """Mark the batch's deleted rows (``_deleted_at``); gather what the load's end needs."""
    assert state.deletions is not None and state.clock is not None
    contract, deletions = state.contract, state.deletions
    if deletions.flag and deletions.flag in typed.columns:
        typed = mark_flagged(typed, deletions.flag, contract, state.clock)
    else:
        typed = typed.with_columns(pl.lit(None, dtype=pl.Datetime("us")).alias(DELETED))
    if deletions.tombstones:
        if state.tombstones is None:
            assert state.feed is not None
            state.tombstones = read_tombstones(con, state.feed, contract)
            batch.bad_files += state.tombstones.bad_files  # quarantined with this batch
        typed = mark_tombstoned(typed, state.tombstones.keys, contract, state.clock)
    if deletions.full_snapshot:
        key = list(contract.key)
        state.seen.append(src.select(pl.col(k).cast(pl.String) for k in key).drop_nulls())
        state.rejected_lines += [r.line for r in batch.rejects]
        state.complete &= typed.height + len(batch.rejects) > 0 and not batch.bad_files
    return typed
