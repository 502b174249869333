"""Benchmark report: every stage at one scale, in one table (``make bench``).

For each stage (ingest, transform, scoring, publish, forecast, and the dashboards when
``bench/dashboards.py`` is present) the report runs that stage's own benchmark
(``bench.<stage>.main``) at the chosen scale, each in a fresh process, and condenses its
figures into one row:

- rows: how much the stage handled (events, leads, scores, series, pages);
- wall s: the measured step's own time (load/import time excluded, as each benchmark does);
- ours/s: crmlens throughput; baseline/s: the raw baseline's throughput, measured in the
  same run (raw DuckDB CTAS, raw LightGBM, raw COPY ...), and ratio = ours / baseline with
  the stage's goal;
- peak MiB: peak resident memory of the process that did the work;
- growth: the same stage run again at a smaller scale (default: the next smaller one),
  rows ratio and time ratio between the two, and the implied exponent
  n = log(time ratio) / log(rows ratio): about 1 is linear, below 1 means fixed costs
  still dominate, above 1 means super-linear cost.

A stage that fails or cannot run (PostgreSQL unreachable, no dashboards module) does not
stop the report: its row carries the error or the reason. The report is written to
``.crmlens/bench/results/report.json`` (every figure plus each benchmark's full payload)
and ``report.md`` (the table and notes: machine, date, scale, parameters, skipped stages).

    python -m bench --scale medium                      # growth from small
    python -m bench --scale small --stages ingest,scoring --no-growth
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import multiprocessing as mp
import os
import platform
import queue
import resource
import subprocess
import sys
import time
import traceback
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import BENCH_HOME, release_workers

RESULTS = BENCH_HOME / "results"
SCALE_ORDER = ("tiny", "small", "medium", "large")
STAGES = ("ingest", "transform", "scoring", "publish", "forecast", "dashboards")
POSTGRES = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"

# Each stage's own size parameters, by scale (the CRM itself grows about 10x per scale).
SCORE_ROWS = {"tiny": 10_000, "small": 100_000, "medium": 1_000_000, "large": 1_000_000}
SERIES = {"tiny": 50, "small": 200, "medium": 1_000, "large": 1_000}
SEQUENTIAL = {"tiny": 20, "small": 50, "medium": 100, "large": 100}
WARM_RUNS = {"tiny": 3, "small": 3, "medium": 5, "large": 5}
# The smallest CRM a stage can run on: the tiny CRM has too little history to train the
# lead model, so scoring at tiny scores tiny's row count with the small CRM's model.
MIN_SCALE = {"scoring": "small"}

# What each row means; repeated in the report's notes.
DEFINITIONS = {
    "ingest": "events of the scale's synthetic CRM; ours = `ingest_table` with contract, "
    "reference checks, quarantine and reconciliation; baseline = raw `CREATE TABLE AS "
    "SELECT * FROM read_parquet` of the same files; peak = the ingest process.",
    "transform": "full `dbt build` (every model and test) over the scale's events, dbt's "
    "start-up (a dbt process doing nothing, in 'also') included in wall s; no raw baseline: the ratio is one new day "
    "processed incrementally (`tag:daily`) over the full build (wall); growth uses dbt's "
    "own elapsed time of the full build (start-up excluded); peak = the largest dbt process.",
    "scoring": "lead rows (the training rows resampled; at tiny, with the small CRM's "
    "model: tiny has too little history to train one); ours = crmlens `score` (prediction, "
    "calibration, contributions, reasons in words, grade, band, next action); baseline = raw "
    "LightGBM `predict` + `predict(pred_contrib=True)` on the prepared matrix; peak = the "
    "scoring process.",
    "publish": "lead scores; ours = full `sync` to an empty PostgreSQL table (hashing, diff "
    "state, COPY, sync log, one transaction); baseline = DuckDB CSV export + raw `COPY` into "
    "an equivalent table; peak = the benchmark process (DuckDB side; the PostgreSQL server "
    "not counted).",
    "forecast": "series (the marts' distinct series replicated with noise; tiny has one "
    "year of history, small and up two, so growth from tiny mixes count and length); ours = "
    "backtest-and-select with the worker processes; baseline = the same in one process on a "
    "subset (not a raw baseline: the ratio is the parallel speed-up); peak = the larger of "
    "the two measured processes (loky worker processes not included).",
    "dashboards": "pages rendered with Streamlit's AppTest on a home where every job ran on "
    "the scale's CRM; wall s = median over pages of the median warm render (goal < 1 s); "
    "no raw baseline; growth uses the CRM's rows (all tables but events) vs that median; "
    "peak = the largest page process.",
}


# Failures the benchmarks are known to hit, and what they mean.
KNOWN_FAILURES = {
    "scoring": {
        "'NoneType' object has no attribute 'layout'": "no lead model was trained: too little "
        "history at this scale for the training minimum, only the rule-based score; "
        "use small or larger",
    },
}

# --------------------------------------------------------------------------- parameters


def smaller(scale: str) -> str | None:
    i = SCALE_ORDER.index(scale)
    return SCALE_ORDER[i - 1] if i else None


def stage_params(stage: str, scale: str, jobs: int) -> dict[str, Any]:
    """The keyword arguments of ``bench.<stage>.main`` at a scale."""
    crm = max(scale, MIN_SCALE.get(stage, "tiny"), key=SCALE_ORDER.index)
    return {
        "ingest": {"scale": scale},
        "transform": {"scale": scale},
        "scoring": {"scale": crm, "rows": SCORE_ROWS[scale]},
        "publish": {"rows": SCORE_ROWS[scale]},
        "forecast": {
            "scale": scale,
            "series": SERIES[scale],
            "jobs": jobs,
            "sequential": SEQUENTIAL[scale],
        },
        "dashboards": {"scale": scale, "warm_runs": WARM_RUNS[scale]},
    }[stage]


# ------------------------------------------------------------- running, in fresh processes


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


# ------------------------------------------------------------------------- condensing


def _crm_rows(scale: str) -> int | None:
    """Rows of the scale's synthetic CRM, all tables but events (ground_truth.json)."""
    path = BENCH_HOME / scale / "ground_truth.json"
    try:
        counts = json.loads(path.read_text())["counts"]
    except (OSError, KeyError, ValueError):
        return None
    return sum(int(v) for k, v in counts.items() if k != "events") or None


