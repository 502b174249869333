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
    lacks:                        # optional: canonical columns this CRM does not have
      accounts: [tier, parent_account_id]
    as_of: 2025-06-30             # optional: the export date (default: the newest timestamp)
    labels:                       # optional, per family (crmlens.sources.labels)
      lead_scoring: {horizon_days: 60, mode: snapshots}
    context:                      # optional: dated series (crmlens.sources.context)
      economy: {select: "select day as date, rate from rates", available_after_days: 30}
    series:                       # optional: series to forecast (crmlens.sources.series)
      sales: {select: "select day as date, amount as value from sales", grain: day}
    vocabularies:                 # optional: the CRM's own labels (crmlens.sources.vocabularies)
      opportunity_stages:         # ordered, open|won|lost; a postgres CRM may give {select: ...}
        - {label: Engaging, meaning: open, probability: 0.3}
        - {label: Won, meaning: won}
        - {label: Lost, meaning: lost}
      lead_statuses: {Open: new, Working: working, MQL: mql, Dead: disqualified}
      activity_types: {Phone Call: call}

Reading the files a spec names is :mod:`crmlens.sources.files`. Kind ``postgres``
specs read an operational database instead (:mod:`crmlens.sources.postgres`).

Spec problems (a missing file, bad SQL, a missing required column) raise
:class:`SpecError` with a message naming the spec, the table and the problem.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from crmlens.contracts import CONTRACTS, TABLES
from crmlens.sources import spec_checks as checks
from crmlens.sources.context import ContextSeries, check_series
from crmlens.sources.labels import LabelSpec, check_labels
from crmlens.sources.series import SpecSeries, check_spec_series
from crmlens.sources.vocabularies import Vocabularies, check_stages_select, check_vocabularies


class SpecError(ValueError):
    """A source spec that cannot be used, with a message a user can act on."""


class MissingFiles(SpecError):
    """No file matches what a spec names: maybe a mistake, maybe an export still arriving
    (worth a retry in a scheduled run, unlike the other spec errors)."""


