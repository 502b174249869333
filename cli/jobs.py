"""Run jobs of the asset graph in order and report what they did."""

from __future__ import annotations

import time
import uuid
from datetime import date
from pathlib import Path

import click

from cli import summary
from cli.console import console
from crmlens.settings import Settings

# Blocking checks whose failure is an outcome, not an error: a challenger not promoted, or
# scores held back by drift (the CRM keeps the previous ones; ops.alerts says why).
HELD_STEPS = ("_promotion", "_drift")


def run_and_report(settings: Settings, jobs: tuple[str, ...], days: list[date] | None) -> None:
    """Run jobs in order; a promotion the check held back is an outcome, not a failure."""
    from pipelines.run import materialization_metadata, run_job

    window = (days[0], days[-1]) if days else None
    meta: dict = {}
    decisions: dict[str, tuple[bool, str]] = {}
    monitoring: dict[str, str] = {}
    started = time.perf_counter()
    for job_name in jobs:
        run_id = str(uuid.uuid4())
        # Each run its own log, named after its Dagster run (the `make dev` Runs tab).
        log_file = Path(settings.logs_dir) / f"{job_name}-{run_id[:8]}.log"
        _prune_logs(Path(settings.logs_dir), settings.runs_kept)
        console.print(
            f"running job [bold]{job_name}[/] (Dagster, in process; log in {log_file}) ..."
        )
        result = run_job(
            settings,
            job_name,
            days=window,
            raise_on_error=False,
            log_file=log_file,
            run_id=run_id,
        )
        meta |= materialization_metadata(result)
        for check in result.get_asset_check_evaluations():
            if check.check_name.endswith("_promotion"):
                reason = check.metadata.get("reason")
                decisions[check.check_name.removesuffix("_promotion")] = (
                    check.passed,
                    str(reason.value) if reason else "",
                )
            elif check.check_name.endswith("_drift"):
                status, reasons = check.metadata.get("status"), check.metadata.get("reasons")
                monitoring[check.check_name.removesuffix("_drift")] = (
                    f"{status.value if status else '?'}"
                    + (f": {reasons.value}" if reasons and reasons.value != "stable" else "")
                )
        failures = [
            e
            for e in result.all_events
            if e.event_type_value == "STEP_FAILURE" and not e.step_key.endswith(HELD_STEPS)
        ]
        if failures:
            failed = ", ".join(e.step_key for e in failures)
            raise click.ClickException(
                f"job {job_name}, run {result.run_id[:8]}, failed in {failed}"
                f"{''.join(f': {why}' for why in _reasons(failures)[:1])}; "
                f"see {log_file} or `make dev` (Runs tab)"
            )
    if "serving/snapshot" not in meta:  # e.g. the ingest job: `crmlens status` reads the snapshot
        from crmlens.serving import refresh_snapshot

        refresh_snapshot(settings)
    seconds = time.perf_counter() - started
    summary.print_ingest(meta, f"{' → '.join(jobs)}: {seconds:.0f} s")
    summary.print_built(meta)
    summary.print_models(meta, decisions)
    for family, verdict in sorted(monitoring.items()):
        held = (
            " — scores held back, the CRM keeps the previous ones"
            if verdict.startswith("block")
            else ""
        )
        console.print(f"drift check {family}: {verdict}{held}")
    summary.print_forecast(meta)
    summary.print_headlines(settings)


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
