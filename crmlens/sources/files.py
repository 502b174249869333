"""Reading the export files a spec names: every alias a view, the table's select run.

Every alias is a view with two extra columns, ``_source_file`` (path relative to
the spec's root) and ``_source_row`` (the line number in a CSV, header = line 1;
the 1-based row in a Parquet or JSONL file), plus ``_partition`` (the day) for
partitioned aliases. Selecting them through lets quarantine name the file and
row of a bad record. CSV values are read as text (casting, and its errors, happen
in ingest, with row numbers); records the CSV parser cannot split are collected as
:class:`Reject` rows, never dropped.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from crmlens.contracts import CONTRACTS
from crmlens.sources.spec import (
    FileSource,
    SourceSpec,
    SpecError,
    absolute,
    day_pattern,
    glob_files,
    referenced_aliases,
)

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
LINEAGE_COLUMNS = ("_source_file", "_source_row", "_partition")
_alias_counter = itertools.count()


@dataclass
class Reject:
    """A record the file reader could not parse."""

    source_file: str
    source_row: int
    column: str | None
    error: str
    line: str


@dataclass
class ReadBatch:
    """What reading a table's files produced: the select's rows and the rejects."""

    relation: duckdb.DuckDBPyRelation
    rejects: list[Reject] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    views: list[str] = field(default_factory=list)


def read_table(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    table: str,
    days: list[date] | None = None,
) -> ReadBatch:
    """Expose the aliases a table's select uses as views and run the select.

    Args:
        con: the connection the rows are read in (views are temporary).
        spec: a files spec.
        table: the canonical table.
        days: for partitioned aliases, only these days' files; ``None`` reads all.
    """
    if not spec.provides(table):
        raise SpecError(f"{spec.where(table)}: the spec does not provide this table")
    select = spec.tables[table].select
    aliases = referenced_aliases(select, spec.files)
    if not aliases:
        raise SpecError(
            f"{spec.where(table)}: the select reads none of the files {list(spec.files)}"
        )
    batch = ReadBatch(relation=None)  # type: ignore[arg-type]
    for alias in aliases:
        source = spec.files[alias]
        paths = _files_for(spec, table, source, days)
        view = f"{alias}"
        batch.files += [spec.file_name(p) for p in paths]
        rejects = _create_alias_view(con, spec, table, alias, view, source, paths)
        batch.rejects += rejects
        batch.views.append(view)
    try:
        batch.relation = con.sql(select)
        batch.relation.columns  # noqa: B018 - binds the query so SQL errors surface here
    except duckdb.Error as exc:
        raise SpecError(f"{spec.where(table)}: the select failed: {_first_line(exc)}") from None
    check_columns(spec, table, batch.relation.columns)
    return batch


def check_columns(spec: SourceSpec, table: str, columns: list[str]) -> None:
    """Check what a select returns: required columns present, plain snake_case names, no repeats.

    Args:
        spec: the spec (named in the error).
        table: the canonical table.
        columns: the select's columns.

    Raises:
        SpecError: what is wrong, and how to fix it.
    """
    contract = CONTRACTS[table]
    missing = [c for c in contract.required if c not in columns]
    if missing:
        raise SpecError(
            f"{spec.where(table)}: the select does not return the required column(s) "
            f"{', '.join(missing)}"
        )
    bad = [c for c in columns if not IDENTIFIER.match(c)]
    if bad:
        raise SpecError(
            f"{spec.where(table)}: column names must be snake_case identifiers; rename "
            f'{", ".join(repr(c) for c in bad)} in the select (e.g. `"Contract" as contract`)'
        )
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise SpecError(f"{spec.where(table)}: the select returns {', '.join(dupes)} twice")


def _files_for(
    spec: SourceSpec, table: str, source: FileSource, days: list[date] | None
) -> list[Path]:
    if source.partitioned and days is not None:
        paths = [absolute(spec.root / source.path.replace("{day}", d.isoformat())) for d in days]
        return [p for p in paths if p.exists()]
    paths = [absolute(p) for p in glob_files(source.path, spec.root)]
    if not paths and not source.partitioned:
        raise SpecError(f"{spec.where(table)}: no file matches {source.path!r} under {spec.root}")
    return paths


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def _options_sql(options: dict[str, Any]) -> str:
    def lit(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return str(v)
        return "'" + str(v).replace("'", "''") + "'"

    return "".join(f", {k} = {lit(v)}" for k, v in options.items())


def _create_alias_view(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    table: str,
    alias: str,
    view: str,
    source: FileSource,
    paths: list[Path],
) -> list[Reject]:
    fmt = source.resolved_format()
    # Paths are the absolute root joined with the spec's relative ones (load_spec), so the
    # name DuckDB reports, stripped of this prefix, is the file's name (SourceSpec.file_name).
    root = absolute(spec.root or Path("."))
    prefix = str(root).replace("'", "''") + "/"
    if not paths:
        raise SpecError(f"{spec.where(table)}: no file of {alias!r} for the requested days")
    if fmt == "parquet":
        day = _partition_sql(source, "filename")
        con.execute(
            f"create or replace temp view {view} as select * exclude (filename, file_row_number), "
            f"replace(filename, '{prefix}', '') as _source_file, "
            f"file_row_number + 1 as _source_row{day} "
            f"from read_parquet({_sql_list(paths)}, filename = true, file_row_number = true, "
            f"union_by_name = true{_options_sql(source.options)})"
        )
        return []
    if fmt == "jsonl":
        columns = source.columns or _default_json_columns(table)
        cols = "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"
        sql = (
            f"select * from read_json({_sql_list(paths)}, format = 'newline_delimited', "
            f"columns = {cols}, filename = true{_options_sql(source.options)})"
        )
        try:
            data = con.sql(sql).pl()
        except duckdb.Error as exc:
            raise SpecError(
                f"{spec.where(table)}: cannot read {alias!r}: {_first_line(exc)}"
            ) from None
        data = _number_rows(data, prefix, lambda n, _f: np.arange(1, n + 1))
        _register(con, view, data, source, prefix)
        return []
    # CSV: every value as text (casting, and its errors, happen in ingest with row numbers);
    # rows the parser cannot split are collected by DuckDB's reject tables, not dropped.
    n = next(_alias_counter)
    errors, scans = f"_rejects_{n}", f"_reject_scans_{n}"
    options = {"delim": ",", "quote": '"', "escape": '"', "header": True} | source.options
    sql = (
        f"select * from read_csv({_sql_list(paths)}, all_varchar = true, filename = true, "
        f"store_rejects = true, rejects_table = '{errors}', "
        f"rejects_scan = '{scans}'{_options_sql(options)})"
    )
    try:
        data = con.sql(sql).pl()
        reject_rows = con.execute(
            f"select s.file_path, e.line, e.column_name, e.error_message, e.csv_line "
            f"from {errors} e join {scans} s using (scan_id, file_id) order by s.file_path, e.line"
        ).fetchall()
    except duckdb.Error as exc:
        raise SpecError(f"{spec.where(table)}: cannot read {alias!r}: {_first_line(exc)}") from None
    finally:
        with contextlib.suppress(duckdb.Error):  # an aborted transaction is rolled back anyway
            con.execute(f"drop table if exists {errors}")
            con.execute(f"drop table if exists {scans}")
    rejected: dict[str, list[int]] = {}
    rejects: list[Reject] = []
    for file_path, line, column, error, csv_line in reject_rows:
        rel = file_path.replace(prefix, "", 1)
        lines = rejected.setdefault(rel, [])
        if line in lines:  # one line can carry several errors: one reject per line
            continue
        lines.append(int(line))
        rejects.append(Reject(rel, int(line), column, error, (csv_line or "").rstrip("\n")))
    data = _number_rows(data, prefix, lambda n, f: _csv_lines(n, rejected.get(f, [])))
    _register(con, view, data, source, prefix)
    return rejects


def _csv_lines(n_good: int, rejected: list[int]) -> np.ndarray:
    """Line numbers of the parsed records of a file: lines 2.. without the rejected ones.

    Exact for files with one record per line (what CRM exports write); a blank
    line or a quoted newline shifts later numbers by one.
    """
    total = n_good + len(rejected)
    lines = np.arange(2, total + 2)
    if rejected:
        lines = np.setdiff1d(lines, np.asarray(rejected), assume_unique=True)
    return lines[:n_good]


def _number_rows(data: pl.DataFrame, prefix: str, lines: Any) -> pl.DataFrame:
    """Add _source_file and _source_row (per file, in file order)."""
    data = data.with_columns(_source_file=pl.col("filename").str.replace(prefix, "", literal=True))
    data = data.drop("filename")
    parts = []
    for (name,), part in data.group_by("_source_file", maintain_order=True):
        parts.append(
            part.with_columns(_source_row=pl.Series(lines(part.height, name), dtype=pl.Int64))
        )
    if not parts:
        return data.with_columns(_source_row=pl.lit(None, dtype=pl.Int64))
    return pl.concat(parts)


def _register(
    con: duckdb.DuckDBPyConnection, view: str, data: pl.DataFrame, source: FileSource, prefix: str
) -> None:
    if source.partitioned:
        pattern = day_pattern(source.path).pattern
        data = data.with_columns(
            _partition=pl.col("_source_file").str.extract(pattern, 1).str.to_date()
        )
    arrow: pa.Table = data.to_arrow()
    con.register(f"{view}__arrow", arrow)
    con.execute(f"create or replace temp view {view} as select * from {view}__arrow")


def _partition_sql(source: FileSource, column: str) -> str:
    if not source.partitioned:
        return ""
    pattern = day_pattern(source.path).pattern.replace("'", "''")
    return f", regexp_extract({column}, '{pattern}', 1)::date as _partition"


def _default_json_columns(table: str) -> dict[str, str]:
    return dict.fromkeys(CONTRACTS[table].columns, "VARCHAR")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