class FileSource(BaseModel):
    """One export file, or one set of day files, that a spec's selects read by alias."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Path or glob, relative to the root; `{day}` marks day files.")
    format: Literal["csv", "parquet", "jsonl"] | None = Field(
        default=None, description="Inferred from the extension when absent."
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="Extra reader options, e.g. {delim: ';'} (CSV)."
    )
    columns: dict[str, str] | None = Field(
        default=None, description="JSONL only: column -> DuckDB type (JSON readers need it)."
    )
    encoding: str | None = Field(
        default=None,
        description="CSV/JSONL: the text encoding (utf-8, utf-16, cp1252, latin-1...); "
        "detected when absent (a byte-order mark, else UTF-8, else Windows-1252).",
    )
    header: bool = Field(
        default=True,
        description="CSV: whether the first line names the columns; without one they are "
        "column0, column1, ... and the first line is row 1.",
    )
    delimiter: str | None = Field(
        default=None,
        description="CSV: the field separator: one character, `tab`, or `whitespace` "
        "(runs of spaces and tabs, as in text files aligned in columns). Default: `,`.",
    )
    date_format: str | None = Field(
        default=None,
        description="A strptime format (e.g. '%d/%m/%Y') for this file's dates and "
        "timestamps, tried before ISO 8601 when ingest types them.",
    )

    @model_validator(mode="after")
    def _dialect_is_ours(self) -> FileSource:
        # DuckDB's own `encoding` option would apply to the UTF-8 copy crmlens reads.
        if "encoding" in self.options:
            self.encoding = self.encoding or str(self.options.pop("encoding"))
        # `options: {header: ...}` is the reader's name for `header:`: one setting, ours.
        if "header" in self.options:
            value = self.options.pop("header")
            self.header = str(value).strip().lower() in ("true", "1", "yes", "t", "y")
        return self

    def separator(self) -> str | None:
        """The ``delimiter:`` as one character or ``whitespace``; None when not given."""
        if self.delimiter is None:
            return None
        return checks.DELIMITER_WORDS.get(self.delimiter.lower(), self.delimiter)

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


class Deletions(BaseModel):
    """How a CRM says a record was deleted, for one table: exactly one of three ways."""

    model_config = ConfigDict(extra="forbid")

    flag: str | None = Field(
        default=None,
        description="A column the select returns: true when the CRM deleted the record "
        "(deleted when its updated_at says, else when the load saw it).",
    )
    tombstones: str | None = Field(
        default=None,
        description="A select over the spec's files returning the key of each deleted "
        "record, and `deleted_at` when the CRM says when.",
    )
    full_snapshot: bool = Field(
        default=False,
        description="Every load holds every record: a key absent from a load is deleted "
        "(when that load ran).",
    )

    @model_validator(mode="after")
    def _one_way(self) -> Deletions:
        ways = [self.flag is not None, self.tombstones is not None, self.full_snapshot]
        if sum(ways) != 1:
            raise ValueError("say exactly one of `flag`, `tombstones`, `full_snapshot`")
        return self


class SourceSpec(BaseModel):
    """A parsed source spec. Load it with :func:`load_spec`."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    kind: Literal["files", "postgres"] = "files"
    files: dict[str, FileSource] = Field(default_factory=dict)
    tables: dict[str, TableSource] = Field(default_factory=dict)
    custom_attributes: dict[str, dict[str, str]] = Field(default_factory=dict)
    live_fields: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Custom fields holding a current value the CRM overwrites over time (a "
        "'latest NPS'): kept, but never used as point-in-time features.",
    )
    lacks: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Optional canonical columns the CRM does not have, per table: null in "
        "every row, and no schema-drift warning about them.",
    )
    vocabularies: Vocabularies = Field(
        default_factory=Vocabularies,
        description="The CRM's own labels of stages, statuses, types, channels and tiers.",
    )
    deletions: dict[str, Deletions] = Field(
        default_factory=dict,
        description="Per table, how the CRM says a record was deleted; raw keeps the row, "
        "marked deleted with when (`_deleted_at`), and staging drops it.",
    )
    as_of: date | datetime | None = Field(
        default=None,
        description="The export date: the data's 'today' for this source (default: from the "
        "files, the day after the newest timestamp). The setting `as_of` overrides it.",
    )
    labels: dict[str, LabelSpec] = Field(
        default_factory=dict,
        description="Per model family, how its label is read: horizon_days, mode (snapshots "
        "or one_outcome_per_row), and what counts as converted or churned.",
    )
    context: dict[str, ContextSeries] = Field(
        default_factory=dict, description="Dated series, joined as of each snapshot's date."
    )
    series: dict[str, SpecSeries] = Field(default_factory=dict, description="To forecast.")
    dsn: str | None = Field(default=None, description="postgres specs: DSN; ${ENV} expands.")
    allow_outside_root: bool = Field(
        default=False,
        description="Let file paths point outside the spec's root (absolute, or climbing "
        "out with ..); refused otherwise.",
    )

    # Set by load_spec, not read from YAML.
    path: Path | None = Field(default=None, exclude=True)
    root: Path | None = Field(default=None, exclude=True)

    def file_name(self, path: Path) -> str:
        """The one name of a file the spec reads: its path relative to the root (POSIX).

        ``_source_file`` in raw and quarantine, the files of a load, and the day of a day
        file are all read from this name, so a file has one name whatever the form of
        the paths a run was given.
        """
        return relative_path(path, self.root)

    def where(self, table: str | None = None) -> str:
        """'source spec X (path)', with ', table T' — the prefix of every error message."""
        place = f"source spec {self.name!r}" + (f" ({self.path})" if self.path else "")
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
    # The root is made absolute once, here: every file a spec reads is named relative to
    # it (``_source_file``), so the name is the same whatever form of path a run was given.
    spec.root = absolute(Path(root) if root else path.parent)
    _check_tables(spec)
    _refuse(spec, None, check_vocabularies(spec.vocabularies))
    _check_code(spec)
    _refuse(spec, None, check_series(spec.context, list(spec.files), spec.kind))
    _refuse(spec, None, check_spec_series(spec.series, list(spec.files), spec.kind))
    if problem := check_labels(spec.labels):
        raise SpecError(f"{spec.where()}: {problem}")
    if spec.kind == "postgres":
        spec.dsn = os.path.expandvars(spec.dsn) if spec.dsn else None
    return spec


def _check_tables(spec: SourceSpec) -> None:
    """Tables and columns the spec names: canonical tables, custom columns that are custom."""
    for table in spec.tables:
        if table not in CONTRACTS:
            raise SpecError(
                f"{spec.where(table)}: not a canonical table (the canonical tables are: "
                f"{', '.join(TABLES)})"
            )
    for table, types in spec.custom_attributes.items():
        if table not in spec.tables:
            raise SpecError(f"{spec.where(table)}: custom_attributes for a table the spec lacks")
        for column, dtype in types.items():
            if column in CONTRACTS[table].columns:
                raise SpecError(f"{spec.where(table)}: {column!r} is canonical, not custom")
            _refuse(spec, table, checks.check_type_name(dtype, f"the type of {column!r}"))
    for table, columns in spec.lacks.items():
        if table not in spec.tables:
            raise SpecError(f"{spec.where(table)}: `lacks` for a table the spec does not provide")
        contract = CONTRACTS[table]
        for column in columns:
            if column not in contract.columns:
                raise SpecError(f"{spec.where(table)}: `lacks` names {column!r}, not canonical")
            if column in contract.required:
                raise SpecError(
                    f"{spec.where(table)}: `lacks` names {column!r}, which the contract "
                    f"requires; the select must return it"
                )
    for table, columns in spec.live_fields.items():
        if table not in spec.tables:
            raise SpecError(f"{spec.where(table)}: live_fields for a table the spec lacks")
        for column in columns:
            if column in CONTRACTS[table].columns:
                raise SpecError(
                    f"{spec.where(table)}: {column!r} is canonical; only custom fields are live"
                )


