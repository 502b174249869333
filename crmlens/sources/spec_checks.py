"""What a source spec may not do: a spec is code, trusted like a dbt model, yet limited.

A spec's selects run in the warehouse's own DuckDB session, so a spec is trusted as a
dbt model is: whoever may change one may change what the warehouse holds. What no
spec needs is refused when the spec is loaded, with a message naming the spec, the
table and the problem:

- more than one statement in a select, or a statement that is not a ``select`` (DDL,
  DML, ``copy``, ``attach``, ``pragma``, ``set``...);
- in a files spec's select, reading anything but its own aliases and CTEs: a table of
  the warehouse (``raw.accounts``), a file named in the SQL (``from 'x.csv'``,
  ``read_csv(...)``), or a function that runs SQL (``query(...)``);
- file paths outside the spec's root (absolute, or climbing out with ``..``), unless
  the spec says ``allow_outside_root: true``;
- names that would be pasted into SQL unquoted (aliases, reader options, types) that
  are not plain identifiers or type names.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Iterator
from typing import Any

import duckdb

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A DuckDB type as a spec may name it: a word, optionally with a precision (DECIMAL(18, 2)).
TYPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?$")
# Table functions a select may call: they compute rows, they read nothing.
ALLOWED_TABLE_FUNCTIONS = frozenset(
    {"range", "generate_series", "unnest", "json_each", "json_tree", "values"}
)


def check_identifier(name: str, what: str) -> str | None:
    """A problem with a name pasted into SQL, or None.

    Args:
        name: the name.
        what: what it names, for the message.

    Returns:
        The problem in words, or None.
    """
    if not IDENTIFIER.match(name):
        return f"{what} {name!r} must be a plain identifier (letters, digits, _)"
    return None


def check_type_name(name: str, what: str) -> str | None:
    """A problem with a DuckDB type name a spec gives, or None."""
    if not TYPE_NAME.match(name):
        return f"{what} {name!r} is not a DuckDB type name (e.g. VARCHAR, BIGINT, DOUBLE)"
    return None


def check_encoding(name: str) -> str | None:
    """A problem with a file's ``encoding:``, or None."""
    try:
        codecs.lookup(name)
    except LookupError:
        return f"unknown encoding {name!r} (e.g. utf-8, utf-16, cp1252, latin-1)"
    return None


# `delimiter:` words, and the reader options that also name the delimiter.
DELIMITER_WORDS = {"tab": "\t", "\\t": "\t", "whitespace": "whitespace"}
_DELIMITER_OPTIONS = ("delim", "sep", "delimiter")


def check_dialect(source: Any, kind: str) -> list[str | None]:
    """Problems with a file's ``delimiter:``, ``header:`` and ``date_format:`` (None where fine).

    Args:
        source: the spec's file entry (``FileSource``).
        kind: its format, or its extension when the spec gives none.

    Returns:
        The problems in words.
    """
    delimiter, date_format, options = source.delimiter, source.date_format, source.options
    problems: list[str | None] = []
    if kind in ("parquet", "jsonl", "json", "ndjson") and (delimiter or not source.header):
        problems.append(f"`delimiter:` and `header:` are for CSV and text files, not {kind}")
    if delimiter is not None:
        word = DELIMITER_WORDS.get(delimiter.lower(), delimiter)
        if len(word) != 1 and word != "whitespace":
            problems.append(
                f"unknown delimiter {delimiter!r}: say one character (e.g. ';' or '|'), "
                f"`tab`, or `whitespace` (runs of spaces and tabs)"
            )
        elif word in ("\n", "\r", '"'):
            problems.append(f"the delimiter {delimiter!r} cannot separate fields")
        named = [k for k in _DELIMITER_OPTIONS if k in options]
        if named:
            problems.append(
                f"the delimiter is given twice (`delimiter:` and `options: {{{named[0]}: ...}}`); "
                f"keep `delimiter:`"
            )
    if date_format is not None:
        problems.append(check_date_format(date_format))
    return problems


