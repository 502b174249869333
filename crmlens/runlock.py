"""One writer at a time: the run lock of a warehouse.

DuckDB lets one process write a database file, and a second writer gets a lock error
deep inside whatever it was doing (a 37-line traceback). crmlens takes a lock of its
own first: ``<warehouse>.lock`` beside the warehouse, held with ``flock`` for the whole
run, with a line of JSON saying who holds it (what, which Dagster run, since when, pid).
A second run is refused at once, in one line that names the holder. The kernel releases
the lock when the holder's process ends, even by ``kill -9``, so a crash never leaves a
stale lock; the JSON it leaves behind names a dead pid and is ignored.

The lock is re-entrant within a process: ``crmlens run`` holds it across its jobs, and
each job (:func:`pipelines.run.run_job`) takes it again and notes its run id.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO


class WarehouseBusy(RuntimeError):
    """Another run holds the warehouse; the message is one line naming it."""


_held: dict[str, list] = {}  # lock file -> [open file, depth]
_guard = threading.Lock()


def lock_path(warehouse: str | Path) -> Path:
    """The lock file of a warehouse: ``<warehouse>.lock`` beside it."""
    warehouse = Path(warehouse)
    return warehouse.with_name(warehouse.name + ".lock")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def holder(warehouse: str | Path) -> dict | None:
    """Who holds the warehouse now, as its lock file says; ``None`` if nobody alive does.

    Reads only: never takes the lock, so it cannot get in a starting run's way.

    Args:
        warehouse: the warehouse file.

    Returns:
        ``what``, ``pid``, ``since`` and, once a job started, ``run_id`` and ``job``.
    """
    try:
        text = lock_path(warehouse).read_text().strip()
        info = json.loads(text) if text else None
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or not pid_alive(int(info.get("pid", 0) or 0)):
        return None
    return info


def describe(info: dict) -> str:
    """The holder in words: what, its Dagster run and job, since when, its pid."""
    run = f", Dagster run {info['run_id'][:8]} of job {info['job']}" if info.get("run_id") else ""
    return f"{info.get('what', 'a crmlens run')}{run}, since {info.get('since')} UTC, pid {info.get('pid')}"


def busy_message(warehouse: str | Path, info: dict | None, other: str = "another process") -> str:
    """The one line a refused writer prints.

    Args:
        warehouse: the warehouse file.
        info: its holder (:func:`holder`), if a crmlens run holds it.
        other: who holds it otherwise (DuckDB names the process).

    Returns:
        The line.
    """
    who = describe(info) if info else other
    return (
        f"the warehouse {warehouse} is in use by {who}; wait for it to finish (or stop it), "
        "then run again — `crmlens status` works meanwhile"
    )


@contextlib.contextmanager
def run_lock(warehouse: str | Path, what: str) -> Iterator[None]:
    """Hold the warehouse's run lock for a block (re-entrant within this process).

    Args:
        warehouse: the warehouse file.
        what: what holds it, for the message a refused writer prints
            (``crmlens run --job daily``).

    Yields:
        Nothing; the lock is held inside the block.

    Raises:
        WarehouseBusy: another process holds it.
    """
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = str(path.resolve())
    with _guard:
        if key in _held:
            _held[key][1] += 1
            owned = None
        else:
            owned = _acquire(path, warehouse, what)
            _held[key] = [owned, 1]
    try:
        yield
    finally:
        with _guard:
            _held[key][1] -= 1
            if _held[key][1] == 0:
                handle = _held.pop(key)[0]
                handle.truncate(0)  # nobody holds it: no holder to name
                handle.close()  # closing releases the flock


def _acquire(path: Path, warehouse: str | Path, what: str) -> IO[str]:
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise WarehouseBusy(busy_message(warehouse, holder(warehouse))) from None
    since = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
    _write(handle, {"what": what, "pid": os.getpid(), "since": since})
    return handle


def _write(handle: IO[str], info: dict) -> None:
    handle.seek(0)
    handle.truncate(0)
    handle.write(json.dumps(info) + "\n")
    handle.flush()


def note_run(warehouse: str | Path, run_id: str, job: str) -> None:
    """Record the Dagster run now writing, in the lock this process holds.

    Args:
        warehouse: the warehouse file.
        run_id: the Dagster run id.
        job: the job's name.
    """
    key = str(lock_path(warehouse).resolve())
    with _guard:
        if key not in _held:
            return
        handle = _held[key][0]
        handle.seek(0)
        try:
            info = json.loads(handle.read() or "{}")
        except ValueError:
            info = {}
        _write(handle, info | {"run_id": run_id, "job": job})


def temp_name(prefix: str, suffix: str) -> str:
    """A temporary file name that says which process writes it: ``<prefix>.<pid>.<n><suffix>``.

    Args:
        prefix: e.g. ``.current.duckdb``.
        suffix: e.g. ``.tmp``.

    Returns:
        The name, unique in this process.
    """
    return f"{prefix}.{os.getpid()}.{time.monotonic_ns()}{suffix}"


def remove_orphans(folder: str | Path, prefix: str) -> list[Path]:
    """Delete the temporary files (:func:`temp_name`) that a process which no longer exists
    left behind (killed mid-write); those of live processes are theirs.

    Args:
        folder: where to look.
        prefix: the prefix the names were made with.

    Returns:
        The files removed.
    """
    removed = []
    for path in Path(folder).glob(f"{glob.escape(prefix)}.*"):
        pid = path.name[len(prefix) + 1 :].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
