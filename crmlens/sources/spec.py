"""Source specs: how one CRM's export files map onto the canonical model.

A spec is YAML. It names the export files (``files``: an alias per file or
day-partitioned set of files) and, for each canonical table it provides, a
DuckDB SQL ``select`` over those aliases (``tables``). The select returns the
canonical columns; any further columns are the CRM's custom attributes and are
kept. Example::

    name: acme_salesforce
    files:
      accounts: {path: Account.csv}
      events:   {path: "events/{day}.parquet"}      # one file per day
    tables:
      accounts:
        select: |
          select Id as account_id, Name as name, ..., _source_file, _source_row
          from accounts
      events:
        select: select * from events
    custom_attributes:            # optional: types of custom columns (else inferred)
      accounts: {nps_score: INTEGER}

Every alias is a view with two extra columns, ``_source_file`` (path relative to
the spec's root) and ``_source_row`` (the line number in a CSV, header = line 1;
the 1-based row in a Parquet or JSONL file), plus ``_partition`` (the day) for
partitioned aliases. Selecting them through lets quarantine name the file and
row of a bad record. Kind ``postgres`` specs read an operational database
instead (:mod:`crmlens.sources.postgres`).

Spec problems (a missing file, bad SQL, a missing required column) raise
:class:`SpecError` with a message naming the spec, the table and the problem.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crmlens.contracts import CONTRACTS, TABLES

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
LINEAGE_COLUMNS = ("_source_file", "_source_row", "_partition")
_alias_counter = itertools.count()


class SpecError(ValueError):
    """A source spec that cannot be used, with a message a user can act on."""


class FileSource(BaseModel):
    """One export file, or one set of day files, that a spec's selects read by alias."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Path or glob, relative to the root; `{day}` marks day files.")
    format: Literal["csv", "parquet", "jsonl"] | None = Field(
        default=None, description="Inferred from the extension when absent."
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra reader options, e.g. {delim: ';'} for a semicolon CSV.",
    )
    columns: dict[str, str] | None = Field(
        default=None, description="JSONL only: column -> DuckDB type (JSON readers need it)."
    )

    @property
    def partitioned(self) -> bool:
        """Whether the path names one file per day (``{day}``)."""
        return "{day}" in self.path

    def resolved_format(self) -> str:
        """The format: as given, else from the extension.

        Returns:
            ``csv``, ``parquet`` or ``jsonl``.

        Raises:
            SpecError: the extension does not tell.
        """
        if self.format:
            return self.format
        suffix = self.path.rsplit(".", 1)[-1].lower()
        formats = {"csv": "csv", "txt": "csv", "parquet": "parquet", "jsonl": "jsonl"}
        formats |= {"ndjson": "jsonl", "json": "jsonl"}
        if suffix not in formats:
            raise SpecError(f"cannot tell the format of {self.path!r}; set `format:`")
        return formats[suffix]


class TableSource(BaseModel):
    """How one canonical table is read: a select over the aliases (or PostgreSQL)."""

    model_config = ConfigDict(extra="forbid")

    select: str = Field(description="SQL select returning canonical columns (+ custom).")
    watermark: str | None = Field(
        default=None, description="postgres specs: the column read incrementally (updated_at)."
    )


