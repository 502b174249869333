"""Reading the export files a spec names: every alias a view, the table's select run.

Every alias is a view with two extra columns, ``_source_file`` (the file's name,
:meth:`SourceSpec.file_name`) and ``_source_row`` (the line in a CSV or JSONL file, as
an editor shows it, header included; the 1-based row in a Parquet file), plus
``_partition`` (the day) for partitioned aliases. Selecting them through lets
quarantine name the file and row of a bad record. CSV values are read as text
(casting, and its errors, happen in ingest, with row numbers); records the CSV parser
cannot split are collected as :class:`Reject` rows, never dropped.

Files are read one by one (:mod:`.reading`): a file that cannot be read at all is a
:class:`BadFile`, quarantined whole by ingest, and the other files load.
"""

from __future__ import annotations

import itertools
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from crmlens.contracts import CONTRACTS
from crmlens.sources.reading import (
    BadFile,
    Reject,
    first_line,
    options_sql,
    parquet_pages_problem,
    parquet_problem,
    read_text_file,
    sql_list,
)
from crmlens.sources.spec import (
    FileSource,
    MissingFiles,
    SourceSpec,
    SpecError,
    absolute,
    day_pattern,
    glob_files,
    referenced_aliases,
)
from crmlens.warehouse import quote_ident, sql_literal

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
# Where a row came from, and whether the CRM deleted it: columns ingest keeps beside the
# business ones, never compared as values nor taken for custom attributes.
DELETED = "_deleted_at"
LINEAGE_COLUMNS = ("_source_file", "_source_row", "_partition", DELETED)
_alias_counter = itertools.count()
# DuckDB types a select may return that polars (and so ingest) cannot take.
_UNTAKEN_TYPES = frozenset({"INTERVAL", "UNION", "TIME WITH TIME ZONE", "TIMETZ", "BIT"})

__all__ = [
    "DELETED",
    "LINEAGE_COLUMNS",
    "BadFile",
    "ReadBatch",
    "Reject",
    "check_columns",
    "read_table",
]


