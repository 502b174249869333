"""A starter source spec from a folder of CRM exports (``crmlens init DIR``).

It reads each export's header (and a sample of its rows, to tell its dialect and its
date format), decides which canonical table the file holds — by its name
(``Account.csv``, ``deals.csv``, ``persons.csv``) or, failing that, by how many of its
headers are known names of a table's columns — and maps the headers onto canonical
columns with the synonyms of common CRM exports (:mod:`crmlens.sources.synonyms`).
Headers it does not know stay custom attributes. What it guessed, and what it could not
find, it says in a comment on the line, so a user reviews a spec rather than writes one.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from crmlens.contracts import CONTRACTS, TABLES
from crmlens.sources.synonyms import COLUMNS, TABLE_OF_FILE, identifier, normal

TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".dat"}
JSON_SUFFIXES = {".jsonl", ".ndjson", ".json"}
SAMPLE_BYTES = 1 << 20
SAMPLE_ROWS = 500
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# Date formats exports write, most specific first; day-first and month-first are told
# apart by the values (a first field over 12 is a day).
DATE_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
    "%m/%d/%Y", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M", "%d.%m.%Y", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d", "%d-%b-%Y", "%d %b %Y",
    "%b %d, %Y", "%Y%m%d",
)  # fmt: skip


@dataclass
class ExportFile:
    """One export (or one day-partitioned set of them) as the starter read it."""

    alias: str
    path: str  # relative to the folder; `{day}` for day files
    format: str  # csv, parquet or jsonl
    headers: list[str]
    samples: dict[str, list[str]] = field(default_factory=dict)
    encoding: str = "utf-8"
    delimiter: str = ","
    header: bool = True
    table: str | None = None
    matched_by: str = ""


@dataclass
class Mapping:
    """Canonical column -> (SQL expression over the file's columns, comment)."""

    table: str
    columns: dict[str, tuple[str, str]]
    custom: dict[str, str]  # identifier -> the header it comes from
    missing_required: list[str]
    date_format: str | None = None  # the file's `date_format:` (its dates' strptime format)


def read_exports(folder: Path) -> list[ExportFile]:
    """Every export file under ``folder`` (day files grouped), with headers and samples.

    Args:
        folder: the folder of export files.

    Returns:
        The files, in name order; files crmlens cannot read (spreadsheets, archives) are
        left out.
    """
    groups: dict[str, list[Path]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        suffix = path.suffix.lower()
        if suffix not in TEXT_SUFFIXES | JSON_SUFFIXES | {".parquet"}:
            continue
        relative = path.relative_to(folder).as_posix()
        groups.setdefault(DAY.sub("{day}", relative, count=1), []).append(path)
    exports, aliases = [], set()
    for template, paths in groups.items():
        export = _read_one(paths[-1], template)
        export.alias = _unique(_alias_of(template), aliases)
        aliases.add(export.alias)
        exports.append(export)
    return exports


def _alias_of(template: str) -> str:
    stem = Path(template.replace("{day}", "")).stem or Path(template).parent.name
    return identifier(stem) or "export"


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    return candidate


def _read_one(path: Path, template: str) -> ExportFile:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path).slice(0, SAMPLE_ROWS)
        samples = {c: [str(v) for v in table.column(c).to_pylist() if v is not None]
                   for c in table.column_names}  # fmt: skip
        return ExportFile("", template, "parquet", table.column_names, samples)
    raw = path.read_bytes()[:SAMPLE_BYTES]
    encoding = detect_encoding(raw)
    text = raw.decode(encoding, errors="replace")
    if suffix in JSON_SUFFIXES:
        rows = [json.loads(line) for line in text.splitlines()[:SAMPLE_ROWS] if line.strip()]
        rows = [r for r in rows if isinstance(r, dict)]
        headers = list(dict.fromkeys(k for r in rows for k in r))
        samples = {h: [str(r[h]) for r in rows if r.get(h) is not None] for h in headers}
        return ExportFile("", template, "jsonl", headers, samples, encoding)
    lines = text.splitlines()[: SAMPLE_ROWS + 1]
    if len(raw) == SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line read may be cut
    delimiter = detect_delimiter(lines)
    rows = _split(lines, delimiter)
    header = has_header(rows)
    width = max((len(r) for r in rows), default=0)
    headers = rows[0] if header and rows else [f"column{i}" for i in range(width)]
    body = rows[1:] if header else rows
    samples = {h: [r[i] for r in body if i < len(r) and r[i].strip()]
               for i, h in enumerate(headers)}  # fmt: skip
    return ExportFile("", template, "csv", headers, samples, encoding, delimiter, header)


def detect_encoding(raw: bytes) -> str:
    """The encoding of an export's first bytes: a BOM decides, else UTF-8 if it decodes.

    Args:
        raw: the first bytes of the file.

    Returns:
        ``utf-8``, ``utf-16`` (Excel's "Unicode text") or ``cp1252`` (Windows exports).
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(raw) - 4:  # not merely a character cut at the sample's end
            return "cp1252"
    return "utf-8"


def detect_delimiter(lines: list[str]) -> str:
    """The delimiter of a text export: one of ``, ; tab |``, or ``whitespace``.

    Args:
        lines: the first lines of the file, decoded.

    Returns:
        The character that splits every sampled line into the same number of fields
        (more than one), preferring the most common; ``whitespace`` for files whose
        fields are separated by runs of spaces.
    """
    sample = [line for line in lines[:200] if line.strip()]
    best, best_width = ",", 1
    for delimiter in (",", ";", "\t", "|"):
        widths = {len(row) for row in csv.reader(sample, delimiter=delimiter)}
        if len(widths) == 1 and (width := widths.pop()) > best_width:
            best, best_width = delimiter, width
    if best_width == 1 and sample:
        widths = {len(line.split()) for line in sample}
        if len(widths) == 1 and widths.pop() > 1:
            return "whitespace"
    return best


def _split(lines: list[str], delimiter: str) -> list[list[str]]:
    if delimiter == "whitespace":
        return [line.split() for line in lines if line.strip()]
    return [row for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter) if row]


def has_header(rows: list[list[str]]) -> bool:
    """Whether the first row names the columns: all text, and unlike the rows below it.

    Args:
        rows: the first rows, split.

    Returns:
        False when the first row holds a number or a date, or repeats a value.
    """
    if not rows or not rows[0]:
        return False
    first = rows[0]
    if any(_looks_numeric(v) or _date_format([v]) for v in first if v.strip()):
        return False
    return len(set(first)) == len(first)


def _looks_numeric(value: str) -> bool:
    try:
        float(value.replace(",", ""))
    except ValueError:
        return False
    return True


def choose_table(export: ExportFile, taken: set[str]) -> tuple[str | None, str]:
    """The canonical table an export holds, and how that was decided.

    Args:
        export: the file with its headers.
        taken: tables another file already holds (one file per table).

    Returns:
        (table or None, "file name" / "headers (n known)").
    """
    stem = normal(Path(export.path.replace("{day}", "")).stem) or normal(
        Path(export.path).parent.name
    )
    stem = re.sub(r"(export|data|report|list|all|\d+)$", "", stem) or stem
    by_name = TABLE_OF_FILE.get(stem)
    if by_name and by_name not in taken:
        return by_name, "file name"
    known = {normal(h) for h in export.headers}
    scores = []
    for table in TABLES:
        if table in taken:
            continue
        hits = sum(1 for names in COLUMNS[table].values() if known & set(names))
        scores.append((hits, -TABLES.index(table), table))
    hits, _, table = max(scores, default=(0, 0, None))
    if hits >= 3:
        return table, f"headers ({hits} known)"
    return None, ""


def map_columns(export: ExportFile, table: str) -> Mapping:
    """Each canonical column of ``table`` as an expression over the export's headers.

    Args:
        export: the file with its headers and samples.
        table: the canonical table it holds.

    Returns:
        The mapping: found columns (with a date format where the values need one),
        the custom attributes, and the required columns it could not find.
    """
    contract = CONTRACTS[table]
    by_normal: dict[str, str] = {}
    for h in export.headers:
        by_normal.setdefault(normal(h), h)
    used: set[str] = set()
    columns: dict[str, tuple[str, str]] = {}
    file_format = None
    temporal = {c for c, t in contract.columns.items() if str(t).startswith(("Datetime", "Date"))}
    for column, names in COLUMNS[table].items():
        header = next(
            (by_normal[n] for n in names if n in by_normal and by_normal[n] not in used), None
        )
        if header is None:
            continue
        used.add(header)
        expression, note = (
            _quote(header),
            "" if normal(header) == normal(column) else f"from {header!r}",
        )
        if column in temporal:
            fmt = _date_format(export.samples.get(header, []))
            if fmt and fmt != "iso" and file_format in (None, fmt) and export.format != "parquet":
                # The file's date_format: ingest types the text, and quarantines a bad date.
                file_format = fmt
                note = f"from {header!r}, dates written {fmt} (guessed from the values)"
            elif fmt and fmt != "iso":
                expression = f"strptime({_quote(header)}, '{fmt}')"
                note = f"from {header!r}, dates written {fmt} (guessed from the values)"
        columns[column] = (expression, note)
    _fill_gaps(table, columns)
    custom = {}
    for h in export.headers:
        if h in used:
            continue
        name = _unique(identifier(h), set(contract.columns) | set(custom))
        custom[name] = h
    missing = [c for c in contract.required if c not in columns]
    return Mapping(table, columns, custom, missing, file_format)


def _fill_gaps(table: str, columns: dict[str, tuple[str, str]]) -> None:
    """Derive what an export commonly lacks from what it has, and say so."""
    needs_updated = "updated_at" in CONTRACTS[table].columns and "updated_at" not in columns
    if needs_updated and "created_at" in columns:
        columns["updated_at"] = (
            columns["created_at"][0],
            "guessed: no last-modified column, so the creation time (set the export "
            "time instead if rows change after creation)",
        )


def _date_format(values: list[str]) -> str | None:
    """``iso`` when DuckDB reads the values as they are, else the first format reading
    them all, else None."""
    sample = [v.strip() for v in values[:200] if v and v.strip()]
    if not sample:
        return None
    if all(_iso(v) for v in sample):
        return "iso"
    for fmt in DATE_FORMATS:
        if all(_parses(v, fmt) for v in sample):
            return fmt
    return None


def _iso(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _parses(value: str, fmt: str) -> bool:
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


def _quote(header: str) -> str:
    return '"' + header.replace('"', '""') + '"'


def starter_spec(folder: Path, name: str | None = None) -> tuple[str, list[str]]:
    """The text of a starter spec for the exports in ``folder``, and notes for the user.

    Args:
        folder: the folder of export files.
        name: the spec's name (default: the folder's name).

    Returns:
        (YAML text with comments, lines to print: what was matched, guessed or skipped).

    Raises:
        FileNotFoundError: the folder holds no export crmlens can read.
    """
    exports = read_exports(folder)
    if not exports:
        raise FileNotFoundError(
            f"{folder}: no export files (.csv, .tsv, .txt, .parquet, .jsonl) to start a spec from"
        )
    taken: set[str] = set()
    notes, mapped = [], []
    for export in exports:
        export.table, export.matched_by = choose_table(export, taken)
        if export.table is None:
            notes.append(f"{export.path}: no canonical table recognised; left out (add it by hand)")
            continue
        taken.add(export.table)
        mapping = map_columns(export, export.table)
        mapped.append((export, mapping))
        notes.append(
            f"{export.path} → {export.table} (by {export.matched_by}): "
            f"{len(mapping.columns)} canonical columns, {len(mapping.custom)} custom"
            + (f"; NOT FOUND (required): {', '.join(mapping.missing_required)}"
               if mapping.missing_required else "")
        )  # fmt: skip
    mapped.sort(key=lambda em: TABLES.index(em[1].table))
    return _render(name or identifier(folder.resolve().name), folder, mapped), notes


def _render(name: str, folder: Path, mapped: list[tuple[ExportFile, Mapping]]) -> str:
    out = [
        f"# Starter spec written by `crmlens init` from the exports in {folder}",
        f"# on {date.today().isoformat()}. Review each line marked `guessed` or `TODO`, then:",
        f"#   crmlens run --spec <this file> --root {folder}",
        "# A spec is trusted like a dbt model: it runs the SQL below over your files.",
        f"name: {name}",
        "files:",
    ]
    for export, mapping in mapped:
        out.append(
            f"  {export.alias}: {_file_entry(export, mapping)}  "
            f"# {mapping.table}, by {export.matched_by}"
        )
    out.append("tables:")
    for export, mapping in mapped:
        out += [f"  {mapping.table}:", "    select: |", "      select"]
        lines = []
        for column in CONTRACTS[mapping.table].columns:
            if column in mapping.columns:
                expression, note = mapping.columns[column]
                lines.append((f"{expression} as {column}", note))
            elif column in mapping.missing_required:
                lines.append((f"null as {column}", "TODO: required, not found in the export"))
        for custom, header in mapping.custom.items():
            lines.append((f"{_quote(header)} as {custom}", "custom attribute"))
        lines += [("_source_file", ""), ("_source_row", "")]
        for i, (expression, note) in enumerate(lines):
            comma = "," if i < len(lines) - 1 else ""
            out.append(f"          {expression}{comma}" + (f"  -- {note}" if note else ""))
        out.append(f"      from {export.alias}")
    out += _status_vocabulary(mapped)
    return "\n".join(out) + "\n"


# A lead status's meaning from words exports use, most specific first: "Closed - Not
# Converted" is disqualified before "converted" matches, "Not Contacted" new before
# "contacted" working.
STATUS_WORDS = (
    (("not convert", "unqualif", "disqualif", "dead", "junk", "lost", "not interested",
      "bad ", "reject", "recycle"), "disqualified"),
    (("convert", "customer", "won"), "converted"),
    (("sales qualified", "sales accepted", "sql", "sal"), "sql"),
    (("marketing qualified", "mql"), "mql"),
    (("qualif",), "qualified"),
    (("nurtur",), "nurturing"),
    (("not contacted", "new", "unassigned", "raw", "open"), "new"),
    (("contact", "working", "attempt", "progress", "engag", "follow", "connect"), "working"),
)  # fmt: skip


def guess_status(label: str) -> str | None:
    """The canonical lead status an export's label most likely means; None if unknown."""
    text = f" {label.lower().replace('_', ' ')} "
    for words, status in STATUS_WORDS:
        if any(w in text for w in words):
            return status
    return None


