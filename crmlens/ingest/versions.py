"""Which rows go to raw: the ``_keep`` mask, and one version per key.

Bad rows are about one in a hundred: marking them is cheaper than copying the
other 99 % into a new frame, so the rows stay in one frame with a boolean
``_keep`` column and the insert filters on it as it writes.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crmlens.contracts import TableContract
from crmlens.ingest.failures import no_failures
from crmlens.sources.files import LINEAGE_COLUMNS


def keep_mask(frame: pl.DataFrame, bad: pl.DataFrame) -> pl.DataFrame:
    """Mark the rows that may go to raw.

    Args:
        frame: the typed batch, with ``_rid``.
        bad: the failures so far (see :mod:`.failures`).

    Returns:
        ``frame`` with a boolean ``_keep`` column: false for the rows named in ``bad``.
    """
    keep = np.ones(frame.height, dtype=bool)
    if not bad.is_empty():
        keep[bad["_rid"].to_numpy()] = False
    return frame.with_columns(_keep=pl.Series(keep))


def resolve_versions(
    contract: TableContract, rows: pl.DataFrame, *, partitioned: bool = False
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """One row per key among the kept rows: the latest version wins; repeats collapse.

    Older versions and identical repeats of a key are marked not kept (superseded:
    their information is applied, then overwritten). Two different rows with the
    same key and the same ``updated_at`` cannot be ordered: both go to quarantine
    as ``duplicate_key``. In day-partitioned loads a key belongs to the first day
    that has it: its copies in later days' files are ``duplicate_key`` (a day is
    reloaded whole, so a key living in two days would be loaded twice).

    Args:
        contract: the table's contract (its key and ``updated_at`` column).
        rows: the typed batch with ``_rid`` and ``_keep``.
        partitioned: whether the batch was read from day files (``_partition``).

    Returns:
        The rows with the updated mask, the failures, and the number of superseded rows.
    """
    key = list(contract.key)
    keys = rows.select(*key, "_keep").filter("_keep")  # the key columns only: no full copy
    if keys.is_empty():
        return rows, no_failures(), 0
    if len(key) == 1 and keys[key[0]].n_unique() == keys.height:
        return rows, no_failures(), 0  # the common case, checked fast
    key_expr = pl.col(key[0]) if len(key) == 1 else pl.struct(key)  # struct hashing is slow
    later_days = no_failures()
    if partitioned and "_partition" in rows.columns:
        rows, later_days = _later_days(contract, rows)
    dups = rows.filter(pl.col("_keep") & key_expr.is_duplicated().over("_keep"))
    if dups.is_empty():
        return rows, later_days, 0
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
    failures = pl.concat([later_days, failures], how="vertical_relaxed")
    return rows.with_columns(_keep=pl.Series(keep)), failures, superseded


def _later_days(contract: TableContract, rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Copies of a key in a later day than its first: not kept, ``duplicate_key``."""
    key = list(contract.key)
    kept = rows.filter("_keep").select("_rid", *key, "_partition", "_source_file", "_source_row")
    later = kept.filter(pl.col("_partition") > pl.col("_partition").min().over(key))
    if later.is_empty():
        return rows, no_failures()
    first = (
        kept.sort("_partition", "_rid")
        .unique(subset=key, keep="first", maintain_order=True)
        .select(*key, first_file="_source_file", first_row="_source_row")
    )
    failures = already_loaded(contract, later.join(first, on=key))
    keep = rows["_keep"].to_numpy().copy()
    keep[later["_rid"].to_numpy()] = False
    return rows.with_columns(_keep=pl.Series(keep)), failures


def already_loaded(contract: TableContract, found: pl.DataFrame) -> pl.DataFrame:
    """Failures of rows whose key is loaded elsewhere (``first_file``, ``first_row``).

    Args:
        contract: the table's contract.
        found: the rows (``_rid`` and the key) with where the loaded copy came from.

    Returns:
        One ``duplicate_key`` failure per row, naming the file and row of the loaded copy.
    """
    key = list(contract.key)
    key_text = pl.concat_str([pl.col(k).cast(pl.String) for k in key], separator="|")
    return found.select(
        "_rid",
        column=pl.lit(key[0]),
        reason_code=pl.lit("duplicate_key"),
        reason=pl.format(
            f"{'|'.join(key)} {{}} is already loaded from {{}} row {{}}; a key is loaded once, "
            "from the first day that has it",
            key_text,
            pl.col("first_file"),
            pl.col("first_row"),
        ),
        value=key_text,
    )