def _check_code(spec: SourceSpec) -> None:
    """What a spec pastes into SQL or reads: one select each, its own files, under its root."""
    for alias, source in spec.files.items():
        where = f"{spec.where()}, file {alias!r}"
        problems = [checks.check_identifier(alias, "the alias")]
        problems += [checks.check_identifier(k, "the reader option") for k in source.options]
        problems += [
            checks.check_identifier(c, "the column") or checks.check_type_name(t, "the type")
            for c, t in (source.columns or {}).items()
        ]
        if source.encoding:
            problems.append(checks.check_encoding(source.encoding))
        kind = source.format or source.path.rsplit(".", 1)[-1].lower()
        problems += checks.check_dialect(source, kind)
        if checks.path_outside_root(source.path) and not spec.allow_outside_root:
            problems.append(
                f"the path {source.path!r} points outside the spec's root {spec.root}; move "
                f"the file under the root, or say `allow_outside_root: true` in the spec"
            )
        for problem in problems:
            if problem:
                raise SpecError(f"{where}: {problem}")
    aliases = list(spec.files) if spec.kind == "files" else None
    for table, source in spec.tables.items():
        _refuse(spec, table, checks.check_select(source.select, aliases))
    for table, deletions in spec.deletions.items():
        _check_deletions(spec, table, deletions, aliases)
    _refuse(spec, None, check_stages_select(spec.vocabularies, spec.kind))


def _check_deletions(
    spec: SourceSpec, table: str, deletions: Deletions, aliases: list[str] | None
) -> None:
    if table not in spec.tables:
        raise SpecError(f"{spec.where(table)}: `deletions` for a table the spec does not provide")
    if deletions.flag is not None:
        _refuse(spec, table, checks.check_identifier(deletions.flag, "the deleted flag"))
    if deletions.tombstones is not None:
        if spec.kind != "files":
            raise SpecError(f"{spec.where(table)}: tombstones are read from files")
        _refuse(spec, table, checks.check_select(deletions.tombstones, aliases))
    if deletions.full_snapshot and (
        spec.tables[table].watermark or (spec.kind == "files" and spec.partition_alias(table))
    ):
        raise SpecError(
            f"{spec.where(table)}: `full_snapshot` needs every record in every load; this "
            f"table is read by day files or incrementally, so an absent key is no deletion"
        )


def _refuse(spec: SourceSpec, table: str | None, problem: str | None) -> None:
    if problem:
        raise SpecError(f"{spec.where(table)}: {problem}")


def referenced_aliases(sql: str, files: dict[str, FileSource]) -> list[str]:
    """The file aliases a select mentions (as whole words).

    Args:
        sql: the select.
        files: the spec's aliases.

    Returns:
        The aliases it reads, in the spec's order.
    """
    return [a for a in files if re.search(rf"\b{re.escape(a)}\b", sql)]


def glob_files(pattern: str, root: Path | None) -> list[Path]:
    """The files a path or glob names, ``{day}`` matching any day.

    Args:
        pattern: the path, relative to ``root``.
        root: the spec's root (default: the working folder).

    Returns:
        The existing files, sorted.
    """
    root = absolute(root or Path("."))
    pattern = pattern.replace("{day}", "*")
    if any(ch in pattern for ch in "*?["):
        return sorted(root.glob(pattern))
    path = root / pattern
    return [path] if path.exists() else []


def day_pattern(template: str) -> re.Pattern[str]:
    """The regular expression that finds the day in the name of a day file.

    Args:
        template: the alias's path with ``{day}``.

    Returns:
        A pattern whose group 1 is the day (YYYY-MM-DD), anchored at the end.
    """
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
    match = day_pattern(template).search(relative_path(path, root))
    if not match:
        raise SpecError(f"file {path} does not match the day template {template!r}")
    return date.fromisoformat(match.group(1))


def absolute(path: Path) -> Path:
    """``path`` made absolute and normalised (``..`` folded), without resolving symlinks.

    Lexical on purpose: a file reached through a symlinked folder keeps the name it has
    under the root, which is the name DuckDB reports for it.
    """
    return Path(os.path.abspath(path))


def relative_path(path: Path, root: Path | None) -> str:
    """``path`` relative to ``root`` (the working folder if none), or absolute if outside it."""
    full = absolute(path)
    name = os.path.relpath(full, absolute(Path(root or ".")))
    if name == ".." or name.startswith(f"..{os.sep}"):
        return full.as_posix()
    return Path(name).as_posix()
