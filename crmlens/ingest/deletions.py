"""Deletions: raw keeps a record the CRM deleted, marked deleted with when; staging drops it.

A spec declares, per table, how its CRM says a record was deleted
(:class:`~crmlens.sources.spec.Deletions`):

- ``flag``: a column of the select, true for a deleted record; it is deleted when its
  ``updated_at`` says (else when the load saw it), and the flag itself is not kept as
  an attribute;
- ``tombstones``: a select over the spec's files listing deleted keys, with
  ``deleted_at`` when known (else when the load saw it); a tombstone older than the
  record's last change does not apply (the record was restored);
- ``full_snapshot``: every load holds every record, so a key raw holds and a load does
  not is deleted when that load ran. A load that is no full snapshot (an unreadable
  file, no rows at all) marks nothing, and says so; a key that may hide in a line the
  parser could not split is never marked.

The mark is ``raw.<table>._deleted_at``; a record that comes back is live again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import polars as pl

from crmlens.clock import utc_now
from crmlens.contracts import TableContract
from crmlens.sources.feed import TableFeed
from crmlens.sources.files import DELETED, BadFile
from crmlens.sources.spec import SpecError
from crmlens.warehouse import quote_ident


def clock(now: datetime | None) -> datetime:
    """The moment a load counts as now (naive UTC), for deletions it sees."""
    return now or utc_now()


def mark_flagged(
    typed: pl.DataFrame, flag: str, contract: TableContract, now: datetime
) -> pl.DataFrame:
    """Set ``_deleted_at`` of the rows whose flag is true, and drop the flag.

    Args:
        typed: the typed batch (the flag cast to BOOLEAN).
        flag: the flag column.
        contract: the table's contract.
        now: when the load runs (the time of deletion when the table has no updated_at).

    Returns:
        The batch with ``_deleted_at``, without the flag.
    """
    when = pl.col(contract.updated_at) if contract.updated_at else pl.lit(now)
    deleted = pl.when(pl.col(flag).fill_null(False)).then(when).otherwise(None)
    return typed.with_columns(deleted.cast(pl.Datetime("us")).alias(DELETED)).drop(flag)


@dataclass
class Tombstones:
    """The keys a CRM deleted: key columns as text and ``deleted_at`` (null: unknown)."""

    keys: pl.DataFrame
    bad_files: list[BadFile] = field(default_factory=list)


def read_tombstones(
    con: duckdb.DuckDBPyConnection, feed: TableFeed, contract: TableContract
) -> Tombstones:
    """Read a table's tombstones, one per key (the earliest date of deletion).

    Raises:
        SpecError: the tombstones' select does not return the table's key.
    """
    batch = feed.read_tombstones(con)
    key = list(contract.key)

    def typed(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
        missing = [k for k in key if k not in relation.columns]
        if missing:
            raise SpecError(f"{batch.where}: the tombstones' select lacks {', '.join(missing)}")
        when = (
            "try_cast(deleted_at as timestamptz)::timestamp"
            if "deleted_at" in relation.columns
            else "null::timestamp"
        )
        keys = ", ".join(f"{quote_ident(k)}::varchar as {quote_ident(k)}" for k in key)
        return relation.query("_t", f"select {keys}, {when} as deleted_at from _t")

    try:
        frame = batch.collect(typed)
    finally:
        for view in batch.views:
            con.execute(f"drop view if exists {view}")
    if frame is None:
        schema = dict.fromkeys(key, pl.String) | {"deleted_at": pl.Datetime("us")}
        frame = pl.DataFrame(schema=schema)
    frame = frame.drop_nulls(key).group_by(key).agg(pl.col("deleted_at").min())
    return Tombstones(frame, batch.bad_files)


def mark_tombstoned(
    rows: pl.DataFrame, tombstones: pl.DataFrame, contract: TableContract, now: datetime
) -> pl.DataFrame:
    """Set ``_deleted_at`` of the batch's rows that a tombstone names."""
    key = list(contract.key)
    named = tombstones.rename({"deleted_at": "__tombstone"}).with_columns(__named=pl.lit(True))
    marked = rows.join(named, on=key, how="left", maintain_order="left")
    applies = pl.col("__named").fill_null(False)
    if contract.updated_at:
        # A tombstone older than the record's last change: the record was restored.
        applies = applies & (
            pl.col("__tombstone").is_null() | (pl.col("__tombstone") >= pl.col(contract.updated_at))
        )
    when = pl.coalesce(pl.col("__tombstone"), pl.lit(now))
    deleted = pl.when(applies).then(when).otherwise(pl.col(DELETED))
    return marked.with_columns(deleted.cast(pl.Datetime("us")).alias(DELETED)).drop(
        "__tombstone", "__named"
    )


def apply_tombstones(
    con: duckdb.DuckDBPyConnection, contract: TableContract, tombstones: pl.DataFrame, now: datetime
) -> None:
    """Mark deleted the raw rows a tombstone names that this load did not read."""
    if tombstones.is_empty():
        return
    match = " and ".join(f"r.{quote_ident(k)} = t.{quote_ident(k)}" for k in contract.key)
    restored = (
        f" and (t.deleted_at is null or r.{contract.updated_at} is null "
        f"or t.deleted_at >= r.{contract.updated_at})"
        if contract.updated_at
        else ""
    )
    con.register("_tombstones", tombstones)
    try:
        con.execute(
            f"update raw.{contract.name} r set {DELETED} = coalesce(t.deleted_at, ?) "
            f"from _tombstones t where {match} and r.{DELETED} is null{restored}",
            [now],
        )
    finally:
        con.unregister("_tombstones")


def mark_absent(
    con: duckdb.DuckDBPyConnection,
    contract: TableContract,
    seen: pl.DataFrame,
    rejected_lines: list[str],
    now: datetime,
) -> None:
    """Mark deleted the raw rows whose key a full snapshot does not hold.

    Args:
        con: the connection of the load's last transaction.
        contract: the table's contract.
        seen: the key of every row the load read (loaded or quarantined), as text.
        rejected_lines: lines the parser could not split: a key in one is not absent.
        now: when the load runs.
    """
    key = [quote_ident(k) for k in contract.key]
    match = " and ".join(f"s.{k} = r.{k}" for k in key)
    con.register("_seen", seen)
    try:
        absent = con.sql(
            f"select {', '.join('r.' + k for k in key)} from raw.{contract.name} r "
            f"where r.{DELETED} is null and not exists (select 1 from _seen s where {match})"
        ).pl()
    finally:
        con.unregister("_seen")
    if rejected_lines and absent.height:
        # The key of a line the parser could not split is unknown: a key written in one
        # may be present, so it is not marked.
        text = "\n".join(rejected_lines)
        hidden = [all(str(v) in text for v in values) for values in absent.iter_rows()]
        absent = absent.filter(~pl.Series(hidden, dtype=pl.Boolean))
    if absent.is_empty():
        return
    con.register("_absent", absent)
    try:
        match = " and ".join(f"a.{k} = r.{k}" for k in key)
        con.execute(
            f"update raw.{contract.name} r set {DELETED} = ? from _absent a where {match}", [now]
        )
    finally:
        con.unregister("_absent")


def count_deleted(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """How many raw rows are marked deleted."""
    return con.execute(f"select count(*) from raw.{table} where {DELETED} is not null").fetchall()[
        0
    ][0]