def check_date_format(fmt: str) -> str | None:
    """A problem with a strptime format, or None (DuckDB's strptime judges it)."""
    if "%" not in fmt:
        return f"the date_format {fmt!r} has no % directive (e.g. '%d/%m/%Y')"
    con = duckdb.connect()
    try:
        con.execute("select try_strptime('', ?)", [fmt]).fetchall()
    except duckdb.Error as exc:
        message = str(exc).strip().splitlines()[0]
        return f"the date_format {fmt!r} is not a strptime format: {message}"
    finally:
        con.close()
    return None


def path_outside_root(path: str) -> bool:
    """Whether a spec's file path (relative to the root) points outside the root.

    Args:
        path: the path or glob as the spec writes it.

    Returns:
        True for an absolute path or one whose ``..`` climb out of the root.
    """
    if os.path.isabs(path) or re.match(r"^[A-Za-z]:[\\/]", path):
        return True
    normal = os.path.normpath(path.replace("{day}", "x"))
    return normal == ".." or normal.startswith(f"..{os.sep}")


def check_select(sql: str, aliases: list[str] | None) -> str | None:
    """A problem with a spec's select, or None.

    Args:
        sql: the select.
        aliases: a files spec's aliases (what the select may read); None for a postgres
            spec, whose tables live in the database it reads.

    Returns:
        The problem in words, or None. SQL DuckDB cannot parse is left to the read, which
        reports DuckDB's parser error (and PostgreSQL's own SQL to PostgreSQL).
    """
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error:
        return None
    if len(statements) != 1:
        return f"the select holds {len(statements)} statements; a spec's select is one select"
    kind = statements[0].type.name
    if kind != "SELECT":
        return f"the select is a {kind} statement; a spec may only select"
    if aliases is None:
        return None
    return _check_reads(sql, aliases)


def _check_reads(sql: str, aliases: list[str]) -> str | None:
    """What a files spec's select reads: only its aliases, its CTEs, and computed rows."""
    con = duckdb.connect()
    try:
        tree = json.loads(con.execute("select json_serialize_sql(?)", [sql]).fetchone()[0])
    finally:
        con.close()
    if tree.get("error"):
        return None
    nodes = list(_nodes(tree))
    ctes = {
        entry["key"].lower()
        for node in nodes
        if isinstance(node.get("cte_map"), dict)
        for entry in node["cte_map"].get("map", [])
    }
    known = aliases_lower(aliases) | ctes
    tables = [
        (node.get("schema_name") or node.get("catalog_name"), node.get("table_name", ""))
        for node in nodes
        if node.get("type") == "BASE_TABLE"
    ]
    reads_alias = any(
        not schema and name.lower() in aliases_lower(aliases) for schema, name in tables
    )
    for schema, name in tables:
        if schema or name.lower() not in known:
            shown = f"{schema}.{name}" if schema else name
            first = "" if reads_alias else f"the select reads none of the files {aliases}; "
            return (
                f"{first}the select reads {shown!r}, which is not one of the spec's files: "
                f"name every file under `files:` and select from its alias"
            )
    functions = [
        (node.get("function") or {}).get("function_name", "")
        for node in nodes
        if node.get("type") == "TABLE_FUNCTION"
    ]
    for function in functions:
        if function.lower() not in ALLOWED_TABLE_FUNCTIONS:
            return (
                f"the select calls {function}(): a spec reads files only through its "
                f"aliases (name the file under `files:`), and runs no SQL of its own"
            )
    return None


def aliases_lower(aliases: list[str]) -> set[str]:
    """The aliases as DuckDB compares names (case-insensitively)."""
    return {a.lower() for a in aliases}


def _nodes(tree: Any) -> Iterator[dict]:
    """Every mapping in a parsed statement, depth first."""
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
