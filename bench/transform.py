"""Transform benchmark: a full `dbt build` next to one new day processed incrementally.

On a warehouse holding the scale's CRM with its last day of events held back:

1. full build: ``dbt build`` of every model and test (what a first run or a
   full refresh costs);
2. the held-back day lands in raw.events;
3. incremental day: ``dbt build --select tag:daily`` with the day window set to
   that day — what the day-partitioned Dagster asset runs for a new day;
4. daily job: ``dbt build`` with the same window — the daily models for the day
   plus every other model rebuilt (the scheduled daily job's dbt step).

Each run is reported twice: wall time of the dbt process, and the run's own
elapsed time from dbt's run_results.json (the work, without dbt's start-up).

dbt runs as a subprocess, as Dagster runs it (each call pays ~3.5 s of dbt start-up,
included: it is part of what a run costs).

    python -m bench.transform --scale medium
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import BENCH_HOME, ensure_synthetic, report, save, stage_parser
from crmlens.contracts import TABLES
from crmlens.ingest import ingest_table
from crmlens.settings import get_settings
from crmlens.sources.spec import load_spec
from crmlens.warehouse import connect
from pipelines.transform.project import dbt_env, dbt_executable


def ingested(scale: str) -> Path:
    """The scale's CRM ingested into a warehouse, once (reused by later runs)."""
    path = BENCH_HOME / f"{scale}_ingested.duckdb"
    if path.exists():
        return path
    data = ensure_synthetic(scale)
    print(f"ingesting the {scale} CRM into {path} (once) ...", flush=True)
    tmp = path.with_suffix(".partial")
    tmp.unlink(missing_ok=True)
    con = connect(tmp)
    spec = load_spec(data / "source_spec.yml")
    for table in TABLES:
        ingest_table(con, spec, table)
    con.close()
    tmp.rename(path)
    return path


def dbt(warehouse: Path, target: Path, *args: str, window: str = "") -> tuple[float, float]:
    """(wall seconds of the dbt process, dbt's own elapsed time of the run)."""
    settings = get_settings(warehouse_path=warehouse)
    env = (
        os.environ
        | dbt_env(settings)
        | {"CRMLENS_DBT_MIN_DAY": window, "CRMLENS_DBT_MAX_DAY": window}
    )
    project = settings.dbt_project_dir
    cmd = [
        dbt_executable(),
        "--quiet",
        *(["--no-populate-cache"] if "tag:daily" in args else []),  # as Dagster's daily asset
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
    ]
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}"
        )
    results = target / "run_results.json"
    elapsed = (
        json.loads(results.read_text())["elapsed_time"]
        if results.exists() and args[0] != "parse"
        else 0.0
    )
    return seconds, elapsed


def _print(
    scale: str,
    total: int,
    held: int,
    last_day: object,
    startup: float,
    full_run: tuple[float, float],
    incremental_run: tuple[float, float],
    daily_run: tuple[float, float],
) -> None:
    """The table of (wall, dbt work) seconds of the three builds, and the ratio to the goal."""
    (full, full_work), (incremental, incremental_work) = full_run, incremental_run
    daily_job, daily_work = daily_run
    rows = [
        (
            "full dbt build (all models and tests)",
            f"{full:.1f}",
            f"{full_work:.1f}",
            "1.00",
            "1.00",
        ),
        (
            f"incremental: daily models for {last_day}",
            f"{incremental:.1f}",
            f"{incremental_work:.1f}",
            f"{incremental / full:.3f}",
            f"{incremental_work / full_work:.3f}",
        ),
        (
            "daily job's dbt step (daily models + the rest rebuilt)",
            f"{daily_job:.1f}",
            f"{daily_work:.1f}",
            f"{daily_job / full:.3f}",
            f"{daily_work / full_work:.3f}",
        ),
    ]
    report(
        f"dbt on the {scale} CRM ({total:,} events; the new day holds {held:,})",
        rows,
        ("run", "wall s", "dbt work s", "wall share", "work share"),
    )
    print(
        f"\nincremental day / full build: wall {incremental / full:.3f}, dbt work "
        f"{incremental_work / full_work:.3f} (goal <= 0.10). A dbt process that does nothing "
        f"costs {startup:.1f} s here (start-up, manifest): both runs pay it once."
    )


def main(scale: str = "medium") -> dict:
    source = ingested(scale)
    work = Path(tempfile.mkdtemp(prefix="crmlens-bench-transform-"))
    try:
        warehouse = work / "warehouse.duckdb"
        shutil.copy(source, warehouse)
        con = connect(warehouse)
        last_day = con.execute("select max(_partition) from raw.events").fetchall()[0][0]
        con.execute(
            "create table main.held_back as select * from raw.events where _partition = ?",
            [last_day],
        )
        held = con.execute("select count(*) from main.held_back").fetchall()[0][0]
        total = con.execute("select count(*) from raw.events").fetchall()[0][0]
        con.execute("delete from raw.events where _partition = ?", [last_day])
        con.close()

        target = work / "target"
        dbt(warehouse, target, "parse")  # the manifest, so every timed call starts alike
        started = time.perf_counter()
        dbt(warehouse, target, "parse")
        startup = time.perf_counter() - started  # a dbt process doing no work: its fixed cost
        full, full_work = dbt(warehouse, target, "build")

        con = connect(warehouse)
        con.execute("insert into raw.events select * from main.held_back")
        con.close()
        day = str(last_day)
        incremental, incremental_work = dbt(
            warehouse, target, "build", "--select", "tag:daily", window=day
        )
        daily_job, daily_work = dbt(warehouse, target, "build", window=day)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    _print(
        scale,
        total,
        held,
        last_day,
        startup,
        (full, full_work),
        (incremental, incremental_work),
        (daily_job, daily_work),
    )
    payload = {
        "stage": "transform",
        "scale": scale,
        "events": total,
        "new_day_events": held,
        "full_build_s": full,
        "incremental_day_s": incremental,
        "daily_job_dbt_s": daily_job,
        "full_build_work_s": full_work,
        "incremental_day_work_s": incremental_work,
        "dbt_startup_s": startup,
        "ratio": incremental / full,
        "work_ratio": incremental_work / full_work,
    }
    save(f"transform_{scale}", payload)
    return payload


if __name__ == "__main__":
    parser = stage_parser(__doc__)
    main(parser.parse_args().scale)
