"""Measuring helpers shared by the benchmarks.

Each measured step runs in a fresh process (multiprocessing "spawn") so that its
peak resident memory is its own, not the maximum of everything measured before
it in the same interpreter.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BENCH_HOME = Path(".crmlens") / "bench"
# The synthetic CRM's scales, smallest first.
SCALE_ORDER = ("tiny", "small", "medium", "large")


@dataclass
class Measurement:
    name: str
    seconds: float
    peak_rss_mib: float
    rows: int = 0
    extra: dict[str, Any] | None = None

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _child(fn: Callable[..., Any], args: tuple, queue: mp.Queue) -> None:
    started = time.perf_counter()
    try:
        out = fn(*args)
        error = None
    except Exception as exc:  # reported to the parent, which re-raises
        out, error = None, f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    queue.put((seconds, peak, out, error))
    release_workers()


def release_workers() -> None:
    """Stop joblib's reusable loky workers, if this process started any.

    A spawned child joins its live child processes before it exits, and idle loky
    workers only leave after their 300 s idle timeout: without this, a measured step
    whose work used joblib (the forecast's parallel backtests) hangs 5 minutes at exit.
    """
    loky = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(loky, "_executor", None)
    if executor is not None:
        with contextlib.suppress(Exception):
            executor.shutdown(wait=True, kill_workers=True)


def measure(name: str, fn: Callable[..., Any], *args: Any) -> Measurement:
    """Run ``fn(*args)`` in a fresh process; it returns rows (int) or (rows, extra dict)."""
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    seconds, peak, out, error = queue.get()
    proc.join()
    if error:
        raise RuntimeError(f"{name}: {error}")
    rows, extra = out if isinstance(out, tuple) else (out, None)
    return Measurement(name, seconds, peak, rows or 0, extra)


def ensure_synthetic(scale: str, seed: int = 42) -> Path:
    """The synthetic CRM of a scale under .crmlens/bench/<scale>, generated once."""
    from crmlens.sources import write_synthetic_spec
    from crmlens.synthetic import generate

    out = BENCH_HOME / scale
    truth = out / "ground_truth.json"
    if truth.exists() and json.loads(truth.read_text()).get("seed") == seed:
        return out
    print(f"generating the {scale} synthetic CRM into {out} (once) ...", flush=True)
    started = time.perf_counter()
    generate(out, scale=scale, seed=seed)
    write_synthetic_spec(out)
    print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)
    return out


def report(title: str, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    """A Markdown table, printed and returned."""
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def save(name: str, payload: dict[str, Any]) -> Path:
    path = BENCH_HOME / "results" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path


def as_dict(m: Measurement) -> dict[str, Any]:
    return asdict(m) | {"rows_per_second": m.rows_per_second}


def stage_parser(doc: str | None) -> argparse.ArgumentParser:
    """The command line of one stage's benchmark (``python -m bench.<stage>``).

    Args:
        doc: the stage module's docstring; its first line describes the command.

    Returns:
        A parser with ``--scale`` (medium by default); the stage adds its own options.
    """
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--scale", default="medium", choices=SCALE_ORDER)
    return parser
