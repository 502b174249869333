"""The alerts asset (``ops/alerts``) and the jobs' failure hook.

``ops/alerts`` runs after the scores: it evaluates the business alert rules of
:mod:`crmlens.alerts` at the data's today, upserts them into ``ops.alerts`` and POSTs the
undelivered ones to the webhook of the settings, if any. A webhook that does not answer
is reported in the metadata and retried on the next run; it never fails the scoring.

:data:`alert_on_failure` is attached to every job: a failed step becomes a
``pipeline_failure`` alert, delivered the same way.
"""

# No `from __future__ import annotations`: Dagster inspects the context annotation at runtime.

from dagster import (
    AssetExecutionContext,
    AssetKey,
    HookContext,
    MaterializeResult,
    MetadataValue,
    asset,
    failure_hook,
)
from duckdb import DuckDBPyConnection

from crmlens import alerts
from crmlens.clock import data_today, utc_now
from crmlens.settings import Settings
from crmlens.warehouse import session
from models.families import families
from pipelines.ml.keys import scores_key
from pipelines.resources import CrmlensResource

ALERTS_KEY = AssetKey(["ops", "alerts"])


@asset(
    key=ALERTS_KEY,
    group_name="monitoring",
    deps=[
        *(scores_key(spec) for spec in families()),
        AssetKey(["marts", "fct_leads"]),
        AssetKey(["marts", "fct_opportunities"]),
        AssetKey(["marts", "dim_accounts"]),
        AssetKey(["marts", "dim_users"]),
    ],
    kinds={"duckdb"},
    description="What someone should act on today: hot leads nobody answered, deals at risk, "
    "customers whose health fell, reps without activity, failed pipeline steps. Upserted "
    "into ops.alerts (one per kind, entity and day) and sent to the webhook, if set.",
)
def ops_alerts(context: AssetExecutionContext, crmlens: CrmlensResource) -> MaterializeResult:
    settings = crmlens.settings()
    now = utc_now()
    with session(settings.warehouse_path) as con:
        today = data_today(con, settings.as_of)
        found, skipped = alerts.evaluate(con, today, settings)
        new = alerts.record(con, found, day=str(today.date()), run_id=context.run_id, now=now)
        delivery = alerts.deliver(con, settings.alert_webhook_url, now=now)
    by_kind = found.group_by("kind").len().sort("kind") if found.height else None
    return MaterializeResult(
        metadata={
            "alerts": found.height,
            "new": new,
            "by_kind": MetadataValue.json(
                dict(zip(by_kind["kind"], by_kind["len"], strict=True))
                if by_kind is not None
                else {}
            ),
            "rules_skipped": ", ".join(skipped) or "none",
            "webhook": "not configured"
            if not settings.alert_webhook_url
            else (delivery.error or f"delivered {delivery.sent}"),
            "as_of": str(today),
        }
    )


def raise_pipeline_alert(con: DuckDBPyConnection, settings: Settings, **alert: str) -> None:
    """An alert of the pipeline about itself (a failed step, scores held back): dated by the
    wall clock, not the data's today, and delivered to the settings' webhook at once.

    Args:
        con: a read-write connection to the warehouse.
        settings: the settings (the webhook).
        **alert: ``kind``, ``entity_type``, ``entity_id``, ``title``, ``detail`` and
            ``run_id`` (see :func:`crmlens.alerts.raise_alert`).
    """
    alerts.raise_alert(con, url=settings.alert_webhook_url, now=utc_now(), **alert)


@failure_hook(required_resource_keys={"crmlens"})
def alert_on_failure(context: HookContext) -> None:
    """A failed step becomes a ``pipeline_failure`` alert (best effort: never raises)."""
    try:
        settings = context.resources.crmlens.settings()
        error = context.op_exception
        with session(settings.warehouse_path) as con:
            raise_pipeline_alert(
                con,
                settings,
                kind="pipeline_failure",
                entity_type="step",
                entity_id=context.step_key,
                title=f"Pipeline step failed: {context.step_key} (job {context.job_name})",
                detail=f"{type(error).__name__}: {error}"[:1000] if error else "failed",
                run_id=context.run_id,
            )
    except Exception as exc:  # the run has failed already; the hook must not mask why
        context.log.warning(f"could not record the failure alert: {exc}")
