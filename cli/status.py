"""``crmlens status``: the whole pipeline at a glance.

- the last run of each job (Dagster's run storage under ``<home>/dagster``, opened read-only);
- rows loaded and quarantined per table, and the quarantine's totals;
- the champion of each model family and its test figures (``ml.model_promotions`` and
  ``ml.model_evaluations``, which every training run appends to);
- the last publication: when, and the rows of each score table (``publish.*``).

Everything but the run history comes from the serving snapshot, never the warehouse, so
status answers while a run writes and never gets in a run's way. A section with nothing to
show yet says so in one line.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from cli import summary
from cli.console import console
from crmlens.settings import Settings

# The jobs in the order a run takes them (others, if any, follow alphabetically).
JOB_ORDER = ("ingest", "daily", "train", "score", "forecast")
RESULTS = {
    "SUCCESS": "success",
    "FAILURE": "FAILED",
    "CANCELED": "cancelled",
    "CANCELING": "cancelling",
    "STARTED": "running",
    "STARTING": "starting",
    "NOT_STARTED": "not started",
    "QUEUED": "queued",
}


@dataclass(frozen=True)
class JobRun:
    """The last run of a job, and when the job last succeeded."""

    job: str
    run_id: str
    status: str
    started: datetime | None
    seconds: float | None
    last_success: datetime | None
    runs: int
    failed_steps: tuple[str, ...] = ()
    held_steps: tuple[str, ...] = ()  # failed because a blocking check did not pass

    @property
    def held(self) -> bool:
        """Failed only where a blocking check did not pass (a promotion or scores held
        back): an outcome, not an error. A check that crashed is an error."""
        return bool(self.failed_steps) and set(self.failed_steps) <= set(self.held_steps)

    @property
    def result(self) -> str:
        return "held back" if self.status == "FAILED" and self.held else self.status


def show_status(settings: Settings) -> None:
    """Print every section of ``crmlens status``.

    Args:
        settings: where the serving snapshot, the warehouse and the run history are.

    Raises:
        FileNotFoundError: no serving snapshot yet (nothing was ever loaded).
    """
    from crmlens.runlock import describe, holder
    from crmlens.serving import info_path, open_snapshot

    serving = Path(settings.serving_path)
    if not serving.exists():
        raise FileNotFoundError(
            f"no serving snapshot at {serving} yet: run `crmlens ingest` (or `make demo`) first"
        )
    meta = json.loads(info_path(serving).read_text()) if info_path(serving).exists() else {}
    source = settings.remembered_source()
    if source:
        root = f", files under {source['root']}" if source.get("root") else ""
        console.print(f"source: {source.get('name') or '?'} (spec {source['spec']}{root})")
    print_jobs(last_runs(dagster_home(settings)), Path(settings.logs_dir))
    con = open_snapshot(settings)
    try:
        table = summary.status_table(con, f"warehouse {settings.warehouse_path}")
        table.caption = f"as of the snapshot of {meta.get('published_at', '?')} UTC ({serving})"
        console.print(table)
        print_quarantine(con)
        print_champions(con)
        print_publication(con, dagster_home(settings))
    finally:
        con.close()
    running = holder(settings.warehouse_path)
    if running:
        console.print(f"in progress: {describe(running)}")


def dagster_home(settings: Settings) -> Path:
    """Where the runs are recorded: ``DAGSTER_HOME``, else ``<home>/dagster`` (as the runs
    themselves choose, :func:`pipelines.run.dagster_home`, without creating anything)."""
    return Path(os.environ.get("DAGSTER_HOME") or (Path(settings.home) / "dagster"))


def last_runs(home: Path) -> list[JobRun] | None:
    """The last run of each job in a Dagster home's run storage, opened read-only.

    Args:
        home: the Dagster home.

    Returns:
        One entry per job, in :data:`JOB_ORDER`; None when the home has no run storage
        (no job has run) or it is not the local SQLite kind.
    """
    path = home / "history" / "runs.db"
    if not path.exists():
        return None
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "select pipeline_name, run_id, status, start_time, end_time, create_timestamp, "
            "(select max(s.end_time) from runs s where s.pipeline_name = r.pipeline_name "
            "and s.status = 'SUCCESS'), "
            "(select count(*) from runs c where c.pipeline_name = r.pipeline_name) "
            "from runs r where r.id = (select max(l.id) from runs l "
            "where l.pipeline_name = r.pipeline_name) and substr(r.pipeline_name, 1, 2) != '__'"
        ).fetchall()
    except sqlite3.Error:
        return None
    finally:
        con.close()
    runs = [
        JobRun(
            job=job,
            run_id=run_id,
            status=RESULTS.get(status, status.lower()),
            started=_when(start) or _created(created),
            seconds=(end - start) if start and end else None,
            last_success=_when(success),
            runs=count,
            **(failed_steps(home, run_id) if status == "FAILURE" else {}),
        )
        for job, run_id, status, start, end, created, success, count in rows
    ]
    order = {name: i for i, name in enumerate(JOB_ORDER)}
    return sorted(runs, key=lambda r: (order.get(r.job, len(order)), r.job))


def failed_steps(home: Path, run_id: str) -> dict[str, tuple[str, ...]]:
    """The steps that failed in a run, and those of them whose blocking check did not
    pass, from the run's event log (read-only)."""
    path = home / "history" / "runs" / f"{run_id}.db"
    if not path.exists():
        return {}
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "select dagster_event_type, step_key, event from event_logs where step_key is not "
            "null and dagster_event_type in ('STEP_FAILURE', 'ASSET_CHECK_EVALUATION') order by id"
        ).fetchall()
    except sqlite3.Error:
        return {}
    finally:
        con.close()
    failed = tuple(dict.fromkeys(step for kind, step, _ in rows if kind == "STEP_FAILURE"))
    # Parsed here, not with SQLite's json_extract: check metadata may hold NaN, which
    # Python's JSON writes and SQLite's JSON reader refuses.
    checks = {
        step
        for kind, step, event in rows
        if kind == "ASSET_CHECK_EVALUATION" and not _check_passed(event)
    }
    return {"failed_steps": failed, "held_steps": tuple(s for s in failed if s in checks)}


