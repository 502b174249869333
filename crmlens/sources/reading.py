"""Reading one export file: its rows with their line numbers, or why it cannot be read.

One file at a time, so that a bad file (a corrupt Parquet file, an unterminated quote,
a record longer than the reader takes, a 0-byte file) is set aside whole as a
:class:`BadFile`, with the line and the reason, while the other files load. Records
the CSV parser cannot split are :class:`Reject` rows; a file with a header and no rows
is read, with a warning.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pyarrow.parquet as pq

from crmlens.sources import text
from crmlens.sources.spec import FileSource, SpecError
from crmlens.warehouse import sql_literal

_counter = itertools.count()
# DuckDB's default longest record (its error names the limit it used, when it differs).
DEFAULT_MAX_LINE_SIZE = 2_000_000
# The names DuckDB gives the columns of a file without a header.
_NAMELESS = re.compile(r"^column\d+$")


@dataclass
class Reject:
    """A record the file reader could not parse."""

    source_file: str
    source_row: int
    column: str | None
    error: str
    line: str


@dataclass
class BadFile:
    """A file that cannot be read at all, quarantined whole.

    Attributes:
        source_file: its name (relative to the spec's root).
        line: the line where reading it fails, when known.
        reason: why, in words.
        size: its bytes.
        partition: the day of a day file.
    """

    source_file: str
    line: int | None
    reason: str
    size: int
    partition: date | None = None


@dataclass
class FileRows:
    """What reading one file gave: its rows (or why none), its rejects, a warning."""

    data: pl.DataFrame | None = None
    rejects: list[Reject] | None = None
    bad: BadFile | None = None
    warning: str | None = None
    invalid_utf8: bool = False


def read_text_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    name: str,
    source: FileSource,
    columns: dict[str, str] | None,
    scratch: Path,
) -> FileRows:
    """Read one CSV or JSONL file as text, in its encoding, numbering its rows by line.

    Args:
        con: the connection to read with.
        path: the file.
        name: its name in lineage (relative to the spec's root).
        source: the spec's entry for it (format, options, encoding).
        columns: JSONL only: column -> type.
        scratch: a folder for UTF-8 copies of files in other encodings.

    Returns:
        The rows (``_source_file``, ``_source_row`` added), or the reason it is unreadable.

    Raises:
        SpecError: a reader option the spec gives does not exist.
    """
    size = path.stat().st_size
    if size == 0:
        return FileRows(
            bad=BadFile(name, None, "the file is empty (0 bytes, not even a header)", 0)
        )
    declared = source.encoding
    encoding = text.canonical_encoding(declared) if declared else text.sniff_encoding(path)
    rows = _read_in(con, path, name, source, columns, scratch, encoding or "utf-8")
    if rows.invalid_utf8 and not declared:
        # Not UTF-8 after all: Windows-1252 (else Latin-1), line by line, so that UTF-8
        # lines of a file of mixed encodings keep their characters too.
        rows = _read_in(con, path, name, source, columns, scratch, text.LINE_BY_LINE)
    if rows.invalid_utf8:
        problem = text.first_invalid_utf8(path)
        line = problem.line if problem else None
        reason = (
            f"line {line}: bytes {problem.value!r} are not UTF-8, as the spec's `encoding:` "
            f"says; set it to the file's encoding (e.g. cp1252)"
            if problem
            else "the file is not valid UTF-8"
        )
        return FileRows(bad=BadFile(name, line, reason, size))
    if rows.bad:
        rows.bad.size = size
    return rows


def _read_in(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    name: str,
    source: FileSource,
    columns: dict[str, str] | None,
    scratch: Path,
    encoding: str,
) -> FileRows:
    """Read a file known (or taken) to be in ``encoding``."""
    readable = path
    if encoding not in text.UTF8:
        readable = scratch / f"{next(_counter)}.utf8"
        problem = text.to_utf8(path, encoding, readable)
        if problem:
            reason = (
                f"line {problem.line}: bytes {problem.value!r} at byte {problem.byte} are not "
                f"{encoding}; set the spec's `encoding:` to the file's encoding"
            )
            return FileRows(bad=BadFile(name, problem.line, reason, 0))
    fmt = source.resolved_format()
    if fmt == "csv" and source.separator() == "whitespace":
        # DuckDB splits on one character: runs of blanks become one tab, line by line.
        collapsed = scratch / f"{next(_counter)}.tsv"
        text.collapse_whitespace(readable, collapsed)
        readable = collapsed
    try:
        if fmt == "jsonl":
            return _read_jsonl(con, readable, name, source, columns or {})
        return _read_csv(con, readable, name, source, utf8=encoding in text.UTF8)
    except duckdb.BinderException as exc:
        raise SpecError(f"cannot read {name}: {first_line(exc)}") from None
    except duckdb.Error as exc:
        if encoding in text.UTF8 and text.first_invalid_utf8(readable) is not None:
            return FileRows(invalid_utf8=True)
        line, reason = _diagnose(readable, source, exc)
        return FileRows(bad=BadFile(name, line, reason.replace(str(readable), name), 0))


def csv_options(source: FileSource) -> dict[str, Any]:
    """The CSV reader's options: RFC 4180 defaults, the spec's dialect, then its options.

    A ``whitespace`` file is read from a copy whose runs of blanks are single tabs
    (:func:`.text.collapse_whitespace`), so it is read tab-delimited.
    """
    separator = source.separator()
    delim = "\t" if separator == "whitespace" else separator or ","
    defaults = {"delim": delim, "quote": '"', "escape": '"', "header": source.header}
    return defaults | source.options


def _read_csv(
    con: duckdb.DuckDBPyConnection, path: Path, name: str, source: FileSource, utf8: bool
) -> FileRows:
    """Every value as text; records the parser cannot split become rejects."""
    n = next(_counter)
    errors, scans = f"_rejects_{n}", f"_reject_scans_{n}"
    options = csv_options(source)
    sql = (
        f"select * from read_csv({sql_literal(str(path))}, all_varchar = true, "
        f"store_rejects = true, rejects_table = '{errors}', "
        f"rejects_scan = '{scans}'{options_sql(options)})"
    )
    try:
        data = con.sql(sql).pl()
        found = con.execute(
            f"select line, column_name, error_type, error_message, csv_line from {errors} "
            f"order by line"
        ).fetchall()
    finally:
        with contextlib.suppress(duckdb.Error):  # an aborted transaction is rolled back anyway
            con.execute(f"drop table if exists {errors}")
            con.execute(f"drop table if exists {scans}")
    if utf8 and any(error_type == "INVALID ENCODING" for _, _, error_type, _, _ in found):
        return FileRows(invalid_utf8=True)
    seen: dict[int, tuple] = {}
    for line, column, _, error, csv_line in found:
        seen.setdefault(int(line), (column, error, csv_line))  # one reject per record
    header = 1 if options.get("header") in (True, "true", 1) else 0
    if not header:
        # DuckDB pads the names of ten or more columns (column00); the spec's are column0...
        data = data.rename({c: f"column{int(c[6:])}" for c in data.columns if _NAMELESS.match(c)})
    starts, good = _record_lines(path, options.get("quote"), header, data.height, list(seen))
    rejects = [
        Reject(name, starts.get(unit, unit), column, error, (csv_line or "").strip("\r\n"))
        for unit, (column, error, csv_line) in seen.items()
    ]
    rows = FileRows(data=_with_lineage(data, name, good), rejects=rejects)
    if data.height == 0 and not rejects:
        rows.warning = f"{name} has a header but no rows"
    return rows


def _read_jsonl(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    name: str,
    source: FileSource,
    columns: dict[str, str],
) -> FileRows:
    cols = "{" + ", ".join(f"{sql_literal(k)}: {sql_literal(v)}" for k, v in columns.items()) + "}"
    sql = (
        f"select * from read_json({sql_literal(str(path))}, format = 'newline_delimited', "
        f"columns = {cols}{options_sql(source.options)})"
    )
    data = con.sql(sql).pl()
    _, good = _record_lines(path, None, 0, data.height, [])
    rows = FileRows(data=_with_lineage(data, name, good), rejects=[])
    if data.height == 0:
        rows.warning = f"{name} has no rows"
    return rows


def _record_lines(
    path: Path, quote: str | None, header: int, n_good: int, rejected: list[int]
) -> tuple[dict[int, int], np.ndarray]:
    """Lines of a file's records: DuckDB's record numbers -> lines, and the good rows' lines.

    DuckDB numbers the records (and blank lines) it meets; when the file has as many
    lines as that, records are lines one to one. Otherwise (a quoted value spanning
    lines, a blank line) the records are found quote by quote.
    """
    units = header + n_good + len(rejected)
    if text.physical_lines(path) == units:
        skip = set(rejected)
        lines = [u for u in range(header + 1, units + 1) if u not in skip]
        return {u: u for u in rejected}, np.asarray(lines, dtype=np.int64)
    records = text.scan_records(path, quote)
    starts = {i + 1: line for i, line in enumerate(records.starts)}
    records_only = [u for u, blank in enumerate(records.blank, 1) if not blank][header:]
    skip = set(rejected)
    lines = [starts[u] for u in records_only if u not in skip]
    if len(lines) != n_good:  # the scan and DuckDB disagree: number rows in order
        lines = list(range(header + 1, header + 1 + n_good))
    return starts, np.asarray(lines, dtype=np.int64)


def _with_lineage(data: pl.DataFrame, name: str, lines: np.ndarray) -> pl.DataFrame:
    return data.with_columns(
        _source_file=pl.lit(name, dtype=pl.String),
        _source_row=pl.Series(lines[: data.height], dtype=pl.Int64),
    )


def _diagnose(path: Path, source: FileSource, exc: duckdb.Error) -> tuple[int | None, str]:
    """Why DuckDB cannot read a text file, and the line: what its own message leaves out."""
    message = first_line(exc)
    if source.resolved_format() == "jsonl":
        found = re.search(r"in line (\d+)", str(exc))
        return (int(found.group(1)) if found else None), f"DuckDB cannot read it: {message}"
    options = csv_options(source)
    records = text.scan_records(path, options.get("quote") or None)
    if records.open_quote_line:
        line = records.open_quote_line
        return line, f"line {line}: a quoted value opens here and is never closed"
    found = re.search(r"Maximum line size of (\d+) bytes", str(exc))
    limit = int(found.group(1)) if found else int(options.get("max_line_size", 0) or 0)
    limit = limit or DEFAULT_MAX_LINE_SIZE
    for line, size in zip(records.starts, records.sizes, strict=True):
        if size > limit:
            return line, (
                f"line {line}: a record of {size:,} bytes, longer than the {limit:,} bytes the "
                f"CSV reader takes (raise it with `options: {{max_line_size: ...}}`)"
            )
    return None, f"DuckDB cannot read it: {message}"


def parquet_problem(path: Path) -> tuple[str | None, int]:
    """Why a Parquet file cannot be read, from its footer (None if it reads), and its rows."""
    if path.stat().st_size == 0:
        return "the file is empty (0 bytes)", 0
    try:
        return None, pq.read_metadata(path).num_rows
    except Exception as exc:  # pyarrow raises several kinds of error for a bad footer
        return f"not a readable Parquet file: {first_line(exc)}", 0


def parquet_pages_problem(con: duckdb.DuckDBPyConnection, path: Path) -> str | None:
    """Why a Parquet file's pages cannot be read (every page decoded), or None."""
    try:
        reader = con.execute(f"select * from read_parquet({sql_literal(str(path))})")
        for _ in iter(lambda: reader.fetchmany(100_000), []):
            pass
    except duckdb.Error as exc:
        return f"a corrupt Parquet page: {first_line(exc)}"
    return None


def sql_list(values: Iterable[str]) -> str:
    """A SQL list of string literals."""
    return "[" + ", ".join(sql_literal(v) for v in values) + "]"


def options_sql(options: dict[str, Any]) -> str:
    """Reader options as ``, name = value`` (names are identifiers: load_spec checks them)."""

    def lit(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return str(v)
        return sql_literal(str(v))

    return "".join(f", {k} = {lit(v)}" for k, v in options.items())


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (DuckDB's run to many)."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
