"""Forecast benchmark: backtest-and-select for 1,000 series, and how good the choice is.

Speed. The series are every metric × grain × segment of the scale's marts (bookings,
new pipeline and MRR; monthly and weekly; total, region, team, product line), replicated
with seeded multiplicative noise (lognormal, σ = 5 %) up to N series: a medium CRM has a
few dozen distinct series, not a thousand. Each series is backtested with every method
(naive, seasonal naive, three ETS, SARIMAX, Theta; monthly: 9 months ahead from 12
origins; weekly: 13 weeks ahead from 12 origins 4 weeks apart), one method is chosen and
refit, and the seasonal-naive baseline is forecast: exactly what a publication does per
series. Measured twice, each in its own process: N series with ``--jobs`` worker
processes, and a subset in one process, for the parallel speed-up.

Quality (out of sample): on the distinct series, the choice is made without the last
origins (6 months, 26 weeks) and scored on them against seasonal naive, with the 80 % and
95 % coverage of the model and calibrated intervals (:func:`models.forecasting.evaluate.holdout`);
and the US retail series under its README's protocol (one step ahead over the last 24
months). Pass ``--quality-warehouse`` to score another warehouse (e.g. a copy of the demo's).

    python -m bench.forecast --scale medium --series 1000 --jobs 2
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from bench.common import BENCH_HOME, Measurement, as_dict, measure, report, save, stage_parser
from bench.scoring import staged
from bench.transform import dbt

# Imported here: a spawned child imports this module before its timer starts.
from crmlens.clock import data_today
from crmlens.settings import get_settings
from crmlens.warehouse import connect
from models.forecasting import assemble, batch, evaluate, methods
from models.forecasting.series import build_series, iter_series, load_retail

SEED = 42
MARTS = (
    "+fct_opportunities +fct_revenue_monthly +fct_mrr_monthly +fct_mrr_movements "
    "+dim_users +dim_accounts"
)


def marts(scale: str) -> Path:
    """The scale's staged warehouse with the marts the forecasts read, built once."""
    path = BENCH_HOME / f"{scale}_forecast_marts.duckdb"
    if path.exists():
        return path
    print(f"building the {scale} marts the forecasts read into {path} (once) ...", flush=True)
    tmp = path.with_suffix(".partial")
    shutil.copy(staged(scale), tmp)
    seconds, _ = dbt(tmp, tmp.parent / "forecast_target", "run", "--select", *MARTS.split())
    print(f"  dbt run in {seconds:.0f} s", flush=True)
    tmp.rename(path)
    return path


def distinct_series(warehouse: Path) -> tuple[list[tuple], datetime]:
    con = connect(warehouse, read_only=True)
    today = data_today(con)
    series = build_series(con, today)
    con.close()
    return [(k, p, v) for k, p, v in iter_series(series) if len(v)], today


def replicate(items: list[tuple], n: int, seed: int = SEED) -> list[tuple]:
    """The distinct series, then noisy copies of them in turn, up to ``n``."""
    rng = np.random.default_rng(seed)
    out = list(items[:n])
    i = 0
    while len(out) < n:
        key, periods, values = items[i % len(items)]
        noise = rng.lognormal(0.0, 0.05, len(values))
        copy = key._replace(segment=f"{key.segment}#{len(out)}")
        out.append((copy, periods, values * noise))
        i += 1
    return out


def run_batch(items: list[tuple], n_jobs: int) -> tuple[int, dict]:
    started = time.perf_counter()
    results = batch.run_many(items, n_jobs=n_jobs, seed=0)
    seconds = time.perf_counter() - started
    fits = sum(
        r.selection.records.select("method", "origin").unique().height + 2 for r in results
    )  # backtest fits + the refit of the chosen method + the baseline
    summary = assemble.summarize(results)
    grains = dict(pl.Series([r.key.grain for r in results]).value_counts().iter_rows())
    return len(results), {
        "timed_s": seconds,
        "fits": fits,
        "grains": grains,
        "summary": {k: v for k, v in summary.items() if k != "pipeline"},
    }


