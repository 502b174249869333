"""The dbt models as Dagster assets.

Keys are ``[schema, model]`` (``staging/stg_crm__leads``, ``marts/fct_opportunities``),
all in group ``transform``; the ``crm`` sources map onto the ingest assets
(``raw/<table>``) through their ``meta.dagster.asset_key``, so lineage runs
raw → staging → intermediate → marts. ``dbt build`` runs each model's tests right
after it, and dagster-dbt turns every test into an asset check.

Models tagged ``daily`` (the event-driven, incremental ones) are a separate,
day-partitioned set: a run for some days passes the window to dbt in
``CRMLENS_DBT_MIN_DAY``/``_MAX_DAY``, so one new day of events is processed (and
tested) incrementally.
"""

# No `from __future__ import annotations`: Dagster inspects the context annotation at runtime.
import shutil
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, BackfillPolicy
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from crmlens.settings import Settings
from pipelines.partitions import DEFAULT_START, events_partitions, single_run_backfills
from pipelines.resources import CrmlensResource
from pipelines.transform.project import dbt_env, scoped_env

DAILY_TAG = "daily"


class CrmlensTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)  # meta.dagster.asset_key
        return AssetKey([dbt_resource_props["config"]["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "transform"


# The day window of the daily models travels in the environment, not in --vars: dbt
# re-parses the whole project when vars change, only the nodes that read an env var when
# it changes.
WINDOW_ENV = ("CRMLENS_DBT_MIN_DAY", "CRMLENS_DBT_MAX_DAY")


def _dbt_build(
    dbt: DbtCliResource,
    context: AssetExecutionContext,
    settings: Settings,
    window: tuple[str, str] | None = None,
):
    """Start ``dbt build`` with the profile and window in its environment only.

    The subprocess copies ``os.environ`` when it starts (inside ``dbt.cli``), so the
    variables are set just for that call and the worker's environment is left as it was.
    Each build writes its artifacts (compiled SQL, run results, dbt's log) into a folder
    of its own run (:func:`run_target_path`); ``DBT_TARGET_PATH`` points dagster-dbt at
    the parsed project's folder, whose partial-parse file it copies in to skip a re-parse.
    """
    env = dbt_env(settings) | dict(zip(WINDOW_ENV, window or ("", ""), strict=True))
    env["DBT_TARGET_PATH"] = str(Path(settings.dbt_target_dir).resolve())
    target = run_target_path(settings, context.run_id, context.op_execution_context.op.name)
    with scoped_env(env):
        return dbt.cli(_build_args(window), context=context, target_path=target)


def run_target_path(settings: Settings, run_id: str, name: str) -> Path:
    """The dbt target folder of one build: ``<dbt_target_dir>/runs/<run id>/<name>``.

    Two runs never share artifacts (before, every build wrote into ``dbt_target_dir``
    itself, over the manifest the asset graph is built from). The folders of all but the
    newest ``runs_kept`` runs are removed.

    Args:
        settings: ``dbt_target_dir`` and ``runs_kept``.
        run_id: the Dagster run.
        name: the dbt assets' op (a run may build twice: the daily models apart).

    Returns:
        The folder (absolute).
    """
    runs = Path(settings.dbt_target_dir).resolve() / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    this = runs / run_id
    others = sorted(
        (p for p in runs.iterdir() if p.is_dir() and p != this),
        key=lambda p: p.stat().st_mtime,
    )
    for old in others[: max(0, len(others) - settings.runs_kept + 1)]:
        shutil.rmtree(old, ignore_errors=True)
    return this / name


def _build_args(window: tuple[str, str] | None = None) -> list[str]:
    args = ["build"]
    if window:
        # The daily models only delete and insert (no renames, which need dbt's relation
        # cache): skip listing the whole warehouse up front.
        args.append("--no-populate-cache")
    return args


def build_dbt_assets(manifest: Path, start: date = DEFAULT_START) -> list:
    # The ingest asset of a table writes both raw.<table> and quarantine.<table>, so the
    # `crm` and `quarantine` sources of one table map onto the same asset key.
    translator = CrmlensTranslator(
        settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True)
    )

    @dbt_assets(
        manifest=manifest,
        exclude=f"tag:{DAILY_TAG}",
        dagster_dbt_translator=translator,
        name="crm_dbt_models",
    )
    def crm_dbt_models(
        context: AssetExecutionContext, dbt: DbtCliResource, crmlens: CrmlensResource
    ):
        yield from _dbt_build(dbt, context, crmlens.settings()).stream()

    with single_run_backfills():
        daily = _daily_models(manifest, translator, start)
    return [crm_dbt_models, daily]


def _daily_models(manifest: Path, translator: DagsterDbtTranslator, start: date):
    @dbt_assets(
        manifest=manifest,
        select=f"tag:{DAILY_TAG}",
        dagster_dbt_translator=translator,
        partitions_def=events_partitions(start),
        backfill_policy=BackfillPolicy.single_run(),
        name="crm_dbt_daily_models",
    )
    def crm_dbt_daily_models(
        context: AssetExecutionContext, dbt: DbtCliResource, crmlens: CrmlensResource
    ):
        window = context.partition_time_window
        days = (
            window.start.date().isoformat(),
            (window.end - timedelta(days=1)).date().isoformat(),
        )
        yield from _dbt_build(dbt, context, crmlens.settings(), days).stream()

    return crm_dbt_daily_models