def _status_vocabulary(mapped: list[tuple[ExportFile, Mapping]]) -> list[str]:
    """``vocabularies: lead_statuses:`` lines for the statuses seen in the leads' export.

    Lead statuses are a closed list (their meaning decides conversion): a label the spec
    does not map is quarantined, so the starter maps every label it saw, saying which it
    guessed.
    """
    for export, mapping in mapped:
        if mapping.table != "leads" or "status" not in mapping.columns:
            continue
        expression = mapping.columns["status"][0]
        header = next((h for h in export.headers if _quote(h) == expression), None)
        labels = sorted(set(export.samples.get(header, [])))[:50] if header else []
        if not labels:
            return []
        lines = ["  lead_statuses:  # the CRM's label: what it means (canonical status)"]
        for label in labels:
            status = guess_status(label)
            note = "guessed" if status else "TODO: unknown label, say what it means"
            lines.append(f"    {json.dumps(label)}: {status or 'working'}  # {note}")
        return ["vocabularies:", *lines]
    return []


def _file_entry(export: ExportFile, mapping: Mapping) -> str:
    parts = [f'path: "{export.path}"']
    if export.format != "csv" or Path(export.path).suffix.lower() not in {".csv"}:
        parts.append(f"format: {export.format}")
    if export.format == "csv" and export.delimiter != ",":
        shown = {"\t": "tab", "whitespace": "whitespace"}.get(export.delimiter)
        parts.append(f"delimiter: {shown or json.dumps(export.delimiter)}")
    if export.format == "csv" and not export.header:
        parts.append("header: false")
    if mapping.date_format:
        parts.append(f"date_format: {json.dumps(mapping.date_format)}")
    if export.encoding != "utf-8":
        parts.append(f"encoding: {export.encoding}")
    return "{" + ", ".join(parts) + "}"
