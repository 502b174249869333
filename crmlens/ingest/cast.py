"""Typing a batch: each column cast to its type, values that do not fit reported.

Canonical columns take the contract's type. A custom attribute takes the type
its raw column already has, else the one the spec declares, else the narrowest
type every value fits (:func:`target_types`).
"""

from __future__ import annotations

import re

import duckdb
import polars as pl

from crmlens.contracts import TableContract
from crmlens.ingest.batch import as_text, json_flag
from crmlens.warehouse import duck_type, fetch_one, quote_ident, sql_literal, table_columns

_BOOL_WORDS = ("true", "false", "yes", "no", "t", "f", "y", "n")

# Numbers parse exactly or not at all: DuckDB's own cast reads '1.079' into an integer
# column as 1, '0x1F' as 31 and '1e400' as inf. A whole number is digits with an optional
# sign and at most a fraction of zeros ('7.0', as spreadsheets write integers); a decimal
# number is digits with an optional fraction and exponent: no hex, no digit separators,
# no words (inf, nan), and it must be finite.
_WHOLE_TEXT = r"[+-]?[0-9]+(\.0*)?"
_DECIMAL_TEXT = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
_FLOAT_TYPES = ("FLOAT", "REAL", "DOUBLE")

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

_TYPE_FAILURE_SCHEMA = {
    "_rid": pl.UInt32,
    "column": pl.String,
    "value": pl.String,
    "target": pl.String,
}


def target_types(
    con: duckdb.DuckDBPyConnection,
    declared: dict[str, str],
    contract: TableContract,
    src: pl.DataFrame,
    custom: list[str],
    known: dict[str, str],
    date_formats: tuple[str, ...] = (),
) -> tuple[dict[str, str], list[str]]:
    """DuckDB type of each custom column, widened where this batch's values need it.

    A declared type (the spec's) is enforced: values that do not fit are type errors.
    Any other custom column takes the narrowest type its values fit, widened as later
    batches bring values that do not fit it (BIGINT -> DOUBLE -> VARCHAR, DATE ->
    TIMESTAMP -> VARCHAR) rather than losing their rows.

    Args:
        con: a connection to the warehouse.
        declared: custom column -> DuckDB type, as the spec declares them.
        contract: the table's contract.
        src: the batch.
        custom: the custom columns to type.
        known: custom column -> type so far (this load's earlier batches).
        date_formats: the files' strptime formats, tried before ISO 8601.

    Returns:
        Custom column -> DuckDB type name, and the widenings in words.
    """
    if not custom:
        return {}, []
    existing = table_columns(con, "raw", contract.name)
    found = batch_types(con, src, [c for c in custom if c not in declared], date_formats)
    targets, widened = {}, []
    for column in custom:
        before = known.get(column) or existing.get(column)
        if column in declared:
            targets[column] = before or declared[column]
            continue
        targets[column] = widen(before, found[column]) or "VARCHAR"
        if before and targets[column] != before:
            widened.append(
                f"custom attribute {column!r} widened from {before} to {targets[column]}"
            )
    return targets, widened


def batch_types(
    con: duckdb.DuckDBPyConnection,
    src: pl.DataFrame,
    columns: list[str],
    date_formats: tuple[str, ...] = (),
) -> dict[str, str | None]:
    """The narrowest type every value of each column fits, in this batch (None: no values)."""
    types: dict[str, str | None] = {}
    text = []
    for column in columns:
        dtype = src.schema[column]
        if dtype == pl.String:
            text.append(column)
        elif src[column].null_count() == src.height:
            types[column] = None
        else:
            types[column] = duck_type(dtype) if _known(dtype) else "VARCHAR"
    return types | (_infer_types(con, src.select(text), date_formats) if text else {})


# The types a value can widen through: a later type holds every value of an earlier one.
_LADDERS = (
    ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "DOUBLE"),
    ("FLOAT", "DOUBLE"),
    ("DATE", "TIMESTAMP"),
)


