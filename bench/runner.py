"""Run a stage's preparation or its benchmark in a fresh process, and catch its death."""

from __future__ import annotations

import importlib
import inspect
import json
import multiprocessing as mp
import queue
import resource
import sys
import time
import traceback
from typing import Any

from bench.common import BENCH_HOME, release_workers

RESULTS = BENCH_HOME / "results"
POSTGRES = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def _prepare(stage: str, scale: str) -> None:
    """Build (once, cached under .crmlens/bench/) what the stage's benchmark reads."""
    if stage == "ingest":
        from bench.common import ensure_synthetic

        ensure_synthetic(scale)
    elif stage == "transform":
        from bench.transform import ingested

        ingested(scale)
    elif stage == "scoring":
        from bench.scoring import staged

        staged(scale)
    elif stage == "forecast":
        from bench.forecast import marts

        marts(scale)
    elif stage == "publish":
        import psycopg

        try:
            psycopg.connect(POSTGRES, connect_timeout=5).close()
        except Exception as exc:
            raise Unavailable(f"PostgreSQL unreachable at 127.0.0.1:5432 ({exc})") from exc
    elif stage == "dashboards":
        module = importlib.import_module("bench.dashboards")
        if not callable(getattr(module, "main", None)):
            raise Unavailable("bench.dashboards has no main()")
        if callable(getattr(module, "ensure_home", None)):
            module.ensure_home(scale)


def _run(stage: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    module = importlib.import_module(f"bench.{stage}")
    accepted = inspect.signature(module.main).parameters
    payload = module.main(**{k: v for k, v in kwargs.items() if k in accepted})
    if not isinstance(payload, dict):  # an interface that only saves its JSON
        saved = [RESULTS / f"{stage}_{kwargs.get('scale')}.json", RESULTS / f"{stage}.json"]
        path = next((p for p in saved if p.exists()), None)
        if path is None:
            raise RuntimeError(f"bench.{stage}.main returned no payload and saved none")
        payload = json.loads(path.read_text())
    return payload


class Unavailable(Exception):
    """The stage cannot run here (a skip, not a failure)."""


def _child(kind: str, stage: str, scale: str, kwargs: dict, out: mp.Queue) -> None:
    started = time.perf_counter()
    payload, error, skipped = None, None, None
    try:
        if kind == "prepare":
            _prepare(stage, scale)
        else:
            # JSON round trip: what travels back is exactly what the report will hold.
            payload = json.loads(json.dumps(_run(stage, kwargs), default=str))
    except Unavailable as exc:
        skipped = str(exc)
    except Exception as exc:
        traceback.print_exc()
        error = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - started
    release_workers()
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    sys.stdout.flush()
    out.put(
        {
            "payload": payload,
            "error": error,
            "skipped": skipped,
            "seconds": seconds,
            "self_peak_mib": self_peak,
            "children_peak_mib": children_peak,
        }
    )


def in_process(kind: str, stage: str, scale: str, kwargs: dict | None = None) -> dict[str, Any]:
    """Run a preparation or a benchmark in a fresh process; its death becomes an error."""
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(kind, stage, scale, kwargs or {}, out))
    started = time.perf_counter()
    proc.start()
    result = None
    while result is None:
        try:
            result = out.get(timeout=2)
        except queue.Empty:
            if not proc.is_alive():
                try:
                    result = out.get(timeout=2)
                except queue.Empty:
                    result = {
                        "payload": None,
                        "error": f"the process died (exit code {proc.exitcode}; "
                        "killed for memory?)",
                        "skipped": None,
                        "seconds": time.perf_counter() - started,
                        "self_peak_mib": None,
                        "children_peak_mib": None,
                    }
    proc.join(timeout=60)
    if proc.is_alive():  # the result is in; do not wait on a process stuck at exit
        proc.terminate()
        proc.join()
    return result
