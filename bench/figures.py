"""One row of the report from a stage's payload: figures beside the goal, and growth."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from bench.common import BENCH_HOME

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


def _crm_rows(scale: str) -> int | None:
    """Rows of the scale's synthetic CRM, all tables but events (ground_truth.json)."""
    path = BENCH_HOME / scale / "ground_truth.json"
    try:
        counts = json.loads(path.read_text())["counts"]
    except (OSError, KeyError, ValueError):
        return None
    return sum(int(v) for k, v in counts.items() if k != "events") or None


# The figures of each stage, from the payload its bench/<stage>.py returns.


def _ingest(p: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
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


def _transform(p: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
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


def _scoring(p: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
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


def _publish(p: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
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


def _forecast(p: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
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


def _dashboards(p: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
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


FIGURES: dict[str, Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]] = {
    "ingest": _ingest,
    "transform": _transform,
    "scoring": _scoring,
    "publish": _publish,
    "forecast": _forecast,
    "dashboards": _dashboards,
}


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
        figures = FIGURES[stage](run["payload"], run | {"scale": scale})
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