def _check_passed(event: str) -> bool:
    """Whether an ASSET_CHECK_EVALUATION event (Dagster's stored JSON) passed."""
    try:
        data = json.loads(event)["dagster_event"]["event_specific_data"]
    except (ValueError, KeyError, TypeError):
        return True  # unreadable: never taken for a held step
    return bool(data.get("success", data.get("passed", True)))


def _when(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch else None


def _created(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).replace(tzinfo=UTC) if text else None


def _stamp(moment: Any) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


def print_jobs(runs: list[JobRun] | None, logs: Path) -> None:
    """The last run of each job, or one line when none has run; a line per failed run
    naming its failed steps and its log."""
    if not runs:
        console.print("jobs: no pipeline job has run yet (`crmlens run` runs them)")
        return
    table = Table(title="jobs: the last run of each (Dagster run history; `make dev` shows all)")
    for col in ("job", "last run (UTC)", "result", "seconds", "run", "last success", "runs"):
        table.add_column(col, justify="right" if col in ("seconds", "runs") else "left")
    for r in runs:
        table.add_row(
            r.job,
            _stamp(r.started),
            r.result,
            f"{r.seconds:.0f}" if r.seconds is not None else "",
            r.run_id[:8],
            _stamp(r.last_success) or "never",
            f"{r.runs:,}",
        )
    console.print(table)
    for r in runs:
        if r.status != "FAILED":
            continue
        steps = ", ".join(r.failed_steps) or "no step (see the run in `make dev`)"
        what = "held back by the blocking checks" if r.held else "failed in"
        log = logs / f"{r.job}-{r.run_id[:8]}.log"
        console.print(
            f"{r.job} run {r.run_id[:8]} {what} {steps}" + (f"; log {log}" if log.exists() else ""),
            soft_wrap=True,
        )


def print_quarantine(con: Any) -> None:
    """Quarantine totals over every canonical table: rows held back, share, top reasons."""
    from crmlens.contracts import TABLES
    from crmlens.warehouse import table_exists

    loaded = [t for t in TABLES if table_exists(con, "raw", t)]
    if not loaded:
        console.print("quarantine: nothing loaded yet")
        return
    counts = " union all ".join(
        f"select reason_code, count(*) n from quarantine.{t} group by 1"
        for t in loaded
        if table_exists(con, "quarantine", t)
    )
    reasons = (
        con.execute(
            f"select reason_code, sum(n) from ({counts}) group by 1 order by 2 desc"
        ).fetchall()
        if counts
        else []
    )
    held = int(sum(n for _, n in reasons))
    raw_rows = {t: con.execute(f"select count(*) from raw.{t}").fetchall()[0][0] for t in loaded}
    raw = sum(raw_rows.values())
    share = held / (held + raw) if held + raw else 0.0
    top = ", ".join(f"{r} {int(n):,}" for r, n in reasons[:5])
    console.print(
        f"quarantine: {held:,} rows held back of {held + raw:,} read ({share:.2%}) in "
        f"{sum(1 for n in raw_rows.values() if n)} tables with rows"
        + (f"; top reasons: {top}" if top else ""),
        soft_wrap=True,
    )


def print_champions(con: Any) -> None:
    """Each family's champion and its test figures, or why it has none yet."""
    from crmlens.warehouse import table_exists

    if not table_exists(con, "ml", "model_evaluations"):
        console.print("models: no model trained yet")
        return
    families = [f for (f,) in con.execute(_FAMILIES).fetchall()]
    champions = _champion_versions(con)
    table = Table(title="champions: the model each family scores with, on its held-out test set")
    for col in ("family", "version", "model", "trained (UTC)", *_FIGURES, "test rows"):
        table.add_column(col, justify="left" if col in _TEXT_COLUMNS else "right")
    lines = []
    for family in families:
        version = champions.get(family)
        figures = _champion_figures(con, family, version) if version else None
        if figures is None:
            lines.append(f"{family}: {_why_no_champion(con, family)}")
            continue
        model, trained, *values, rows = figures
        table.add_row(
            family,
            f"v{version}",
            model.replace("_", " "),
            _stamp(trained),
            *("" if v is None else f"{v:.3f}" for v in values),
            f"{int(rows):,}" if rows is not None else "",
        )
    if table.row_count:
        console.print(table)
    for line in lines:
        console.print(line, soft_wrap=True)


_FIGURES = ("ROC AUC", "PR AUC", "Brier", "ECE")
_TEXT_COLUMNS = ("family", "version", "model", "trained (UTC)")
_FAMILIES = "select distinct family from ml.model_evaluations order by family"


def _champion_versions(con: Any) -> dict[str, str]:
    """Family -> the version its last passed promotion check made champion."""
    from crmlens.warehouse import table_exists

    if not table_exists(con, "ml", "model_promotions"):
        return {}
    rows = con.execute(
        "select family, arg_max(challenger_version, decided_at) from ml.model_promotions "
        "where lower(promote) = 'true' and challenger_version not in ('', 'None') group by 1"
    ).fetchall()
    return dict(rows)


def _champion_figures(con: Any, family: str, version: str) -> tuple | None:
    """The published model of a version on its test rows: kind, when, ROC/PR AUC, Brier,
    ECE, rows."""
    rows = con.execute(
        "select model, trained_at, roc_auc, pr_auc, brier, ece, rows from ml.model_evaluations "
        "where family = ? and registered_version = ? and split = 'test' and published "
        "order by trained_at desc limit 1",
        [family, version],
    ).fetchall()
    return rows[0] if rows else None


def _why_no_champion(con: Any, family: str) -> str:
    """One line for a family without a champion: its last training run's outcome."""
    rows = con.execute(
        "select split, gate, registered_version, trained_at from ml.model_evaluations "
        "where family = ? order by trained_at desc limit 1",
        [family],
    ).fetchall()
    split, gate, version, trained = rows[0]
    if split == "none":
        return f"no model trained yet — rule-based scores ({gate}; {_stamp(trained)} UTC)"
    return f"no champion yet — the challenger v{version} of {_stamp(trained)} UTC was not promoted"


def print_publication(con: Any, home: Path) -> None:
    """The last publication: its run (job and time, from the run history), the data's as-of
    date, and the rows of each score table."""
    from crmlens.publish.contract import SCORE_TABLES
    from crmlens.warehouse import table_exists

    published = []
    for name in SCORE_TABLES:
        if table_exists(con, "publish", name):
            rows, run, as_of = con.execute(
                f"select count(*), max(run_id), max(scored_at) from publish.{name}"
            ).fetchall()[0]
            published.append((name, rows, str(run or ""), as_of))
    if not published:
        console.print("publication: nothing published yet")
        return
    runs = run_info(home, {run for _, _, run, _ in published if run})
    latest = max(
        runs.values(), key=lambda r: r[1] or datetime.min.replace(tzinfo=UTC), default=None
    )
    as_of = max((a for *_, a in published if a), default=None)
    tables = ", ".join(
        f"{name} {rows:,} rows"
        + ("" if latest and runs.get(run) == latest else f" (run {run[:8]})")
        for name, rows, run, _ in published
    )
    head = f"{_stamp(latest[1])} UTC, job {latest[0]}" if latest else "run not in the history"
    console.print(
        f"last publication: {head}"
        + (f", scores as of {as_of:%Y-%m-%d}" if as_of else "")
        + f": {tables}",
        soft_wrap=True,
    )


def run_info(home: Path, run_ids: set[str]) -> dict[str, tuple[str, datetime | None]]:
    """Run id -> (job, when it ended, else started), for the runs the history still holds."""
    path = home / "history" / "runs.db"
    if not run_ids or not path.exists():
        return {}
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    marks = ", ".join("?" * len(run_ids))
    try:
        rows = con.execute(
            "select run_id, pipeline_name, coalesce(end_time, start_time) from runs "
            f"where run_id in ({marks})",
            sorted(run_ids),
        ).fetchall()
    except sqlite3.Error:
        return {}
    finally:
        con.close()
    return {run: (job, _when(moment)) for run, job, moment in rows}
