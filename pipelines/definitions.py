"""The crmlens Dagster code location: composes the domains, nothing else."""

from __future__ import annotations

from dagster import Definitions, colored_console_logger, in_process_executor
from dagster_dbt import DbtCliResource

from pipelines.forecast.assets import build_forecast_assets
from pipelines.forecast.series_assets import build_series_assets, series_key, series_names
from pipelines.ingest import build_ingest_assets
from pipelines.ingest.checks import build_ingest_checks
from pipelines.ingest.sensors import landing_files_sensor
from pipelines.jobs import build_jobs, build_schedules
from pipelines.ml import build_ml_definitions
from pipelines.monitoring.alerts import ops_alerts
from pipelines.monitoring.model_checks import build_model_checks
from pipelines.partitions import partitions_start
from pipelines.progress import progress_logger
from pipelines.publish.assets import build_publish_assets
from pipelines.resources import CrmlensResource
from pipelines.transform.assets import build_dbt_assets
from pipelines.transform.project import dbt_executable, ensure_manifest


def build_definitions(crmlens: CrmlensResource | None = None) -> Definitions:
    """The whole graph; ``crmlens`` overrides the settings (tests, the in-process runner)."""
    crmlens = crmlens or CrmlensResource()
    settings = crmlens.settings()
    manifest = ensure_manifest(settings)  # dbt's own artifact, generated when stale
    start = partitions_start(settings)  # the source's first event day
    jobs = build_jobs()
    ml_assets, ml_checks = build_ml_definitions()
    series = series_names(settings)  # the source spec's `series:` sets, one asset each
    return Definitions(
        assets=[
            *build_ingest_assets(start),
            *build_dbt_assets(manifest, start),
            *ml_assets,
            *build_forecast_assets(),
            *build_series_assets(series),
            *build_publish_assets({"series_forecast": [series_key(n) for n in series]}),
            ops_alerts,
        ],
        asset_checks=[*ml_checks, *build_ingest_checks(), *build_model_checks()],
        jobs=jobs,
        schedules=build_schedules(jobs),
        sensors=[landing_files_sensor],
        loggers={"console": colored_console_logger, "progress": progress_logger},
        resources={
            "crmlens": crmlens,
            "dbt": DbtCliResource(
                project_dir=str(settings.dbt_project_dir),
                profiles_dir=str(settings.dbt_project_dir),
                dbt_executable=dbt_executable(),
            ),
        },
        # One writer at a time on the DuckDB warehouse (STACK_NOTES: the multiprocess
        # executor's processes fight over the file lock), so runs execute in process.
        executor=in_process_executor,
    )


defs = build_definitions()