def widen(current: str | None, needed: str | None) -> str | None:
    """The narrowest type holding values of both types (None: neither is known yet).

    Args:
        current: the column's type so far.
        needed: the type this batch's values need.

    Returns:
        The wider of the two on a common ladder, else VARCHAR.
    """
    if current is None or needed is None or current == needed:
        return current or needed
    for ladder in _LADDERS:
        if current in ladder and needed in ladder:
            return ladder[max(ladder.index(current), ladder.index(needed))]
    return "VARCHAR"


def _known(dtype: pl.DataType) -> bool:
    try:
        duck_type(dtype)
    except TypeError:
        return False
    return True


def _infer_types(
    con: duckdb.DuckDBPyConnection, text: pl.DataFrame, date_formats: tuple[str, ...]
) -> dict[str, str | None]:
    """Narrowest type every non-empty value of a text column fits (None: no value)."""
    con.register("_infer", text)
    checks = []
    # A date in the files' own formats: DATE when no format has a time of day.
    timed = any(re.search(r"%[HIMSfgpXcTR]", f) for f in date_formats)
    for c in text.columns:
        q = quote_ident(c)
        nonnull = f"{q} is not null and trim({q}) <> ''"
        own = f"{_strptime_sql(q, date_formats)} is not null" if date_formats else "false"
        own_date = "false" if timed else own
        checks.append(
            f"bool_and(not ({nonnull}) or lower(trim({q})) in {_BOOL_WORDS}), "
            f"bool_and(not ({nonnull}) or {exact_cast_sql(q, 'BIGINT', pl.String)} is not null), "
            f"bool_and(not ({nonnull}) or {exact_cast_sql(q, 'DOUBLE', pl.String)} is not null), "
            f"bool_and(not ({nonnull}) or regexp_full_match(trim({q}), '\\d{{4}}-\\d{{2}}-\\d{{2}}')"
            f" or {own_date}), "
            f"bool_and(not ({nonnull}) or try_cast({q} as timestamp) is not null or {own}), "
            f"count({q}) filter (where {nonnull})"
        )
    row = fetch_one(con, f"select {', '.join(checks)} from _infer")
    con.unregister("_infer")
    types: dict[str, str | None] = {}
    for i, c in enumerate(text.columns):
        is_bool, is_int, is_num, is_date, is_ts, n = row[i * 6 : i * 6 + 6]
        if not n:
            types[c] = None
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


def _strptime_sql(expr: str, date_formats: tuple[str, ...]) -> str:
    """``try_strptime`` of a text expression in any of the files' own formats."""
    formats = "[" + ", ".join(sql_literal(f) for f in date_formats) + "]"
    return f"try_strptime(trim({expr}), {formats})"


def exact_cast_sql(
    expr: str, target: str, source: pl.DataType, date_formats: tuple[str, ...] = ()
) -> str:
    """SQL casting ``expr`` (a column of polars type ``source``) to ``target``, exactly.

    Null where the value does not fit the type exactly: a fraction or a hex literal for an
    integer, a word or an overflow for a number, a date that is no date.

    Args:
        expr: the SQL expression (a quoted column).
        target: the DuckDB type.
        source: the column's polars type (text is parsed; numbers are converted).
        date_formats: strptime formats a text date may be in, tried before ISO 8601.

    Returns:
        The SQL expression.
    """
    text = source == pl.String
    own = _strptime_sql(expr, date_formats) if text and date_formats else None
    if target == "TIMESTAMP":
        # Through TIMESTAMPTZ so offsets ("...Z", "+02:00") land in UTC.
        iso = f"try_cast({expr} as timestamptz)::timestamp"
        return f"coalesce({own}, {iso})" if own else iso
    if target == "DATE":
        iso = f"coalesce(try_cast({expr} as date), try_cast({expr} as timestamp)::date)"
        return f"coalesce({own}::date, {iso})" if own else iso
    if target == "BOOLEAN" and text:
        words = "('true', 't', 'yes', 'y', '1'), ('false', 'f', 'no', 'n', '0')"
        yes, no = words.split("), (")
        return (
            f"case when lower(trim({expr})) in {yes}) then true "
            f"when lower(trim({expr})) in ({no} then false end"
        )
    if target in _INTEGER_TYPES and text:
        return (
            f"case when regexp_full_match(trim({expr}), '{_WHOLE_TEXT}') "
            f"then try_cast(trim({expr}) as {target}) end"
        )
    if target in _FLOAT_TYPES and text:
        number = f"try_cast(trim({expr}) as {target})"
        return (
            f"case when regexp_full_match(trim({expr}), '{_DECIMAL_TEXT}') "
            f"and isfinite({number}) then {number} end"
        )
    if target in _INTEGER_TYPES and (source.is_float() or source.is_decimal()):
        return f"case when {expr} = trunc({expr}) then try_cast({expr} as {target}) end"
    return f"try_cast({expr} as {target})"


