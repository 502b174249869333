"""A batch the source handed over, as one polars frame ready to be typed and checked.

Every row gets its lineage (source file and row), the canonical columns the
source lacks (null, typed: DESIGN.md), and ``_rid``, its position in the batch,
by which every check names the rows it fails.
"""

from __future__ import annotations

import duckdb
import polars as pl

from crmlens.contracts import TableContract
from crmlens.sources.files import LINEAGE_COLUMNS, ReadBatch
from crmlens.warehouse import quote_ident


def internal(column: str) -> bool:
    """Whether a column is one ingest adds for itself: lineage, the row id, check flags."""
    return column in LINEAGE_COLUMNS or column == "_rid" or column.startswith("__")


def json_flag(column: str) -> str:
    """The column holding ``json_valid()`` of a JSON column, computed by the read."""
    return f"__json_ok__{column}"


def as_text(column: str, dtype: pl.DataType) -> pl.Expr:
    """A column's values as text, for a message or a quarantined record (a list as JSON)."""
    if isinstance(dtype, pl.List | pl.Array):
        wrapped = pl.struct(pl.col(column).alias("v")).struct.json_encode()
        return wrapped.str.strip_prefix('{"v":').str.strip_suffix("}").alias(column)
    return pl.col(column).cast(pl.String)


def read_frame(
    con: duckdb.DuckDBPyConnection, batch: ReadBatch, contract: TableContract, origin: str
) -> tuple[pl.DataFrame, list[str] | None]:
    """Run the batch's select into one contiguous frame and drop its views.

    Args:
        con: the connection the batch was read on.
        batch: what the source read.
        contract: the table's contract.
        origin: the ``_source_file`` of rows whose select does not say it.

    Returns:
        Every row of the batch with lineage, every canonical column, and ``_rid``; and the
        columns the select returned (None when it could not run: every file of an alias
        it reads is unreadable).
    """

    def with_flags(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
        json_cols = [c for c in contract.json_columns if c in relation.columns]
        if not json_cols:
            return relation
        # JSON validity is computed in the read itself: one scan instead of two.
        flags = ", ".join(f"json_valid({quote_ident(c)}) as {json_flag(c)}" for c in json_cols)
        return relation.query("_batch", f"select *, {flags} from _batch")

    try:
        src = batch.collect(with_flags)
    finally:
        for view in batch.views:
            con.execute(f"drop view if exists {view}")
    columns = None
    if src is None:
        src = pl.DataFrame(schema={"_source_file": pl.String, "_source_row": pl.Int64})
    else:
        columns = [c for c in src.columns if not internal(c)]
    # One contiguous chunk: DuckDB returns a batch per input file, and inserting from
    # hundreds of small Arrow chunks costs nearly twice as much as from one.
    src = src.rechunk()
    if "_source_file" not in src.columns:
        src = src.with_columns(_source_file=pl.lit(origin))
    if "_source_row" not in src.columns:
        src = src.with_columns(_source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
    # Columns a source lacks are null (DESIGN.md): add them, typed, before the contract runs.
    missing = {c: t for c, t in contract.columns.items() if c not in src.columns}
    if missing:
        src = src.with_columns([pl.lit(None, dtype=t).alias(c) for c, t in missing.items()])
    return src.with_row_index("_rid"), columns