@dataclass
class ReadBatch:
    """What reading a table's files produced: the select's rows, rejects, unreadable files.

    Attributes:
        relation: the select over the readable files; None when an alias it reads has
            no readable file (the select cannot run: its files are all in ``bad_files``).
        rejects: records the CSV parser could not split.
        files: the readable files (names relative to the root).
        views: the temporary views to drop once read.
        bad_files: files that cannot be read at all.
        warnings: what a user should know (a file with a header and no rows).
        where: the spec and table, for messages.
    """

    relation: duckdb.DuckDBPyRelation | None
    rejects: list[Reject] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    views: list[str] = field(default_factory=list)
    bad_files: list[BadFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    where: str = ""
    # Per Parquet alias: find the files a failed read tripped on and rebuild the view
    # without them (None: no file to blame; False: no readable file is left).
    probes: list[Callable[[], bool | None]] = field(default_factory=list, repr=False)
    rerun: Callable[[], duckdb.DuckDBPyRelation] | None = field(default=None, repr=False)

    def collect(
        self, query: Callable[[duckdb.DuckDBPyRelation], duckdb.DuckDBPyRelation] | None = None
    ) -> pl.DataFrame | None:
        """Run the select (through ``query``) into a frame; None if it cannot run.

        A corrupt page deep in a Parquet file shows only now, when it is decoded, and
        DuckDB's message does not name the file: the files are then tried one by one,
        the bad ones set aside, and the select run again.

        Raises:
            SpecError: the select fails, and no file is to blame.
        """
        while self.relation is not None:
            relation = query(self.relation) if query else self.relation
            try:
                return relation.pl()
            except duckdb.Error as exc:
                outcomes = [probe() for probe in self.probes]
                if all(outcome is None for outcome in outcomes) or self.rerun is None:
                    raise SpecError(_failed(self.where, self.relation, exc)) from None
                usable = all(outcome is not False for outcome in outcomes)
                self.relation = self.rerun() if usable else None
            except (pl.exceptions.PolarsError, pa.ArrowException) as exc:
                raise SpecError(f"{self.where}: {_untaken(relation, exc)}") from None
        return None


def _failed(where: str, relation: duckdb.DuckDBPyRelation, exc: duckdb.Error) -> str:
    """A select that failed as it ran, in one line: the column, DuckDB's words, what to do.

    The column is found by running the select once per column (only its expression is
    computed): the first whose values fail. DuckDB's message names the value.
    """
    column = None
    for name in relation.columns:
        if name in LINEAGE_COLUMNS:
            continue
        try:
            relation.aggregate(f"count({quote_ident(name)})").fetchall()
        except duckdb.Error:
            column = name
            break
    place = f"{where}, column {column!r}" if column else where
    hint = ""
    if isinstance(exc, duckdb.ConversionException | duckdb.InvalidInputException):
        hint = (
            " (to quarantine such values instead, return the text and let ingest type it: "
            "dates in the file's `date_format:`)"
        )
    return f"{place}: the select failed: {first_line(exc)}{hint}"


def _untaken(relation: duckdb.DuckDBPyRelation, exc: BaseException) -> str:
    """Why a select's rows cannot be taken in: the columns of a type crmlens cannot hold."""
    odd = [
        f"{column!r} ({dtype})"
        for column, dtype in zip(relation.columns, relation.types, strict=True)
        if str(dtype).split("(")[0].upper() in _UNTAKEN_TYPES
    ]
    if odd:
        return (
            f"the select returns {', '.join(odd)}, a type crmlens cannot store; cast it in "
            f"the select (e.g. `::varchar`)"
        )
    return f"the select's rows cannot be read: {first_line(exc)}"


def read_table(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    table: str,
    days: list[date] | None = None,
    select: str | None = None,
) -> ReadBatch:
    """Expose the aliases a table's select uses as views and run the select.

    Args:
        con: the connection the rows are read in (views are temporary).
        spec: a files spec.
        table: the canonical table.
        days: for partitioned aliases, only these days' files; ``None`` reads all.
        select: a select to run instead of the table's (e.g. its tombstones).

    Returns:
        The batch.

    Raises:
        SpecError: the spec cannot be read as it says (no file, bad SQL, wrong columns).
    """
    if not spec.provides(table):
        raise SpecError(f"{spec.where(table)}: the spec does not provide this table")
    select = select or spec.tables[table].select
    columns = dict.fromkeys(CONTRACTS[table].columns, "VARCHAR")
    batch, usable = _read_aliases(con, spec, spec.where(table), select, columns, days)
    if usable:
        _run_select(con, spec, table, select, batch)
    return batch


def read_select(
    con: duckdb.DuckDBPyConnection, spec: SourceSpec, select: str, where: str
) -> ReadBatch:
    """Expose the aliases any select of a spec uses as views (every file) and run it.

    For selects that fill no canonical table (a context series): JSONL aliases need
    their ``columns:``.

    Args:
        con: the connection the rows are read in (views are temporary).
        spec: a files spec.
        select: the select.
        where: the spec and what the select is for, for messages.

    Returns:
        The batch (its relation None when an alias has no readable file).

    Raises:
        SpecError: no file, bad SQL.
    """
    batch, usable = _read_aliases(con, spec, where, select, {}, None)
    if usable:
        batch.rerun = lambda: con.sql(select)
        try:
            batch.relation = con.sql(select)
            batch.relation.columns  # noqa: B018 - binds the query so SQL errors surface here
        except duckdb.Error as exc:
            raise SpecError(f"{where}: the select failed: {first_line(exc)}") from None
    return batch


def _read_aliases(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    where: str,
    select: str,
    columns: dict[str, str],
    days: list[date] | None,
) -> tuple[ReadBatch, bool]:
    """A view per alias the select reads, and whether each has a readable file (the
    batch's relation is left to the caller)."""
    aliases = referenced_aliases(select, spec.files)
    if not aliases:
        raise SpecError(f"{where}: the select reads none of the files {list(spec.files)}")
    batch = ReadBatch(relation=None, where=where)
    usable = True
    with tempfile.TemporaryDirectory(prefix="crmlens-read-") as scratch:
        for alias in aliases:
            source = spec.files[alias]
            paths = _files_for(spec, where, alias, source, days)
            usable &= _create_alias_view(
                con, spec, where, columns, alias, source, paths, batch, Path(scratch)
            )
            batch.views.append(alias)
    return batch, usable


def _run_select(
    con: duckdb.DuckDBPyConnection, spec: SourceSpec, table: str, select: str, batch: ReadBatch
) -> None:
    batch.rerun = lambda: con.sql(select)
    try:
        batch.relation = con.sql(select)
        batch.relation.columns  # noqa: B018 - binds the query so SQL errors surface here
    except duckdb.Error as exc:
        raise SpecError(f"{spec.where(table)}: the select failed: {first_line(exc)}") from None
    if select == spec.tables[table].select:
        check_columns(spec, table, batch.relation.columns)
        check_types(spec, table, batch.relation)


def check_types(spec: SourceSpec, table: str, relation: duckdb.DuckDBPyRelation) -> None:
    """Refuse columns of a type ingest cannot hold: a list or struct where one value goes.

    Raises:
        SpecError: the columns and their types, and what to do.
    """
    contract = CONTRACTS[table]
    odd = []
    for column, dtype in zip(relation.columns, relation.types, strict=True):
        kind = str(dtype).upper()
        nested = kind.endswith("]") or kind.startswith(("STRUCT", "MAP"))
        canonical = column in contract.columns and column not in contract.json_columns
        if kind.split("(")[0] in _UNTAKEN_TYPES or (nested and canonical):
            odd.append(f"{column!r} ({dtype})")
    if odd:
        raise SpecError(
            f"{spec.where(table)}: the select returns {', '.join(odd)}, where one plain "
            f"value goes; cast it in the select (e.g. `::varchar`, or take one element)"
        )


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
    spec: SourceSpec, where: str, alias: str, source: FileSource, days: list[date] | None
) -> list[Path]:
    if source.partitioned and days is not None:
        paths = [absolute(spec.root / source.path.replace("{day}", d.isoformat())) for d in days]
        paths = [p for p in paths if p.exists()]
    else:
        paths = [absolute(p) for p in glob_files(source.path, spec.root)]
    if not paths and not source.partitioned:
        raise MissingFiles(f"{where}: no file matches {source.path!r} under {spec.root}")
    if not paths:
        raise MissingFiles(f"{where}: no file of {alias!r} for the requested days")
    return paths