def cast(
    con: duckdb.DuckDBPyConnection,
    src: pl.DataFrame,
    targets: dict[str, str],
    contract: TableContract,
    date_formats: tuple[str, ...] = (),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cast every column to its target type; report values that do not fit.

    Columns already of the right type (Parquet) pass through untouched; a JSON
    column is only checked, since a valid value is kept as it is.

    Args:
        con: a connection to run the casts in.
        src: the batch, with ``_rid``.
        targets: column -> DuckDB type name.
        contract: the table's contract.
        date_formats: the files' strptime formats, tried before ISO 8601.

    Returns:
        The typed rows (same rows, same order as ``src``) and a frame of failures
        (``_rid``, column, reason_code, reason, value).
    """
    json_cols = [c for c in contract.json_columns if json_flag(c) in src.columns]
    to_cast = {
        c: t
        for c, t in targets.items()
        if c not in json_cols and src.schema[c] != _POLARS_OF.get(t, pl.String)
    }
    failures = [pl.DataFrame(schema=_TYPE_FAILURE_SCHEMA)]
    typed = src
    for c in json_cols:
        # The read computed json_valid() into a flag column (see batch.read_frame).
        flag = json_flag(c)
        invalid = pl.col(c).is_not_null() & ~pl.col(flag).fill_null(True)
        bad = src.filter(invalid).select(
            "_rid", column=pl.lit(c), value=pl.col(c).cast(pl.String), target=pl.lit("JSON")
        )
        failures.append(bad)
        if bad.height:
            typed = typed.with_columns(pl.when(invalid).then(None).otherwise(pl.col(c)).alias(c))
    typed = typed.drop([json_flag(c) for c in json_cols])
    if to_cast:
        typed, cast_failures = _cast_columns(con, src, typed, to_cast, date_formats)
        failures.append(cast_failures)
    return typed, _in_words(pl.concat(failures))


def _cast_columns(
    con: duckdb.DuckDBPyConnection,
    src: pl.DataFrame,
    typed: pl.DataFrame,
    to_cast: dict[str, str],
    date_formats: tuple[str, ...] = (),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cast ``to_cast`` columns of ``src`` in DuckDB; put them into ``typed``."""
    con.register("_src", src.select(["_rid", *to_cast]))
    exprs, flags = ["_rid"], []
    for c, t in to_cast.items():
        q = quote_ident(c)
        cast_expr = exact_cast_sql(q, t, src.schema[c], date_formats)
        exprs.append(f"{cast_expr} as {q}")
        flags.append(f"case when {q} is not null and {cast_expr} is null then '{c}' end")
    query = (
        f"select {', '.join(exprs)}, "
        f"list_filter([{', '.join(flags)}], lambda x: x is not null) as _bad from _src"
    )
    cast_part = con.sql(query).pl()
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
    if not long.height:
        return typed, pl.DataFrame(schema=_TYPE_FAILURE_SCHEMA)
    values = src.join(long.select("_rid").unique(), on="_rid").select(
        "_rid", *[as_text(c, src.schema[c]) for c in to_cast]
    )
    long = long.join(values, on="_rid").with_columns(
        value=pl.coalesce([pl.when(pl.col("column") == c).then(pl.col(c)) for c in to_cast]),
        target=pl.col("column").replace_strict(to_cast, default=None),
    )
    return typed, long.select("_rid", "column", "value", "target")


def _in_words(type_failures: pl.DataFrame) -> pl.DataFrame:
    """Type failures in the common shape of failures, with a reason in words."""
    return type_failures.select(
        "_rid",
        "column",
        reason_code=pl.lit("type_error"),
        reason=pl.format("{}: cannot read '{}' as {}", "column", "value", "target"),
        value="value",
    )
