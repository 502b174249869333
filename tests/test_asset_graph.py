"""A snapshot of the asset graph: a rename or a lost dependency shows up here in review."""

from __future__ import annotations

from pipelines.definitions import defs

EXPECTED_INGEST = {
    "raw/teams": [],
    "raw/users": [],
    "raw/accounts": [],
    "raw/contacts": [],
    "raw/leads": [],
    "raw/opportunities": [],
    "raw/opportunity_stage_history": ["raw/opportunities"],
    "raw/activities": [],
    "raw/campaigns": [],
    "raw/campaign_members": ["raw/campaigns"],
    "raw/subscriptions": [],
    "raw/invoices": [],
    "raw/tickets": [],
    "raw/events": ["raw/contacts"],
    "context/series": [],  # the spec's context series; every family's features read them
}


def _graph() -> dict[str, dict]:
    graph = {}
    for spec in defs.resolve_all_asset_specs():
        graph[spec.key.to_user_string()] = {
            "group": spec.group_name,
            "deps": sorted(d.asset_key.to_user_string() for d in spec.deps),
            "partitioned": spec.partitions_def is not None,
        }
    return graph


def test_ingest_assets_keys_groups_and_dependencies():
    graph = _graph()
    ingest = {k: v for k, v in graph.items() if v["group"] == "ingest"}
    assert {k: v["deps"] for k, v in ingest.items()} == EXPECTED_INGEST
    assert [k for k, v in ingest.items() if v["partitioned"]] == ["raw/events"]


def _job_assets(name: str) -> set[str]:
    job = defs.resolve_job_def(name)
    return {k.to_user_string() for k in job.asset_layer.selected_asset_keys}


def test_jobs_and_what_they_run():
    assert {job.name for job in defs.resolve_all_job_defs()} >= {
        "ingest",
        "daily",
        "train",
        "score",
        "forecast",
    }
    daily, score, forecast = _job_assets("daily"), _job_assets("score"), _job_assets("forecast")
    assert {"raw/events", "marts/fct_opportunities", "ml/lead_scores", "serving/snapshot"} <= daily
    assert "publish/revenue_forecast" not in daily | score  # the monthly job publishes it
    assert not any(k.startswith("ml/") and k.endswith("_champion") for k in daily | score)
    assert {"ml/revenue_forecast", "ml/forecast_accuracy", "publish/revenue_forecast"} <= forecast
    assert "serving/snapshot" in forecast
    # a replay rebuilds the training sets it reads and changes nothing that is published
    backtest = _job_assets("backtest")
    assert backtest == {
        *(f"ml/{f}_backtest" for f in ("lead_scoring", "deal_scoring", "churn")),
        *(f"features/{e}_training_set" for e in ("lead", "opportunity", "account")),
    }


def test_schedules_are_stopped_until_a_deployment_turns_them_on():
    from dagster import DefaultScheduleStatus

    schedules = {s.name: s for s in defs.schedules}
    assert set(schedules) == {"daily_ingest_transform_score", "weekly_retrain", "monthly_forecast"}
    assert schedules["monthly_forecast"].cron_schedule == "0 6 2 * *"
    assert schedules["weekly_retrain"].job_name == "train"
    for schedule in schedules.values():
        assert schedule.default_status == DefaultScheduleStatus.STOPPED


def test_the_whole_graph_materializes_on_the_tiny_crm(tiny_home):
    """The demo's jobs, in order, on the tiny CRM (the session fixture runs them) leave
    no asset of the graph unmaterialized (external ones, such as ops.ingest_log as a dbt
    source, are written by other assets and have nothing to materialize), but for the
    replays, which run on demand (`crmlens backtest`, tests/test_replay.py)."""
    import json

    graph = defs.resolve_asset_graph()
    every = {key.to_user_string() for key in graph.materializable_asset_keys}
    on_demand = {f"ml/{family}_backtest" for family in ("lead_scoring", "deal_scoring", "churn")}
    assert on_demand <= every
    every -= on_demand
    assert len(every) > 60
    materialized = set(json.loads((tiny_home / "materialized.json").read_text()))
    assert every - materialized == set()
