"""Run jobs of the asset graph in order and report what they did."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import click

from cli import summary
from cli.console import console
from crmlens.settings import Settings

# Blocking checks whose failure is an outcome, not an error: a challenger not promoted, or
# scores held back by drift (the CRM keeps the previous ones; ops.alerts says why).
HELD_STEPS = ("_promotion", "_drift")
# The jobs of pipelines/jobs.py, in the order they usually run (spelled out here so that
# `crmlens --help` need not import Dagster; tests/test_cli.py checks they agree).
JOB_NAMES = ("ingest", "transform", "daily", "train", "score", "forecast", "backtest")


@dataclass
class Report:
    """What the jobs of one command did, gathered for the summary at the end."""

    meta: dict = field(default_factory=dict)
    decisions: dict[str, tuple[bool, str]] = field(default_factory=dict)
    monitoring: dict[str, str] = field(default_factory=dict)


def whole_sequence(settings: Settings) -> tuple[str, ...]:
    """`crmlens run` without --job: daily, then train and score when a family is due
    (no champion, or one older than ``retrain_every_days``), then the forecast."""
    from pipelines.ml.due import training_due

    due = training_due(settings)
    if not due:
        console.print(
            f"training skipped: every champion is younger than {settings.retrain_every_days} "
            "days (`crmlens run --job train` trains now)"
        )
        return ("daily", "forecast")
    why = "; ".join(f"{family}: {reason}" for family, reason in sorted(due.items()))
    console.print(f"training after the daily run ({why})")
    return ("daily", "train", "score", "forecast")


def run_and_report(
    settings: Settings, jobs: tuple[str, ...] | None, days: list[date] | None
) -> None:
    """Run jobs in order (default: :func:`whole_sequence`) and print what they did.

    Every job leaves a fresh serving snapshot behind it (the readers see what it changed);
    a promotion the check held back, or scores drift held back, is an outcome, not a failure.
    """
    jobs = jobs or whole_sequence(settings)
    window = (days[0], days[-1]) if days else None
    report = Report()
    started = time.perf_counter()
    for job_name in jobs:
        run_one(settings, job_name, window, report)
    seconds = time.perf_counter() - started
    summary.print_ingest(report.meta, f"{' → '.join(jobs)}: {seconds:.0f} s")
    summary.print_built(report.meta)
    summary.print_models(report.meta, report.decisions)
    for family, verdict in sorted(report.monitoring.items()):
        held = (
            " — scores held back, the CRM keeps the previous ones"
            if verdict.startswith("block")
            else ""
        )
        console.print(f"drift check {family}: {verdict}{held}")
    summary.print_forecast(report.meta)
    summary.print_headlines(settings)


def run_one(
    settings: Settings,
    job_name: str,
    window: tuple[date, date] | None,
    report: Report,
    **selection: object,
) -> None:
    """One job: run it, gather its outcome, refresh the snapshot; one line on failure
    (``selection``: :func:`pipelines.run.run_job`'s ``assets`` and ``ops``)."""
    from crmlens.serving import refresh_snapshot
    from pipelines.run import materialization_metadata, run_job

    run_id = str(uuid.uuid4())
    # Each run its own log, named after its Dagster run (the `make dev` Runs tab).
    log_file = Path(settings.logs_dir) / f"{job_name}-{run_id[:8]}.log"
    _prune_logs(Path(settings.logs_dir), settings.runs_kept)
    console.print(f"running job [bold]{job_name}[/] (Dagster, in process; log in {log_file}) ...")
    started = time.perf_counter()
    result = run_job(
        settings,
        job_name,
        days=window,
        raise_on_error=False,
        log_file=log_file,
        run_id=run_id,
        **selection,
    )
    meta = materialization_metadata(result)
    report.meta |= meta
    _gather_checks(result, report)
    # A blocking check that evaluated and did not pass holds its step back; one that
    # crashed (no evaluation) is a failure like any other.
    held = tuple(
        c.check_name
        for c in result.get_asset_check_evaluations()
        if not c.passed and c.check_name.endswith(HELD_STEPS)
    )
    failures = [
        e
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE" and not (held and e.step_key.endswith(held))
    ]
    if failures:
        failed = ", ".join(e.step_key for e in failures)
        raise click.ClickException(
            f"job {job_name}, run {result.run_id[:8]}, failed in {failed}"
            f"{''.join(f': {why}' for why in _reasons(failures)[:1])}; "
            f"see {log_file} or `make dev` (Runs tab)"
        )
    if "serving/snapshot" not in meta:  # readers (status, dashboards) see what this job did
        refresh_snapshot(settings)
    console.print(f"job {job_name} done in {time.perf_counter() - started:.0f} s")


def _gather_checks(result, report: Report) -> None:
    """Promotion decisions and drift verdicts of a run's asset checks."""
    for check in result.get_asset_check_evaluations():
        if check.check_name.endswith("_promotion"):
            reason = check.metadata.get("reason")
            report.decisions[check.check_name.removesuffix("_promotion")] = (
                check.passed,
                str(reason.value) if reason else "",
            )
        elif check.check_name.endswith("_drift"):
            status, reasons = check.metadata.get("status"), check.metadata.get("reasons")
            report.monitoring[check.check_name.removesuffix("_drift")] = (
                f"{status.value if status else '?'}"
                + (f": {reasons.value}" if reasons and reasons.value != "stable" else "")
            )


def _reasons(failures: list) -> list[str]:
    """What the failed steps said in words a user can act on (a spec's one-line error)."""
    reasons = []
    for event in failures:
        said = getattr(event.event_specific_data, "user_failure_data", None)
        if said is not None and said.description:
            reasons.append(said.description.strip())
    return reasons


def _prune_logs(folder: Path, keep: int) -> None:
    """Keep the newest ``keep - 1`` run logs, making room for the one about to start."""
    logs = sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime)
    for old in logs[: max(0, len(logs) - keep + 1)]:
        old.unlink(missing_ok=True)
