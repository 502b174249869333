"""Jobs and schedules that tie the domains together.

- ``ingest``: every ingest asset (raw.* and quarantine.*).
- ``transform``: the dbt models alone (staging, intermediate, marts) on what raw holds.
- ``daily``: ingest → transform (dbt) → scores (drift checks) → alerts → publish →
  serving snapshot.
  Partitioned by day like the events: a run for day D reloads D's events, the CRM
  tables, the dbt models (the daily event models incrementally, for D only), and
  scores with the current champions. Scheduled every morning for yesterday.
- ``train``: training sets → challengers → promotion checks → champions. Weekly;
  a challenger that is not better fails its blocking check and is not promoted.
- ``score``: scores → publish → snapshot, e.g. right after a promotion.
- ``backtest``: the replay of the schedule per family (training sets → replays): how
  the published scores would have done, window by window. On demand (`crmlens backtest`).
- ``forecast``: the revenue forecast (statistical, pipeline, blend, scenarios) and its
  accuracy → publish → snapshot. Monthly, on the 2nd, once the month has closed.
"""

from __future__ import annotations

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    ScheduleDefinition,
    build_schedule_from_partitioned_job,
    define_asset_job,
)

from pipelines.monitoring.alerts import alert_on_failure

INGEST = AssetSelection.groups("ingest")
TRANSFORM = AssetSelection.groups("transform")
ML = AssetSelection.groups("ml")
SCORES = AssetSelection.assets(
    ["ml", "lead_scores"],
    ["ml", "opportunity_scores"],
    ["ml", "churn_scores"],
    ["ml", "suggested_tasks"],
)
TRAINING = ML - SCORES
PUBLISH = AssetSelection.groups("publish")
FORECAST = AssetSelection.groups("forecast")
# The replays, with the training sets they read (rebuilt first, on today's data).
BACKTEST = AssetSelection.groups("backtest").upstream(depth=1)
MONITORING = AssetSelection.groups("monitoring")
SNAPSHOT = AssetSelection.assets(["serving", "snapshot"])
PUBLISH_FORECAST = AssetSelection.assets(
    ["publish", "revenue_forecast"], ["publish", "series_forecast"]
)
PUBLISH_SCORES = PUBLISH - PUBLISH_FORECAST  # the daily score tables (the forecast is monthly)


def build_jobs() -> list:
    # Every job turns a failed step into a `pipeline_failure` alert (ops.alerts, webhook).
    hooks = {alert_on_failure}
    return [
        define_asset_job(
            "ingest", selection=INGEST, description="Load every source table.", hooks=hooks
        ),
        define_asset_job(
            "transform",
            selection=TRANSFORM,
            description="Rebuild the marts (dbt) from what raw holds, without loading anything.",
            hooks=hooks,
        ),
        define_asset_job(
            "daily",
            selection=INGEST | TRANSFORM | SCORES | MONITORING | PUBLISH_SCORES,
            description="Ingest, rebuild the marts (event models for the run's days only), "
            "score with the current champions, publish, refresh the serving snapshot.",
            hooks=hooks,
        ),
        define_asset_job(
            "train",
            selection=TRAINING,
            description="Build the training sets, train challengers, check them against the "
            "champions, promote the better ones (a held promotion fails its check).",
            hooks=hooks,
        ),
        define_asset_job(
            "score",
            selection=SCORES | MONITORING | PUBLISH_SCORES,
            description="Score with the current champions and publish (after a promotion).",
            hooks=hooks,
        ),
        define_asset_job(
            "backtest",
            selection=BACKTEST,
            description="Replay the schedule per family: retrain at each weekly or monthly "
            "cut on what was known then, score the next window, measure it (MLflow, "
            "ml.backtests). Changes no champion and no published score.",
            hooks=hooks,
        ),
        define_asset_job(
            "forecast",
            selection=FORECAST | PUBLISH_FORECAST | SNAPSHOT,
            description="Publish the revenue forecast (statistical, pipeline, blend, scenarios), "
            "log it to MLflow, score earlier publications against the actuals, refresh the "
            "serving snapshot.",
            hooks=hooks,
        ),
    ]


# What `make demo` runs, in order: a first daily run (rule-based scores on a new
# install), training, scoring again with whatever was promoted, and the forecast (which
# reads the calibrated win probabilities of the open deals).
DEMO_SEQUENCE = ("daily", "train", "score", "forecast")


def build_schedules(jobs: list) -> list[ScheduleDefinition]:
    by_name = {j.name: j for j in jobs}
    return [
        build_schedule_from_partitioned_job(
            by_name["daily"],
            name="daily_ingest_transform_score",
            hour_of_day=5,
            default_status=DefaultScheduleStatus.STOPPED,  # turned on per deployment
        ),
        ScheduleDefinition(
            name="weekly_retrain",
            job=by_name["train"],
            cron_schedule="0 3 * * 1",  # Mondays 03:00 UTC, before the daily run
            default_status=DefaultScheduleStatus.STOPPED,
        ),
        ScheduleDefinition(
            name="monthly_forecast",
            job=by_name["forecast"],
            cron_schedule="0 6 2 * *",  # the 2nd, 06:00 UTC: the month closed, loaded
            execution_timezone="UTC",
            default_status=DefaultScheduleStatus.STOPPED,
        ),
    ]
