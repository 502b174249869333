"""Dashboard benchmark: render time of every page on the medium synthetic CRM.

A crmlens home where the whole graph ran on the medium CRM (jobs daily, train,
score, forecast) is built once under ``.crmlens/bench/<scale>_dashboards_home`` and
reused. Each page is then rendered with Streamlit's ``AppTest`` in a fresh process
of its own (its own caches, its own peak memory):

- cold: the first render, with empty query caches and no open snapshot connection
  (modules are imported and Altair's schema loaded beforehand: that is the server's
  start, paid once per process, not a page's);
- warm: the median of the following renders, caches filled, as a manager moving
  around the app sees it.

Goal: median warm render under 1 s. Prints figures; never fails on time.

    python -m bench.dashboards --scale medium --warm-runs 5
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

from bench.common import BENCH_HOME, ensure_synthetic, measure, report, save, stage_parser
from dashboards.catalog import APP, PAGES

JOBS = ("daily", "train", "score", "forecast")


def ensure_home(scale: str, seed: int = 42) -> Path:
    """A home where every job ran on the scale's synthetic CRM, built once."""
    from dagster import DagsterInstance

    from crmlens.settings import get_settings
    from pipelines.run import run_job

    home = (BENCH_HOME / f"{scale}_dashboards_home").resolve()
    marker = home / "bench_complete.json"
    if marker.exists() and json.loads(marker.read_text()).get("seed") == seed:
        return home
    data = ensure_synthetic(scale, seed).resolve()
    settings = get_settings(home=home, source_spec=data / "source_spec.yml")
    instance = DagsterInstance.ephemeral()
    for job in JOBS:
        print(f"running job {job} on the {scale} CRM into {home} (once) ...", flush=True)
        started = time.perf_counter()
        log = home / "logs" / f"{job}.log"
        result = run_job(settings, job, instance=instance, raise_on_error=False, log_file=log)
        if not result.success:
            failed = [
                e.step_key
                for e in result.all_events
                if e.event_type_value == "STEP_FAILURE" and not e.step_key.endswith("_promotion")
            ]
            if failed:
                raise RuntimeError(f"job {job} failed in {failed}; see {log}")
        print(f"  {job} in {time.perf_counter() - started:.0f} s", flush=True)
    marker.write_text(json.dumps({"seed": seed, "scale": scale, "jobs": list(JOBS)}))
    return home


def render_page(home: str, page: str, warm_runs: int) -> tuple[int, dict]:
    """In a fresh process: one cold render of ``page``, then ``warm_runs`` warm ones."""
    os.environ["CRMLENS_HOME"] = home
    os.environ.pop("CRMLENS_SERVING_PATH", None)
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    import altair as alt
    import polars as pl
    from streamlit.testing.v1 import AppTest

    import dashboards.charts.campaigns
    import dashboards.charts.customers
    import dashboards.charts.forecast
    import dashboards.charts.generic
    import dashboards.charts.leads
    import dashboards.charts.models
    import dashboards.charts.overview
    import dashboards.charts.pipeline
    import dashboards.charts.quality
    import dashboards.charts.style
    import dashboards.charts.team
    import dashboards.filters
    import dashboards.processing.campaigns
    import dashboards.processing.customers
    import dashboards.processing.forecast
    import dashboards.processing.formatting
    import dashboards.processing.leads
    import dashboards.processing.models
    import dashboards.processing.overview
    import dashboards.processing.pipeline
    import dashboards.processing.quality
    import dashboards.processing.reasons
    import dashboards.processing.team
    import dashboards.queries.campaigns
    import dashboards.queries.common
    import dashboards.queries.customers
    import dashboards.queries.forecast
    import dashboards.queries.leads
    import dashboards.queries.models
    import dashboards.queries.overview
    import dashboards.queries.pipeline
    import dashboards.queries.quality
    import dashboards.queries.team
    import dashboards.ui  # noqa: F401

    # The server's start, paid once per process and not by a page: imports, and Altair
    # loading its Vega-Lite schema on the first chart it validates.
    alt.Chart(pl.DataFrame({"x": [1]})).mark_point().encode(x="x:Q").to_dict()

    at = AppTest.from_file(str(APP), default_timeout=600)
    at.switch_page(f"views/{page}.py")  # the first run draws this page, caches empty
    started = time.perf_counter()
    at.run()
    cold = time.perf_counter() - started
    problems = [e.value for e in at.exception] + [e.value for e in at.error]
    warm = []
    for _ in range(warm_runs):
        started = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - started)
    return 0, {"cold": cold, "warm": warm, "problems": problems}


def main(scale: str = "medium", warm_runs: int = 5) -> dict:
    home = ensure_home(scale)
    results = {}
    for page in PAGES:
        m = measure(f"dashboard {page}", render_page, str(home), page, warm_runs)
        extra = m.extra or {}
        results[page] = {
            "cold_s": extra["cold"],
            "warm_median_s": statistics.median(extra["warm"]),
            "warm_max_s": max(extra["warm"]),
            "peak_rss_mib": m.peak_rss_mib,
            "problems": extra["problems"],
        }
        if extra["problems"]:
            print(f"  {page}: the page showed problems: {extra['problems']}", flush=True)
    rows = [
        (
            page,
            f"{r['cold_s']:.2f}",
            f"{r['warm_median_s']:.2f}",
            f"{r['warm_max_s']:.2f}",
            f"{r['peak_rss_mib']:.0f}",
        )
        for page, r in results.items()
    ]
    warm_median = statistics.median(r["warm_median_s"] for r in results.values())
    cold_median = statistics.median(r["cold_s"] for r in results.values())
    rows.append(("median", f"{cold_median:.2f}", f"{warm_median:.2f}", "", ""))
    report(
        f"Dashboard render time per page ({scale} CRM, AppTest; goal: median warm under 1 s)",
        rows,
        ("page", "cold s", f"warm s (median of {warm_runs})", "warm max s", "peak RSS MiB"),
    )
    verdict = "meets" if warm_median < 1.0 else "misses"
    print(f"median warm render {warm_median:.2f} s: {verdict} the 1 s goal", flush=True)
    payload = {
        "scale": scale,
        "home": str(home),
        "pages": results,
        "median_warm_s": warm_median,
        "median_cold_s": cold_median,
    }
    save("dashboards", payload)
    return payload


if __name__ == "__main__":
    parser = stage_parser(__doc__)
    parser.add_argument("--warm-runs", type=int, default=5)
    args = parser.parse_args()
    main(args.scale, args.warm_runs)
