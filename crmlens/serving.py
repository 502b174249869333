"""The read-only serving snapshot: what dashboards and notebooks open.

DuckDB allows one writer or many readers across processes, never both
(duckdb/duckdb#1119), so readers never open the warehouse the pipeline writes.
After each publish the pipeline checkpoints the warehouse, copies it to a temporary
file beside the snapshot and renames it over ``serving/current.duckdb`` — an atomic
swap: a reader that already has the old file open keeps reading it (the old inode
lives until it closes), a reader that opens after the swap gets the new one, and
nobody ever sees half a file. A refresh killed half-way leaves its temporary copy behind
(named after its pid); the next refresh removes the copies of processes that are gone.

:class:`SnapshotReader` gives long-lived readers (a Streamlit server) a connection
that follows the swaps: it reopens when the file behind the path changes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb

from crmlens.clock import utc_now
from crmlens.runlock import remove_orphans, temp_name
from crmlens.settings import Settings
from crmlens.warehouse import connect


@dataclass(frozen=True)
class SnapshotInfo:
    """A serving snapshot: its file, the run that made it, when, and its size."""

    path: Path
    run_id: str | None
    published_at: str | None
    bytes: int


def info_path(serving_path: Path) -> Path:
    """The JSON file beside a snapshot that records its run and time."""
    return Path(serving_path).with_suffix(".json")


def refresh_snapshot(settings: Settings, run_id: str | None = None) -> SnapshotInfo:
    """Copy the warehouse to the serving path atomically. Call with no writer connected.

    Args:
        settings: the warehouse and serving paths.
        run_id: the run publishing, recorded with the snapshot.

    Returns:
        The new snapshot.
    """
    warehouse = Path(settings.warehouse_path)
    target = Path(settings.serving_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(target.parent, f".{target.name}")  # copies a killed refresh left
    con = connect(warehouse)
    con.execute("checkpoint")  # the .duckdb file alone then holds everything (no WAL)
    con.close()
    tmp = target.with_name(temp_name(f".{target.name}", ".tmp"))
    shutil.copyfile(warehouse, tmp)
    published_at = utc_now().isoformat(timespec="seconds")
    meta = {"run_id": run_id, "published_at": published_at, "source": str(warehouse)}
    meta_tmp = tmp.with_suffix(".json.tmp")
    meta_tmp.write_text(json.dumps(meta))
    os.replace(tmp, target)  # the swap
    os.replace(meta_tmp, info_path(target))
    _forget_old_versions(target)
    return SnapshotInfo(target, run_id, published_at, target.stat().st_size)


def _forget_old_versions(target: Path) -> None:
    """Remove readers' links to superseded versions: a reader still using one keeps its
    open file, and links again if it needs a new connection to that version."""
    current = target.stat().st_ino
    for link in (target.parent / ".readers").glob("*.duckdb"):
        with contextlib.suppress(FileNotFoundError):
            if link.stat().st_ino != current:
                link.unlink()


def _pinned(path: Path) -> tuple[Path, int]:
    """A hard link to the file now behind ``path``, named after its inode.

    DuckDB caches database instances by path within a process, so reopening
    ``current.duckdb`` after a swap would hand back the old instance. Each snapshot
    version gets its own name instead; the link shares the file, costs nothing, and
    keeps the version readable for as long as anyone has it open.
    """
    folder = path.parent / ".readers"
    folder.mkdir(exist_ok=True)
    for _ in range(5):  # a swap may land between looking and linking: look again
        inode = path.stat().st_ino
        link = folder / f"{os.getpid()}-{inode}.duckdb"
        if not link.exists():
            with contextlib.suppress(FileExistsError):
                os.link(path, link)
        if link.stat().st_ino == inode:
            return link, inode
        link.unlink(missing_ok=True)
    raise RuntimeError(f"the serving snapshot {path} keeps changing; try again")


def _open_pinned(path: Path) -> tuple[duckdb.DuckDBPyConnection, Path, int]:
    """Pin the current version and open it read-only.

    A publish may swap the snapshot and remove the superseded version's links between
    the pin and the open: then the link is gone and the open fails; pin again.
    """
    for _ in range(5):
        link, inode = _pinned(path)
        try:
            return connect(link, read_only=True), link, inode
        except duckdb.Error:
            if link.exists():
                raise
    raise RuntimeError(f"the serving snapshot {path} keeps changing; try again")


def open_snapshot(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the current snapshot (raises if there is none yet)."""
    target = Path(settings.serving_path)
    if not target.exists():
        raise FileNotFoundError(
            f"no serving snapshot at {target} yet: run the pipeline (`make demo`) first"
        )
    con, _, _ = _open_pinned(target)
    return con


class SnapshotReader:
    """A connection to the serving snapshot that follows atomic swaps.

    ``connection()`` returns a cursor on the open connection while the file behind
    the path is the same (same inode); after a swap it opens the new file. The old
    connection is dropped, not closed: a query still running on one of its cursors
    finishes on the old file, and the file is released with the last cursor.
    Thread-safe; for long-lived readers.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._inode: int | None = None
        self._link: Path | None = None

    def connection(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the current snapshot (reopened after a swap)."""
        with self._lock:
            if self._con is None or self.path.stat().st_ino != self._inode:
                previous = self._link
                self._con, self._link, self._inode = _open_pinned(self.path)
                if previous is not None and previous != self._link:
                    previous.unlink(missing_ok=True)  # open cursors keep the file alive
            return self._con.cursor()

    def close(self) -> None:
        """Close the open connection; the next :meth:`connection` opens it again."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
