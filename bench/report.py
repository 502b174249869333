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

import json
import os
import platform
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import SCALE_ORDER
from bench.figures import DEFINITIONS, condense, growth
from bench.runner import RESULTS, in_process

STAGES = ("ingest", "transform", "scoring", "publish", "forecast", "dashboards")

# Each stage's own size parameters, by scale (the CRM itself grows about 10x per scale).
SCORE_ROWS = {"tiny": 10_000, "small": 100_000, "medium": 1_000_000, "large": 1_000_000}
SERIES = {"tiny": 50, "small": 200, "medium": 1_000, "large": 1_000}
SEQUENTIAL = {"tiny": 20, "small": 50, "medium": 100, "large": 100}
WARM_RUNS = {"tiny": 3, "small": 3, "medium": 5, "large": 5}
# The smallest CRM a stage can run on: the tiny CRM has too little history to train the
# lead model, so scoring at tiny scores tiny's row count with the small CRM's model.
MIN_SCALE = {"scoring": "small"}

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
