"""Run a job of the asset graph in this process (the demo, the CLI, tests).

Runs are recorded in a Dagster instance under ``<home>/dagster`` (unless
``DAGSTER_HOME`` is set), so `make dev` shows the demo's materializations.
The day-partitioned events are loaded as one single-run backfill over the days
the source has files for.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from datetime import date
from pathlib import Path

from dagster import AssetKey, DagsterInstance, ExecuteInProcessResult, JobDefinition

from crmlens.runlock import note_run, run_lock
from crmlens.settings import SECRETS, Settings
from pipelines.partitions import run_window

DAGSTER_YAML = """\
telemetry:
  enabled: false
"""


def dagster_home(settings: Settings) -> Path:
    """Dagster's home for in-process runs (its run storage), created private (0700)."""
    home = Path(os.environ.get("DAGSTER_HOME") or (Path(settings.home) / "dagster")).resolve()
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    return home


def run_job(
    settings: Settings,
    job_name: str = "ingest",
    *,
    days: tuple[date, date] | None = None,
    instance: DagsterInstance | None = None,
    raise_on_error: bool = True,
    log_level: str = "WARNING",
    log_file: Path | None = None,
    run_id: str | None = None,
    assets: list[AssetKey] | None = None,
    ops: dict[str, dict] | None = None,
) -> ExecuteInProcessResult:
    """Execute a job in process over ``days`` (default: every day with event files).

    The run holds the warehouse's run lock (:mod:`crmlens.runlock`): a second writer is
    refused in one line naming this run. The settings' secrets reach the run through the
    environment, for the run only, never its config (:mod:`pipelines.resources`).

    Args:
        settings: paths and switches.
        job_name: the job.
        days: first and last event day to load (default: every day with event files, else
            the last partition; :func:`pipelines.partitions.run_window`).
        instance: the Dagster instance (default: the one under ``<home>/dagster``).
        raise_on_error: raise when a step fails.
        log_level: of the console logger.
        log_file: where Dagster's and dbt's output goes (the terminal gets one line per
            asset); default: the terminal.
        run_id: the Dagster run id (default: a new one).
        assets: run only these assets of the job (default: all of them).
        ops: per op name, its config (``{"ml__churn_backtest": {"step": "week"}}``).

    Returns:
        The run's result.

    Raises:
        WarehouseBusy: another process holds the warehouse.
        OutsidePartitions: ``days`` outside the event partitions.
    """
    from pipelines.definitions import build_definitions
    from pipelines.resources import CrmlensResource
    from pipelines.transform.project import scoped_env

    settings.ensure_dirs()
    run_id = run_id or str(uuid.uuid4())
    with (
        run_lock(settings.warehouse_path, f"crmlens job {job_name}"),
        scoped_env(_secrets_env(settings)),
    ):
        note_run(settings.warehouse_path, run_id, job_name)
        days = run_window(settings, days)  # every run covers days: a source without events too
        tags = {
            "dagster/asset_partition_range_start": days[0].isoformat(),
            "dagster/asset_partition_range_end": days[1].isoformat(),
        }
        resource = CrmlensResource(
            home=str(settings.home),
            warehouse_path=str(settings.warehouse_path),
            source_spec=str(settings.source_spec),
            source_root=str(settings.source_root) if settings.source_root else None,
        )
        job = build_definitions(resource).resolve_job_def(job_name)
        if instance is None:
            os.environ["DAGSTER_HOME"] = str(dagster_home(settings))
            instance = DagsterInstance.get()
        run = {
            "instance": instance,
            "tags": tags,
            "raise_on_error": raise_on_error,
            "run_id": run_id,
            "asset_selection": assets,
        }
        configs = {"ops": {op: {"config": c} for op, c in ops.items()}} if ops else {}
        return _execute(job, run, configs, log_level, log_file)


def _execute(
    job: JobDefinition, run: dict, configs: dict, log_level: str, log_file: Path | None
) -> ExecuteInProcessResult:
    """Execute in process; with ``log_file``, dbt's and Dagster's chatter goes there and the
    terminal gets one line per asset."""
    loggers: dict = {"console": {"config": {"log_level": log_level}}}
    if log_file is None:
        return job.execute_in_process(run_config={"loggers": loggers, **configs}, **run)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with (
        log_file.open("w") as sink,
        contextlib.redirect_stdout(sink),
        contextlib.redirect_stderr(sink),
    ):
        loggers |= {"progress": {}}
        return job.execute_in_process(run_config={"loggers": loggers, **configs}, **run)


def _secrets_env(settings: Settings) -> dict[str, str]:
    """The settings' secrets as the ``CRMLENS_*`` variables the assets read at run time."""
    return {
        f"CRMLENS_{name.upper()}": value
        for name in SECRETS
        if (value := getattr(settings, name)) is not None
    }


def materialization_metadata(result: ExecuteInProcessResult) -> dict[str, dict]:
    """Asset key -> metadata of its (last) materialization in a run."""
    out: dict[str, dict] = {}
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        out[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    return out