def _figures(stage: str, p: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """The row's figures from a benchmark's payload (keys as each bench/<stage>.py saves)."""
    if stage == "ingest":
        ours, base = p["ours"], p["baseline"]
        extra = ours.get("extra") or {}
        return {
            "unit": "events",
            "rows": ours["rows"],
            "seconds": ours["seconds"],
            "throughput": ours["rows_per_second"],
            "baseline": "raw CTAS read_parquet",
            "baseline_rows": base["rows"],
            "baseline_seconds": base["seconds"],
            "baseline_throughput": base["rows_per_second"],
            "ratio": p["ratio"],
            "goal": ">= 0.67",
            "peak_mib": ours["peak_rss_mib"],
            "also": f"{extra.get('quarantined', 0):,} quarantined; "
            f"reconciled: {extra.get('reconciled')}",
        }
    if stage == "transform":
        return {
            "unit": "events",
            "rows": p["events"],
            "seconds": p["full_build_s"],
            "throughput": p["events"] / p["full_build_s"],
            "baseline": None,
            "ratio": p["ratio"],
            "ratio_label": "incremental day / full build",
            "goal": "<= 0.10",
            "peak_mib": run.get("children_peak_mib"),
            "growth_seconds": p["full_build_work_s"],
            "also": f"incremental day {p['incremental_day_s']:.1f} s "
            f"({p['new_day_events']:,} events); daily job {p['daily_job_dbt_s']:.1f} s; "
            f"dbt start-up {p['dbt_startup_s']:.1f} s; work ratio {p['work_ratio']:.2f}",
        }
    if stage == "scoring":
        predict, contrib, ours = p["runs"]
        raw_s = predict["seconds"] + contrib["seconds"]
        info = p["prepare"].get("extra") or {}
        return {
            "unit": "leads",
            "rows": ours["rows"],
            "seconds": ours["seconds"],
            "throughput": ours["rows_per_second"],
            "baseline": "raw LightGBM predict + pred_contrib",
            "baseline_rows": predict["rows"],
            "baseline_seconds": raw_s,
            "baseline_throughput": predict["rows"] / raw_s if raw_s else None,
            "ratio": p["ratio"],
            "goal": ">= 0.5",
            "peak_mib": ours["peak_rss_mib"],
            "also": f"training set {info.get('feature_build_s', 0):.1f} s + training "
            f"{info.get('train_s', 0):.1f} s on {info.get('training_rows', 0):,} snapshots "
            f"(peak {p['prepare']['peak_rss_mib']:,.0f} MiB)",
        }
    if stage == "publish":
        rows = p["rows"]
        return {
            "unit": "scores",
            "rows": rows,
            "seconds": p["full_publish_s"],
            "throughput": rows / p["full_publish_s"],
            "baseline": "CSV export + raw COPY",
            "baseline_rows": rows,
            "baseline_seconds": p["raw_copy_s"],
            "baseline_throughput": rows / p["raw_copy_s"],
            "ratio": p["ratio"],
            "goal": ">= 0.5",
            "peak_mib": run.get("self_peak_mib"),
            "also": f"1 % re-publish {p['republish_1pct_s']:.2f} s = "
            f"{p['republish_share']:.1%} of the full publish (goal < 5 %)",
        }
    if stage == "forecast":
        par, one = p["parallel"], p["single_process"]
        quality = (p.get("quality") or {}).get("all") or {}
        also = (
            f"{p['distinct_series']} distinct series; {p['ms_per_series_parallel']:.0f} ms/series "
            f"with {p['jobs']} processes, {p['ms_per_series_single']:.0f} in one"
        )
        if quality:
            also += (
                f"; holdout median MASE {quality['median_mase_chosen']:.2f} vs s-naive "
                f"{quality['median_mase_seasonal_naive']:.2f}"
            )
        return {
            "unit": "series",
            "rows": par["rows"],
            "seconds": par["seconds"],
            "throughput": par["rows"] / par["seconds"],
            "baseline": "the same, 1 process",
            "baseline_rows": one["rows"],
            "baseline_seconds": one["seconds"],
            "baseline_throughput": one["rows"] / one["seconds"],
            "ratio": p["speedup"],
            "ratio_label": "parallel speed-up",
            "goal": f"ideal {p['jobs']}",
            "peak_mib": max(par["peak_rss_mib"], one["peak_rss_mib"]),
            "also": also,
        }
    if stage == "dashboards":
        pages = p["pages"]
        problems = sum(1 for r in pages.values() if r.get("problems"))
        warm = p["median_warm_s"]
        return {
            "unit": "pages",
            "rows": len(pages),
            "seconds": warm,
            "throughput": 1 / warm if warm else None,
            "baseline": None,
            "ratio": None,
            "goal": "median warm < 1 s",
            "peak_mib": max((r["peak_rss_mib"] for r in pages.values()), default=None),
            "growth_rows": _crm_rows(p.get("scale") or run["scale"]),
            "also": f"median cold render {p['median_cold_s']:.2f} s; slowest warm page "
            f"{max(pages, key=lambda k: pages[k]['warm_median_s'])}; "
            f"{problems} page(s) showed problems",
        }
    raise ValueError(f"unknown stage {stage!r}")


def condense(stage: str, scale: str, params: dict, run: dict[str, Any]) -> dict[str, Any]:
    """One row of the report from a stage's run (payload, or error, or skip reason)."""
    row: dict[str, Any] = {
        "stage": stage,
        "scale": scale,
        "params": params,
        "stage_seconds": run.get("seconds"),
        "prepare_seconds": run.get("prepare_seconds"),
    }
    if run.get("skipped"):
        return row | {"status": "skipped", "reason": run["skipped"]}
    if run.get("error"):
        error = run["error"]
        for known, hint in KNOWN_FAILURES.get(stage, {}).items():
            if known in error:
                error += f" ({hint})"
        return row | {"status": "error", "error": error}
    try:
        figures = _figures(stage, run["payload"], run | {"scale": scale})
    except Exception as exc:  # a payload whose shape changed
        return row | {
            "status": "error",
            "error": f"unreadable payload: {type(exc).__name__}: {exc}",
        }
    figures.setdefault("growth_rows", figures["rows"])
    figures.setdefault("growth_seconds", figures["seconds"])
    return row | {"status": "ok"} | figures


def _exponent(rows_ratio: float, time_ratio: float) -> float | None:
    if rows_ratio <= 1.0001 or time_ratio <= 0:
        return None
    return math.log(time_ratio) / math.log(rows_ratio)


def growth(big: dict[str, Any], small: dict[str, Any] | None) -> dict[str, Any] | None:
    """Rows ratio, time ratio and exponent of the same stage between two scales."""
    if not small or big.get("status") != "ok" or small.get("status") != "ok":
        return None
    if not (big.get("growth_rows") and small.get("growth_rows") and small.get("growth_seconds")):
        return None
    rows_ratio = big["growth_rows"] / small["growth_rows"]
    time_ratio = big["growth_seconds"] / small["growth_seconds"]
    out = {
        "from_scale": small["scale"],
        "rows": [small["growth_rows"], big["growth_rows"]],
        "seconds": [small["growth_seconds"], big["growth_seconds"]],
        "rows_ratio": rows_ratio,
        "time_ratio": time_ratio,
        "exponent": _exponent(rows_ratio, time_ratio),
    }
    if big.get("baseline_seconds") and small.get("baseline_seconds"):
        b_rows = big["baseline_rows"] / small["baseline_rows"]
        b_time = big["baseline_seconds"] / small["baseline_seconds"]
        out |= {
            "baseline_rows_ratio": b_rows,
            "baseline_time_ratio": b_time,
            "baseline_exponent": _exponent(b_rows, b_time),
        }
    return out


# --------------------------------------------------------------------------- rendering


def _num(x: float | None, unit: str = "") -> str:
    if x is None:
        return "—"
    text = f"{x:,.0f}" if abs(x) >= 100 else f"{x:.2f}" if abs(x) >= 1 else f"{x:.3f}"
    return f"{text} {unit}".rstrip()


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _growth_cell(g: dict[str, Any] | None) -> str:
    if not g:
        return "—"
    n = g["exponent"]
    text = f"{g['rows_ratio']:.1f}× rows → {g['time_ratio']:.1f}× time"
    text += f" (n = {n:.2f})" if n is not None else ""
    if g.get("baseline_exponent") is not None:
        text += f"; raw n = {g['baseline_exponent']:.2f}"
    return text


def table(rows: list[dict[str, Any]], growth_scale: str | None) -> str:
    grow = f"growth {growth_scale} → scale" if growth_scale else "growth"
    header = (
        "stage",
        "rows",
        "wall s",
        "ours /s",
        "raw baseline /s",
        "ratio (goal)",
        "peak MiB",
        grow,
        "also",
    )
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        if r["status"] != "ok":
            what = r.get("reason") or r.get("error") or ""
            cells = [r["stage"], f"**{r['status']}**: {what[:300]}", *[""] * (len(header) - 2)]
        else:
            baseline = (
                f"{_num(r['baseline_throughput'])} ({r['baseline']})" if r.get("baseline") else "—"
            )
            ratio = "" if r.get("ratio") is None else f"{r['ratio']:.2f}"
            if r.get("ratio_label"):
                ratio += f" ({r['ratio_label']})"
            rows_text = f"{r['rows']:,} {r['unit']}"
            if r["stage"] == "dashboards" and r.get("growth_rows"):
                rows_text += f" ({r['growth_rows']:,} CRM rows)"
            cells = [
                r["stage"],
                rows_text,
                _num(r["seconds"]),
                _num(r["throughput"]),
                baseline,
                "; ".join(x for x in (ratio, r.get("goal") and f"goal {r['goal']}") if x) or "—",
                _num(r.get("peak_mib")),
                _growth_cell(r.get("growth")),
                r.get("also", ""),
            ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    scale, growth_scale = report["scale"], report["growth_scale"]
    title = f"# crmlens benchmarks — {scale} scale"
    title += f" (growth from {growth_scale})" if growth_scale else ""
    parts = [
        title,
        "",
        f"{report['created']}; {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']:.0f} GiB; "
        f"load average {m['load_start']} at the start, {m.get('load_end', '?')} at the end; "
        f"Python {m['python']}; commit {m['commit']}. Whole report: "
        f"{report.get('total_seconds', 0):.0f} s.",
        "",
        table(report["stages"], growth_scale),
        "",
        "## Notes",
        "",
        "- Figures from one run on a shared machine: expect noise of tens of per cent, more "
        "on the small figures. Nothing here asserts on time.",
        "- wall s is the measured step's own time; ours /s is rows / wall s; ratio is ours "
        "over the raw baseline measured in the same run unless labelled otherwise.",
        "- growth: the same stage at the smaller scale; n = log(time ratio) / log(rows ratio) "
        "(≈ 1 linear, < 1 fixed costs still dominate, > 1 super-linear); raw n is the same "
        "for the raw baseline.",
    ]
    skipped = [r for r in report["stages"] if r["status"] == "skipped"]
    failed = [r for r in report["stages"] if r["status"] == "error"]
    if report.get("not_selected"):
        parts.append(f"- Not selected (--stages): {', '.join(report['not_selected'])}.")
    for r in skipped:
        parts.append(f"- Skipped **{r['stage']}**: {r['reason']}")
    for r in failed:
        parts.append(f"- Failed **{r['stage']}**: {_cell(r['error'])[:500]}")
    for r in report.get("growth_runs", []):
        if r["status"] != "ok":
            what = r.get("reason") or r.get("error")
            parts.append(
                f"- {r['stage']} at {r['scale']} (growth run) {r['status']}: {_cell(what)[:300]}"
            )
    parts += ["", "### What each row measures", ""]
    for r in report["stages"]:
        parts.append(f"- **{r['stage']}**: {DEFINITIONS[r['stage']]}")
    parts += ["", "### Parameters", ""]
    for r in [*report["stages"], *report.get("growth_runs", [])]:
        params = ", ".join(
            f"{k}={v:_}" if isinstance(v, int) else f"{k}={v!r}" for k, v in r["params"].items()
        )
        timing = (
            [f"the whole benchmark {r['stage_seconds']:.0f} s"] if r.get("stage_seconds") else []
        )
        if (r.get("prepare_seconds") or 0) >= 1:
            timing.append(
                f"preparation process {r['prepare_seconds']:.0f} s (builds the cached inputs "
                "on a first run, else imports only; not in the figures)"
            )
        parts.append(
            f"- {r['stage']} at {r['scale']}: `bench.{r['stage']}.main({params})`"
            + (f"; {', '.join(timing)}" if timing else "")
        )

    def by_scale(sizes: dict[str, int]) -> str:
        return ", ".join(f"{k} {v:,}" for k, v in sizes.items())

    parts.append(
        f"- Sizes by scale: scoring and publish rows: {by_scale(SCORE_ROWS)}; forecast series: "
        f"{by_scale(SERIES)} (one-process subset: {by_scale(SEQUENTIAL)}); dashboard warm "
        f"renders per page: {by_scale(WARM_RUNS)}. The CRM itself grows about 10× per scale."
    )
    return "\n".join(parts) + "\n"


def write(report: dict[str, Any]) -> tuple[Path, Path]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    json_path, md_path = RESULTS / "report.json", RESULTS / "report.md"
    json_path.write_text(json.dumps(report, indent=2, default=str))
    md_path.write_text(markdown(report))
    return json_path, md_path


# ------------------------------------------------------------------------------ driver


def machine() -> dict[str, Any]:
    cpu_model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        memory = 0.0
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], capture_output=True, text=True
        ).stdout.strip()
        commit += " (with uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "commit": commit,
        "load_start": _load(),
    }


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def run_stage(stage: str, scale: str, jobs: int) -> dict[str, Any]:
    """Prepare, then run, one stage at one scale; always returns a row."""
    params = stage_params(stage, scale, jobs)
    print(f"\n===== {stage} at {scale}: {params} =====", flush=True)
    prep = in_process("prepare", stage, scale)
    if prep["skipped"] or prep["error"]:
        run = prep | {"seconds": None, "prepare_seconds": prep["seconds"]}
        if prep["error"]:
            run["error"] = f"preparation failed: {prep['error']}"
    else:
        run = in_process("run", stage, scale, params) | {"prepare_seconds": prep["seconds"]}
    row = condense(stage, scale, params, run)
    row["payload"] = run.get("payload")
    return row


def build(scale: str, stages: list[str], growth_scale: str | None, jobs: int) -> dict[str, Any]:
    started = time.perf_counter()
    report: dict[str, Any] = {
        "scale": scale,
        "growth_scale": growth_scale,
        "created": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "not_selected": [s for s in STAGES if s not in stages],
        "stages": [],
        "growth_runs": [],
    }
    for stage in stages:
        small = run_stage(stage, growth_scale, jobs) if growth_scale else None
        if small and small["status"] == "skipped":  # same reason at both scales
            row = condense(
                stage, scale, stage_params(stage, scale, jobs), {"skipped": small["reason"]}
            )
        else:
            row = run_stage(stage, scale, jobs)
        row["growth"] = growth(row, small)
        report["stages"].append(row)
        if small:
            report["growth_runs"].append(small)
        report["total_seconds"] = time.perf_counter() - started
        write(report)  # a partial report survives an interrupted run
    report["machine"]["load_end"] = _load()
    report["total_seconds"] = time.perf_counter() - started
    write(report)
    return report