def _create_alias_view(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    where: str,
    columns: dict[str, str],
    alias: str,
    source: FileSource,
    paths: list[Path],
    batch: ReadBatch,
    scratch: Path,
) -> bool:
    """Read an alias's files into view ``alias``; False if none of them is readable.

    ``columns``: the JSONL columns when the alias declares none (text, by name)."""
    if source.resolved_format() == "parquet":
        return _parquet_view(con, spec, alias, source, paths, batch)
    columns = source.columns or columns
    frames = []
    for path in paths:
        name = spec.file_name(path)
        try:
            rows = read_text_file(con, path, name, source, columns, scratch)
        except SpecError as exc:
            raise SpecError(f"{where}: {exc}") from None
        if rows.bad is not None:
            rows.bad.partition = _day_of(source, name)
            batch.bad_files.append(rows.bad)
            continue
        batch.files.append(name)
        batch.rejects += rows.rejects or []
        if rows.warning:
            batch.warnings.append(rows.warning)
        frames.append(rows.data)
    if not frames:
        return False
    data = pl.concat(frames, how="diagonal_relaxed")
    if source.partitioned:
        pattern = day_pattern(source.path).pattern
        data = data.with_columns(
            _partition=pl.col("_source_file").str.extract(pattern, 1).str.to_date()
        )
    con.register(f"{alias}__arrow", data.to_arrow())
    con.execute(f"create or replace temp view {alias} as select * from {alias}__arrow")
    return True


def _parquet_view(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    alias: str,
    source: FileSource,
    paths: list[Path],
    batch: ReadBatch,
) -> bool:
    """A lazy view over the readable Parquet files (their footers checked first)."""
    readable: list[Path] = []
    for path in paths:
        name = spec.file_name(path)
        problem, rows = parquet_problem(path)
        if problem:
            size = path.stat().st_size
            batch.bad_files.append(BadFile(name, None, problem, size, _day_of(source, name)))
            continue
        if rows == 0:
            batch.warnings.append(f"{name} has no rows")
        readable.append(path)
        batch.files.append(name)

    def build(files: list[Path]) -> bool:
        if not files:
            return False
        # Paths are the absolute root joined with the spec's relative ones, so the name
        # DuckDB reports, stripped of the root, is SourceSpec.file_name.
        prefix = sql_literal(str(absolute(spec.root or Path("."))) + "/")
        name = (
            f"case when starts_with(filename, {prefix}) "
            f"then filename[length({prefix}) + 1:] else filename end"
        )
        con.execute(
            f"create or replace temp view {alias} as select * exclude (filename, file_row_number), "
            f"{name} as _source_file, file_row_number + 1 as _source_row"
            f"{_partition_sql(source, name)} "
            f"from read_parquet({sql_list(str(p) for p in files)}, filename = true, "
            f"file_row_number = true, union_by_name = true{options_sql(source.options)})"
        )
        return True

    def probe() -> bool | None:
        found = False
        for path in list(readable):
            problem = parquet_pages_problem(con, path)
            if problem:
                name = spec.file_name(path)
                size = path.stat().st_size
                batch.bad_files.append(BadFile(name, None, problem, size, _day_of(source, name)))
                readable.remove(path)
                batch.files.remove(name)
                found = True
        return build(readable) if found else None

    batch.probes.append(probe)
    return build(readable)


def _day_of(source: FileSource, name: str) -> date | None:
    if not source.partitioned:
        return None
    found = day_pattern(source.path).search(name)
    return date.fromisoformat(found.group(1)) if found else None


def _partition_sql(source: FileSource, column: str) -> str:
    if not source.partitioned:
        return ""
    pattern = day_pattern(source.path).pattern.replace("'", "''")
    return f", regexp_extract({column}, '{pattern}', 1)::date as _partition"
