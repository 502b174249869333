"""Suggested tasks, component scores and deal risk: what the CRMs route on beside the score."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from crmlens.publish.contract import score_table
from crmlens.settings import get_settings
from crmlens.warehouse import session
from models import tasks
from models.common import components
from models.common.routing import route
from models.deal_scoring import risk
from models.lead_scoring import FAMILY as LEADS

TODAY = datetime(2026, 11, 20)


def _scored(**columns) -> pl.DataFrame:
    rows = len(next(iter(columns.values())))
    base = {
        "entity_id": [f"E{i}" for i in range(rows)],
        "name": [f"Company {i}" for i in range(rows)],
        "owner_id": ["U1"] * rows,
        "score": [80] * rows,
        "reasons": ['[{"text": "Requested a demo today", "direction": "up"}]'] * rows,
        "as_of": [TODAY] * rows,
        "valid_until": [TODAY + timedelta(days=1)] * rows,
        "contactable": [True] * rows,
    }
    return pl.DataFrame(base | columns)


# ------------------------------------------------------------------ tasks


def test_a_next_action_that_is_a_persons_job_becomes_a_task_with_a_due_date():
    scored = _scored(
        next_action=["Call today", "Follow up this week", "Leave with marketing"],
    )
    found, blocked = tasks.suggest("lead", scored, scored_at=TODAY, run_id="r1")
    assert blocked == 0
    assert found.height == 2  # marketing's action is no rep's task
    first = found.row(0, named=True)
    assert first["task_type"] == "call" and first["priority"] == "high"
    assert first["due_date"] == TODAY.date()
    assert first["expires_at"] == TODAY + timedelta(days=tasks.EXPIRES_AFTER_DAYS)
    assert first["subject"] == "Call today — Company 0"
    assert first["reason"] == "Lead score: 80/100. Requested a demo today."
    assert found["due_date"][1] == TODAY.date() + timedelta(days=5)
    assert list(found.columns) == list(score_table("suggested_tasks").columns)


def test_nobody_marked_do_not_contact_or_not_opted_in_gets_a_contact_task():
    scored = _scored(
        next_action=["Escalate the open urgent tickets", "Book an adoption session with the users"],
        contactable=[False, False],
    )
    found, blocked = tasks.suggest("account", scored, scored_at=TODAY, run_id="r1")
    assert blocked == 1
    assert found["task_type"].to_list() == ["review"]  # an internal task still stands


def test_task_ids_are_stable_across_runs_and_differ_per_action():
    scored = _scored(next_action=["Call today", "Confirm the demo date"])
    one, _ = tasks.suggest("lead", scored, scored_at=TODAY, run_id="r1")
    two, _ = tasks.suggest("lead", scored, scored_at=TODAY + timedelta(hours=5), run_id="r2")
    assert one["task_id"].to_list() == two["task_id"].to_list()
    assert one["task_id"].n_unique() == 2


def test_a_deal_at_high_risk_is_a_high_priority_task():
    scored = _scored(
        next_action=["Book the next meeting to move it forward"] * 2,
        risk_level=["high", "low"],
    )
    found, _ = tasks.suggest("opportunity", scored, scored_at=TODAY, run_id="r1")
    assert found["priority"].to_list() == ["high", "medium"]


# ------------------------------------------------------------------ deal risk


def test_deal_risk_weighs_the_chance_of_losing_and_the_warning_signs():
    frame = pl.DataFrame(
        {
            "probability": [0.9, 0.2, 0.5],
            "deal_age_days": [30, 30, 3],
            "activities_14d": [3, 0, 0],
            "days_in_stage": [5, 90, 1],
            "stage_p75_days": [20, 30, 20],
            "close_date_pushes": [0, 3, 0],
            "stakeholders": [3, 1, 1],
        }
    )
    got = frame.select(score=risk.risk_score(), level=risk.risk_level())
    assert got["score"].to_list() == [7, 86, 35]  # 70·0.1; 70·0.8 + 4·7.5; 70·0.5
    assert got["level"].to_list() == ["low", "high", "medium"]


def test_the_risk_trend_rises_and_falls_with_the_published_risk():
    scores = pl.DataFrame(
        {
            "opportunity_id": ["A", "B", "C", "D"],
            "score": [50, 50, 50, 50],
            "scoring_path": ["model"] * 4,
            "risk_score": [80, 20, 50, 50],
        }
    )
    history = pl.DataFrame(
        {
            "opportunity_id": ["A", "B", "C"],
            "as_of": [TODAY - timedelta(days=8)] * 3,
            "score": [50, 50, 50],
            "scoring_path": ["model"] * 3,
            "risk_score": [50, 50, 52],
        }
    )
    routed = route(
        scores, history, qualifies=False, score_is_risk=False, id_column="opportunity_id",
        today=TODAY,
    )  # fmt: skip
    assert routed["risk_trend"].to_list() == ["rising", "falling", "steady", "not enough history"]


# ------------------------------------------------------------------ lead components


def test_rule_components_are_the_share_of_their_points_earned():
    parts = {
        "company": np.array([15.0, 0.0]),
        "seniority": np.array([0.0, 0.0]),
        "decision_maker": np.array([5.0, 0.0]),
        "demo_request": np.array([15.0, 0.0]),
        "pricing_view": np.array([10.0, 0.0]),
        "email_open": np.array([0.0, 7.5]),
    }
    got = components.from_rule_parts(LEADS, parts, 2)
    assert list(got) == ["fit_score", "engagement_score", "intent_score"]
    assert got["fit_score"].tolist() == [100.0, 0.0]
    assert got["intent_score"].tolist() == [62.5, 0.0]
    assert got["engagement_score"].tolist() == [0.0, 30.0]


def test_model_components_are_the_sigmoid_of_their_contributions():
    groups = ["company", "email_open", "demo_request", "source"]
    grouped = np.array([[0.0, np.log(4.0), -np.log(4.0), 3.0]])
    got = components.from_contributions(LEADS, groups, grouped)
    assert got["fit_score"][0] == pytest.approx(50.0)  # neither raises nor lowers
    assert got["engagement_score"][0] == pytest.approx(80.0)  # odds × 4
    assert got["intent_score"][0] == pytest.approx(20.0)  # odds ÷ 4


def test_a_trained_model_publishes_components_that_follow_its_contributions(small_staged: Path):
    from crmlens.clock import data_today
    from crmlens.warehouse import connect
    from features import lead
    from models.common.explain import feature_groups
    from models.common.scoring import score
    from models.common.training import train

    con = connect(small_staged)
    today = data_today(con)
    features = lead.build(con, lead.training_snapshots(con, today))
    population = lead.build(con, lead.scoring_population(con, today))
    con.close()
    frame = features.frame
    model = train(LEADS, features, frame["label"].to_numpy(), frame["as_of"].to_numpy()).model
    scored = score(LEADS, population, model, model_version="1", run_id="r", scored_at=today)
    groups, assign = feature_groups(LEADS, model.layout.columns)
    grouped = model.contributions(population.frame)[:, :-1] @ assign
    for name, members in LEADS.components.items():
        at = [i for i, g in enumerate(groups) if g in members]
        expected = np.rint(100 / (1 + np.exp(-grouped[:, at].sum(axis=1))))
        assert np.array_equal(scored[f"{name}_score"].to_numpy(), expected), name
        # a component that raises the odds goes with a higher combined score
        corr = np.corrcoef(scored[f"{name}_score"], scored["probability"])[0, 1]
        print(f"small CRM {name}_score: mean {scored[f'{name}_score'].mean():.1f}, corr {corr:.2f}")
    assert scored.select(pl.col("^.*_score$").is_between(0, 100).all()).row(0) == (True,) * 3


# ------------------------------------------------------------------ through the pipeline


@pytest.fixture
def home(tiny_home_copy: Path) -> Path:
    return tiny_home_copy


def test_the_score_job_publishes_tasks_that_respect_consent(home: Path, tiny_crm: Path):
    from dagster import DagsterInstance

    from pipelines.run import run_job

    settings = get_settings(home=home, source_spec=tiny_crm / "source_spec.yml")
    with session(settings.warehouse_path) as con:
        before = con.sql("select * from publish.suggested_tasks").pl()
        assert before.height > 0
        assert list(before.columns) == list(score_table("suggested_tasks").columns)
        # Every contact of the accounts of today's deal tasks now says do-not-contact.
        blocked = con.sql(
            "select distinct o.account_id from publish.suggested_tasks t "
            "join marts.fct_opportunities o on t.entity_id = o.opportunity_id "
            "where t.entity_type = 'opportunity' and t.task_type in ('call', 'meeting') "
            "and o.account_id in (select account_id from staging.stg_crm__contacts)"
        ).pl()["account_id"]
        assert blocked.len() > 0
        con.execute(
            "update raw.contacts set do_not_contact = true where account_id in (select unnest(?))",
            [blocked.to_list()],
        )
    result = run_job(settings, "score", instance=DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success
    with session(settings.warehouse_path, read_only=True) as con:
        after = con.sql(
            "select t.*, o.account_id from publish.suggested_tasks t left join "
            "marts.fct_opportunities o on t.entity_id = o.opportunity_id"
        ).pl()
    contacting = after.filter(
        pl.col("account_id").is_in(blocked.to_list()) & pl.col("task_type").is_in(tasks.CONTACTS)
    )
    assert contacting.is_empty()
    assert after.height < before.height
    assert after["due_date"].min() >= after["as_of"].min().date()
    print("tiny CRM tasks:", dict(after.group_by("entity_type").len().iter_rows()))


def test_on_the_rule_path_one_leads_change_moves_only_its_own_row(tiny_staged: Path):
    """Grades and reasons are judged against the rule's reference population, not
    today's average, so a CRM that receives only changed rows receives one."""
    from crmlens.clock import data_today
    from crmlens.warehouse import connect
    from features import lead
    from features.common import FeatureSet
    from models.common.scoring import score

    con = connect(tiny_staged)
    today = data_today(con)
    population = lead.build(con, lead.scoring_population(con, today))
    con.close()
    frame = population.frame
    assert frame.height > 100
    changed = frame.with_columns(
        demo_request_90d=pl.when(pl.int_range(pl.len()) == 7)
        .then(pl.lit(3))
        .otherwise(pl.col("demo_request_90d"))
    )
    kwargs = {"model_version": None, "run_id": "r", "scored_at": today, "rule_reference": frame}
    before = score(LEADS, population, None, **kwargs)
    after = score(LEADS, dataclasses.replace(population, frame=changed), None, **kwargs)
    assert isinstance(population, FeatureSet)
    content = ["score", "grade", "band", "reasons", "fit_score", "engagement_score", "intent_score"]
    differs = (
        before.select(content)
        .with_row_index()
        .join(after.select(content).with_row_index(), on="index", suffix="_after")
        .filter(pl.any_horizontal(pl.col(c) != pl.col(f"{c}_after") for c in content))
    )
    assert differs["index"].to_list() == [7]
    # Without the reference (today's average), the same change moves other rows' reasons.
    loose = score(
        LEADS,
        dataclasses.replace(population, frame=changed),
        None,
        **{**kwargs, "rule_reference": None},
    )
    moved = (loose["reasons"] != before["reasons"]).sum()
    print("rows whose reasons move without a reference:", moved)