class SourceSpec(BaseModel):
    """A parsed source spec. Load it with :func:`load_spec`."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    kind: Literal["files", "postgres"] = "files"
    files: dict[str, FileSource] = Field(default_factory=dict)
    tables: dict[str, TableSource]
    custom_attributes: dict[str, dict[str, str]] = Field(default_factory=dict)
    live_fields: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Custom fields holding a current value the CRM overwrites over time (a "
        "'latest NPS'): kept, but never used as point-in-time features.",
    )
    dsn: str | None = Field(default=None, description="postgres specs: DSN; ${ENV} expands.")

    # Set by load_spec, not read from YAML.
    path: Path | None = Field(default=None, exclude=True)
    root: Path | None = Field(default=None, exclude=True)

    def where(self, table: str | None = None) -> str:
        """'source spec X (path)', with ', table T' — the prefix of every error message."""
        place = (
            f"source spec {self.name!r} ({self.path})"
            if self.path
            else f"source spec {self.name!r}"
        )
        return f"{place}, table {table!r}" if table else place

    def provides(self, table: str) -> bool:
        """Whether the spec maps a source onto ``table``."""
        return table in self.tables

    def partition_alias(self, table: str) -> FileSource | None:
        """The day-partitioned file alias a table reads, if any."""
        for alias in referenced_aliases(self.tables[table].select, self.files):
            if self.files[alias].partitioned:
                return self.files[alias]
        return None

    def available_days(self, table: str) -> list[date]:
        """The days for which a partitioned table has files under the root."""
        source = self.partition_alias(table)
        if source is None:
            return []
        return sorted(
            day_of_file(p, source.path, self.root) for p in glob_files(source.path, self.root)
        )


def load_spec(path: str | Path, root: str | Path | None = None) -> SourceSpec:
    """Read and check a spec.

    Args:
        path: the spec (YAML).
        root: the folder its file paths are relative to (default: the spec's folder).

    Returns:
        The spec.

    Raises:
        SpecError: the file is missing or malformed, or names a table or column wrongly.
    """
    path = Path(path)
    if not path.exists():
        raise SpecError(
            f"source spec {path} does not exist (write the synthetic CRM and its spec with "
            f"`crmlens generate`, or point CRMLENS_SOURCE_SPEC at your own spec)"
        )
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise SpecError(f"source spec {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise SpecError(f"source spec {path} must be a mapping with `name` and `tables`")
    try:
        spec = SourceSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SpecError(f"source spec {path} is malformed: {problems}") from None
    spec.path = path
    spec.root = Path(root) if root else path.parent
    for table in spec.tables:
        if table not in CONTRACTS:
            raise SpecError(
                f"{spec.where(table)}: not a canonical table (the canonical tables are: "
                f"{', '.join(TABLES)})"
            )
    for table, types in spec.custom_attributes.items():
        if table not in spec.tables:
            raise SpecError(f"{spec.where(table)}: custom_attributes for a table the spec lacks")
        for column in types:
            if column in CONTRACTS[table].columns:
                raise SpecError(f"{spec.where(table)}: {column!r} is canonical, not custom")
    for table, columns in spec.live_fields.items():
        if table not in spec.tables:
            raise SpecError(f"{spec.where(table)}: live_fields for a table the spec lacks")
        for column in columns:
            if column in CONTRACTS[table].columns:
                raise SpecError(
                    f"{spec.where(table)}: {column!r} is canonical; only custom fields are live"
                )
    if spec.kind == "postgres":
        spec.dsn = os.path.expandvars(spec.dsn) if spec.dsn else None
    return spec


# --- reading files -------------------------------------------------------------


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


def referenced_aliases(sql: str, files: dict[str, FileSource]) -> list[str]:
    """The file aliases a select mentions (as whole words).

    Args:
        sql: the select.
        files: the spec's aliases.

    Returns:
        The aliases it reads, in the spec's order.
    """
    return [a for a in files if re.search(rf"\b{re.escape(a)}\b", sql)]


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
        batch.files += [_relative(p, spec.root) for p in paths]
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
        paths = [spec.root / source.path.replace("{day}", d.isoformat()) for d in days]
        return [p for p in paths if p.exists()]
    paths = glob_files(source.path, spec.root)
    if not paths and not source.partitioned:
        raise SpecError(f"{spec.where(table)}: no file matches {source.path!r} under {spec.root}")
    return paths


def glob_files(pattern: str, root: Path | None) -> list[Path]:
    """The files a path or glob names, ``{day}`` matching any day.

    Args:
        pattern: the path, relative to ``root``.
        root: the spec's root (default: the working folder).

    Returns:
        The existing files, sorted.
    """
    root = root or Path(".")
    pattern = pattern.replace("{day}", "*")
    if any(ch in pattern for ch in "*?["):
        return sorted(root.glob(pattern))
    path = root / pattern
    return [path] if path.exists() else []


def _day_pattern(template: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in template.split("{day}")]
    return re.compile(r"(\d{4}-\d{2}-\d{2})".join(parts) + "$")


def day_of_file(path: Path, template: str, root: Path | None) -> date:
    """The day a day file holds, read from its name.

    Args:
        path: the file.
        template: the alias's path with ``{day}``.
        root: the spec's root.

    Returns:
        The day.

    Raises:
        SpecError: the name does not match the template.
    """
    match = _day_pattern(template).search(_relative(path, root))
    if not match:
        raise SpecError(f"file {path} does not match the day template {template!r}")
    return date.fromisoformat(match.group(1))


def _relative(path: Path, root: Path | None) -> str:
    try:
        return path.resolve().relative_to(Path(root or ".").resolve()).as_posix()
    except ValueError:
        return path.as_posix()


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
    root = Path(spec.root or ".").resolve()
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
        pattern = _day_pattern(source.path).pattern
        data = data.with_columns(
            _partition=pl.col("_source_file").str.extract(pattern, 1).str.to_date()
        )
    arrow: pa.Table = data.to_arrow()
    con.register(f"{view}__arrow", arrow)
    con.execute(f"create or replace temp view {view} as select * from {view}__arrow")


def _partition_sql(source: FileSource, column: str) -> str:
    if not source.partitioned:
        return ""
    pattern = _day_pattern(source.path).pattern.replace("'", "''")
    return f", regexp_extract({column}, '{pattern}', 1)::date as _partition"


def _default_json_columns(table: str) -> dict[str, str]:
    return dict.fromkeys(CONTRACTS[table].columns, "VARCHAR")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
