"""The dashboards' only way to data: the serving snapshot, never the warehouse.

The pipeline swaps ``serving/current.duckdb`` atomically after each publish
(:mod:`crmlens.serving`). One :class:`~crmlens.serving.SnapshotReader` per server
(``st.cache_resource``) follows those swaps; every query takes its own cursor, so
sessions running in parallel threads never share one. Query results are cached
(``st.cache_data`` with a TTL) under the snapshot's identity as well as the SQL and
its parameters: a new snapshot is read at once, an unchanged one is not read twice.

Errors a manager can do nothing about become :class:`DataUnavailable`, which the
pages show as a friendly message (see :func:`dashboards.ui.section`).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from crmlens.serving import SnapshotReader, info_path
from crmlens.settings import get_settings
from crmlens.sql import load

log = logging.getLogger(__name__)

# Results stay cached this long at most; a new snapshot invalidates them sooner.
TTL_SECONDS = 600
_PARAM = re.compile(r"\$([A-Za-z_]\w*)")


class DataUnavailable(Exception):
    """Data a page needs is not there (yet): shown as a message, never a stack trace."""


class NoSnapshot(DataUnavailable):
    """The pipeline has not published a serving snapshot yet."""


class MissingTable(DataUnavailable):
    """A table is not in this snapshot: the pipeline step that builds it has not run yet
    (or the snapshot was published before that step existed)."""


def serving_path() -> Path:
    """The snapshot the settings point at (``CRMLENS_HOME`` / ``CRMLENS_SERVING_PATH``).

    Returns:
        Its absolute path (the file may not exist yet).
    """
    return Path(get_settings().serving_path).resolve()


def snapshot_version(path: Path | None = None) -> str | None:
    """Identity of the snapshot file now behind the path (changes with every swap).

    Args:
        path: the snapshot; the settings' by default.

    Returns:
        Path, inode, modification time and size in one string; None without a snapshot.
    """
    path = path or serving_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return f"{path}:{stat.st_ino}:{stat.st_mtime_ns}:{stat.st_size}"


def snapshot_meta(path: Path | None = None) -> dict:
    """What the pipeline wrote beside the snapshot (run id, publication time).

    Args:
        path: the snapshot; the settings' by default.

    Returns:
        The snapshot's information, e.g. ``run_id`` and ``published_at``; {} if none.
    """
    meta = info_path(path or serving_path())
    try:
        return json.loads(meta.read_text())
    except (FileNotFoundError, ValueError):
        return {}


@st.cache_resource(show_spinner=False)
def _reader(path: str) -> SnapshotReader:
    return SnapshotReader(Path(path))


def _cursor(path: Path, attempts: int = 5) -> duckdb.DuckDBPyConnection:
    """A cursor on the snapshot now behind ``path``.

    A publish can land between the reader pinning a version and opening it, and the
    publisher then removes the link to the version it superseded: opening fails with
    "does not exist". The next attempt pins the new version, so try again.
    """
    for attempt in range(attempts):
        if not path.exists():
            break
        try:
            return _reader(str(path)).connection()
        except FileNotFoundError:
            continue
        except duckdb.IOException as exc:
            if "does not exist" not in str(exc) or attempt == attempts - 1:
                raise _friendly(exc) from exc
            log.info("the snapshot was swapped while opening it; opening the new one")
    raise NoSnapshot(
        "No data has been published yet. Run the pipeline first "
        "(`make demo`, or `crmlens run`), then reload this page."
    )


def _friendly(exc: duckdb.Error) -> DataUnavailable:
    text = str(exc)
    missing = re.search(r"Table with name (\S+) does not exist", text)
    if isinstance(exc, duckdb.CatalogException) and missing:
        return MissingTable(
            f"`{missing.group(1)}` is not in the published data yet: the pipeline step that "
            "builds it has not run on this installation."
        )
    if isinstance(exc, duckdb.CatalogException | duckdb.BinderException):
        return DataUnavailable(
            "The published data does not have the shape this page expects (an older or newer "
            "pipeline version); re-run the pipeline to refresh it."
        )
    return DataUnavailable(f"The published data could not be read ({type(exc).__name__}).")


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=1024)
def _run(sql: str, params: dict, version: str | None) -> pl.DataFrame:
    path = Path(version.rsplit(":", 3)[0]) if version else serving_path()
    cur = _cursor(path)
    try:
        return cur.sql(sql, params=params).pl()
    except duckdb.Error as exc:
        log.warning("dashboard query failed: %s", exc)
        raise _friendly(exc) from exc
    finally:
        cur.close()


def query(sql: str, params: dict | None = None) -> pl.DataFrame:
    """Run parameterized SQL (``$name`` placeholders) on the current snapshot, cached.

    Values only ever travel as parameters; ``params`` may hold more than the statement
    uses (the unused ones are dropped, as DuckDB rejects them).

    Args:
        sql: the statement.
        params: values for its ``$name`` parameters (tuples bind as lists).

    Returns:
        The result, as polars.

    Raises:
        DataUnavailable: no snapshot yet, a table it reads is missing, or it cannot be read.
        ValueError: a parameter the statement uses is not in ``params``.
    """
    version = snapshot_version()
    if version is None:
        _cursor(serving_path())  # raises NoSnapshot with the message
    used = set(_PARAM.findall(sql))
    bound = {k: _plain(v) for k, v in (params or {}).items() if k in used}
    missing = used - bound.keys()
    if missing:
        raise ValueError(f"query needs parameters {sorted(missing)}")
    return _run(sql, bound, version)


def query_file(name: str, params: dict | None = None) -> pl.DataFrame:
    """Run ``dashboards/sql/<name>.sql`` on the current snapshot, cached (see :func:`query`).

    Args:
        name: the file name without ``.sql``.
        params: values for the file's ``$name`` parameters (more are fine).

    Returns:
        The result, as polars.

    Raises:
        DataUnavailable: no snapshot yet, a table it reads is missing, or it cannot be read.
    """
    return query(load("dashboards", name), params)


def _plain(value: object) -> object:
    """Tuples become lists (DuckDB binds lists as LIST values)."""
    return list(value) if isinstance(value, tuple) else value