def run_publication(warehouse: str, n_jobs: int) -> tuple[int, dict]:
    """A whole publication on the distinct series (series, selection, reconciliation, pipeline)."""
    con = connect(warehouse, read_only=True)
    today = data_today(con)
    started = time.perf_counter()
    pub = assemble.run(con, today, run_id="bench", n_jobs=n_jobs)
    seconds = time.perf_counter() - started
    con.close()
    return len(pub.results), {
        "timed_s": seconds,
        "forecast_rows": pub.forecast.height,
        "open_deals": pub.pipeline_info.get("open_deals", 0),
        "probability_sources": pub.pipeline_info.get("probability_sources", {}),
        "blend_weights": pub.pipeline_info.get("weights", {}),
    }


def _holdout(label: str, values: np.ndarray, grain: str) -> tuple[str, dict]:
    with methods.single_threaded():
        return label, evaluate.holdout(values, grain, holdout=6 if grain == "month" else 26)


def quality(warehouse: Path, n_jobs: int) -> dict:
    """Out-of-sample: chosen method vs seasonal naive on held-out origins, per distinct series."""
    from joblib import Parallel, delayed

    items, _ = distinct_series(warehouse)
    done = Parallel(n_jobs=n_jobs)(delayed(_holdout)(k.label(), v, k.grain) for k, _, v in items)
    table = evaluate.table(dict(done))
    weight = pl.col("forecasts")

    def pooled(column: str) -> pl.Expr:
        return (pl.col(column) * weight).sum() / weight.sum()

    def figures(part: pl.DataFrame) -> dict:
        row = part.select(
            series=pl.len(),
            median_mase_chosen=pl.col("mase_chosen").median(),
            median_mase_seasonal_naive=pl.col("mase_seasonal_naive").median(),
            share_beating_seasonal_naive=(
                pl.col("mase_chosen") < pl.col("mase_seasonal_naive")
            ).mean(),
            coverage80_model=pooled("coverage80_model"),
            coverage80_calibrated=pooled("coverage80_calibrated"),
            coverage95_model=pooled("coverage95_model"),
            coverage95_calibrated=pooled("coverage95_calibrated"),
            coverage80_seasonal_naive=pooled("coverage80_seasonal_naive"),
            coverage95_seasonal_naive=pooled("coverage95_seasonal_naive"),
        )
        return row.row(0, named=True)

    grain = pl.col("series").str.split("/").list.get(1)
    out = {"all": figures(table)}
    for g in ("month", "week"):
        part = table.filter(grain == g)
        if part.height:
            out[g] = figures(part)
    total = table.filter(pl.col("series") == "bookings/month/total=all")
    if total.height:
        out["total_monthly_bookings"] = total.row(0, named=True)
    return out


def retail() -> dict | None:
    path = get_settings().real_data_dir / "us_retail_sales" / "example_retail_sales.csv"
    if not path.exists():
        print(f"(skipping retail: {path} is absent)")
        return None
    series = load_retail(path)
    _, values = series.values(series.keys()[0])
    with methods.single_threaded():
        return evaluate.holdout(values, "month", holdout=24, h=1)


def _print_speed(
    scale: str,
    series: int,
    jobs: int,
    parallel: Measurement,
    single: Measurement,
    publication: Measurement,
) -> tuple[float, float, float]:
    """The timing table and the in-sample summary; returns ms figures and the speed-up."""
    for m in (parallel, single, publication):
        m.seconds = m.extra["timed_s"]
    per_series = parallel.seconds / parallel.rows
    per_series_one = single.seconds / single.rows
    report(
        f"forecast backtest-and-select ({scale}; monthly and weekly series; 7 methods)",
        [
            (
                m.name,
                f"{m.rows:,}",
                f"{m.seconds:.1f}",
                f"{1000 * m.seconds / m.rows:.0f}",
                f"{m.extra.get('fits', 0):,}",
                f"{m.peak_rss_mib:,.0f}",
            )
            for m in (parallel, single, publication)
        ],
        ("run", "series", "wall s", "wall ms/series", "fits", "peak MiB"),
    )
    speedup = per_series_one / per_series
    print(
        f"\nper series: {1000 * per_series:.0f} ms of wall time with {jobs} processes "
        f"({1000 * per_series * jobs:.0f} ms of worker time); {1000 * per_series_one:.0f} ms in "
        f"one process; speed-up {speedup:.2f}× on {jobs} processes. Fits per series: "
        f"{parallel.extra['fits'] / parallel.rows:.0f}."
    )
    s = parallel.extra["summary"]
    print(
        f"in-sample backtest of the {series:,}: median MASE chosen {s.get('median_mase_chosen', 0):.3f} "
        f"vs seasonal naive {s.get('median_mase_seasonal_naive', 0):.3f}; model-interval coverage "
        f"80 % {s.get('coverage80_chosen', 0):.3f}, 95 % {s.get('coverage95_chosen', 0):.3f}; "
        f"chosen: {s['chosen_methods']}"
    )
    return per_series, per_series_one, speedup


