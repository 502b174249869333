"""Running a table's contract over a typed batch; each failure with a reason in words."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandera.polars as pa
import polars as pl

from crmlens.contracts import TableContract
from crmlens.ingest.failures import no_failures


def _ingest_schema(contract: TableContract) -> pa.DataFrameSchema:
    """The contract without its key-uniqueness rule: ingest resolves versions itself."""
    schema = contract.schema.to_schema()
    schema.unique = None
    for column in schema.columns.values():
        column.unique = False
    return schema


def validate(contract: TableContract, valid: pl.DataFrame, limit: datetime) -> pl.DataFrame:
    """Run the contract over the typed rows.

    Args:
        contract: the table's contract.
        valid: the typed batch, with ``_rid``.
        limit: the latest timestamp the contract accepts (named in the reason).

    Returns:
        One row per (row, failure) with a reason in words (see :mod:`.failures`).

    Raises:
        RuntimeError: the contract failed at schema level (a column of the wrong type),
            which casting should have made impossible.
    """
    if valid.is_empty():
        return no_failures()
    try:
        _ingest_schema(contract).validate(valid, lazy=True)
        return no_failures()
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    if cases["index"].null_count():
        schema_level = cases.filter(pl.col("index").is_null())
        raise RuntimeError(
            f"{contract.name}: contract failed at schema level (a bug in casting): "
            f"{schema_level.select('column', 'check').rows()}"
        )
    cases = cases.with_columns(_rid=valid["_rid"].gather(cases["index"]))
    parts = [no_failures()]
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


def nul_bytes(src: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Values holding a NUL byte: no text column downstream (PostgreSQL's, a CSV) keeps one.

    Args:
        src: the batch as read, with ``_rid``.
        columns: the columns to look at (the source's, not lineage).

    Returns:
        One failure per (row, column) with a NUL byte, ``nul_byte``, naming its position.
    """
    parts = [no_failures()]
    for column in columns:
        if src.schema[column] != pl.String:
            continue
        found = src.filter(pl.col(column).str.contains("\x00", literal=True))
        at = pl.col(column).str.split("\x00").list.first().str.len_chars()  # characters
        if found.height:
            parts.append(
                found.select(
                    "_rid",
                    column=pl.lit(column),
                    reason_code=pl.lit("nul_byte"),
                    reason=pl.format(
                        f"{column}: the value holds a NUL byte (\\x00) at character {{}}",
                        at + 1,
                    ),
                    value=pl.col(column),
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
    if check.startswith("str_matches"):
        return _format_failure(column, value)
    if check.startswith("greater_than_or_equal_to"):
        return "negative_value", column, pl.format(f"{column}: {{}} is negative", value)
    if check == "finite":
        return "out_of_range", column, pl.format(f"{column}: {{}} is not a finite number", value)
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


def _format_failure(column: str, value: pl.Expr) -> tuple[str, str, pl.Expr]:
    """A value that does not match its column's pattern (an e-mail address, a code)."""
    if "email" in column:
        return (
            "invalid_email",
            column,
            pl.format(f"{column}: '{{}}' is not a well-formed e-mail address", value),
        )
    return (
        "invalid_format",
        column,
        pl.format(f"{column}: '{{}}' is not in the expected format", value),
    )


def _allowed(column: Any) -> list[str]:
    for check in column.checks:
        if check.name == "isin":
            return [str(v) for v in check.statistics["allowed_values"]]
    return []