def _print_quality(warehouse: Path, jobs: int) -> dict:
    """Out-of-sample quality on a warehouse: chosen methods against seasonal naive."""
    started = time.perf_counter()
    q = quality(warehouse, jobs)
    q_seconds = time.perf_counter() - started
    rows = [
        (
            part,
            str(f["series"]),
            f"{f['median_mase_chosen']:.3f}",
            f"{f['median_mase_seasonal_naive']:.3f}",
            f"{f['share_beating_seasonal_naive']:.2f}",
            f"{f['coverage80_model']:.3f} / {f['coverage80_calibrated']:.3f}",
            f"{f['coverage95_model']:.3f} / {f['coverage95_calibrated']:.3f}",
        )
        for part, f in q.items()
        if part != "total_monthly_bookings"
    ]
    report(
        f"out of sample on {warehouse} ({q_seconds:.0f} s)",
        rows,
        (
            "series",
            "n",
            "median MASE chosen",
            "median MASE s-naive",
            "share better",
            "cov80 model / calibrated",
            "cov95 model / calibrated",
        ),
    )
    return q


def _print_retail() -> dict | None:
    """US retail sales, one step ahead over the last 24 months (the published protocol)."""
    r = retail()
    if r:
        print(
            f"\nUS retail sales, one step ahead over the last 24 months (chosen on the data before "
            f"them: {r['method']}, m={r['seasonal_period']}): sMAPE {r['chosen']['smape']:.2f} % vs "
            f"seasonal naive {r['seasonal_naive']['smape']:.2f} %; MASE {r['chosen']['mase']:.3f} vs "
            f"{r['seasonal_naive']['mase']:.3f}; coverage 80 % {r['chosen_calibrated']['coverage80']:.2f}, "
            f"95 % {r['chosen_calibrated']['coverage95']:.2f}"
        )
    return r


def main(
    scale: str = "medium",
    series: int = 1000,
    jobs: int = 2,
    sequential: int = 100,
    quality_warehouse: Path | None = None,
) -> dict:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    warehouse = marts(scale)
    items, today = distinct_series(warehouse)
    grid = replicate(items, series)
    print(
        f"{len(items)} distinct series in the {scale} marts (as of {today:%Y-%m-%d}); "
        f"{series:,} with replicas; {os.cpu_count()} CPUs",
        flush=True,
    )
    parallel = measure(f"backtest-and-select, {jobs} processes", run_batch, grid, jobs)
    subset = grid[: min(sequential, series)]
    single = measure("backtest-and-select, 1 process", run_batch, subset, 1)
    publication = measure(
        f"whole publication (distinct series + pipeline), {jobs} processes",
        run_publication,
        str(warehouse),
        jobs,
    )
    per_series, per_series_one, speedup = _print_speed(
        scale, series, jobs, parallel, single, publication
    )
    q = _print_quality(quality_warehouse or warehouse, jobs)
    r = _print_retail()
    payload = {
        "stage": "forecast",
        "scale": scale,
        "series": series,
        "distinct_series": len(items),
        "jobs": jobs,
        "cpus": os.cpu_count(),
        "parallel": as_dict(parallel),
        "single_process": as_dict(single),
        "publication": as_dict(publication),
        "ms_per_series_parallel": 1000 * per_series,
        "ms_per_series_single": 1000 * per_series_one,
        "speedup": speedup,
        "quality": q,
        "retail": r,
    }
    save(f"forecast_{scale}", payload)
    return payload


if __name__ == "__main__":
    parser = stage_parser(__doc__)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sequential", type=int, default=100, help="series timed in one process")
    parser.add_argument("--quality-warehouse", type=Path, default=None)
    args = parser.parse_args()
    main(args.scale, args.series, args.jobs, args.sequential, args.quality_warehouse)
