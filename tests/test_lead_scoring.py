"""Lead scoring: no leakage, sensible behaviour, honest comparison with the baselines."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from crmlens.clock import data_today
from crmlens.warehouse import connect
from features import lead
from models.common.family import Gate
from models.common.promotion import decide
from models.common.scoring import RULE_PATH, score
from models.common.training import train
from models.lead_scoring import FAMILY, rule_points


@pytest.fixture(scope="module")
def small_outcome(small_staged: Path):
    con = connect(small_staged)
    features = lead.build(con, lead.training_snapshots(con, data_today(con)))
    con.close()
    frame = features.frame
    return features, train(FAMILY, features, frame["label"].to_numpy(), frame["as_of"].to_numpy())


def test_lightgbm_beats_both_baselines_on_the_time_split_test_set(small_outcome):
    _, outcome = small_outcome
    assert outcome.split.kind == "time"
    auc = {m: outcome.test_metric(m, "roc_auc") for m in outcome.metrics}
    assert auc["lightgbm"] > auc["rule_based"] + 0.05
    assert auc["lightgbm"] > auc["logistic_regression"]
    assert outcome.test_metric("lightgbm", "ece") < 0.03
    assert outcome.test_metric("lightgbm", "lift_top_decile") > 2.0


def test_no_label_used_in_fitting_comes_from_the_test_period(small_outcome):
    features, outcome = small_outcome
    frame = features.frame
    settled = frame["label_known_at"].to_numpy()
    fitted = np.concatenate([outcome.split.train, outcome.split.valid])
    test_start = np.datetime64(outcome.split.test_start)
    assert (settled[fitted] <= test_start).all()
    assert (frame["as_of"].to_numpy()[outcome.split.test] >= test_start).all()
    # ...and no lead both trains and validates (its snapshots share one outcome)
    ids = frame["lead_id"].to_numpy()
    assert not set(ids[outcome.split.train]) & set(ids[outcome.split.valid])
    # a conversion settles the label at once, not only after the horizon
    horizon = np.timedelta64(timedelta(days=FAMILY.horizon_days))
    assert (settled < frame["as_of"].to_numpy() + horizon).any()


def _one_open_lead(small_staged: Path, model) -> pl.DataFrame:
    """A young open lead in the model's working range, with no pricing views lately."""
    con = connect(small_staged)
    today = data_today(con)
    population = lead.scoring_population(con, today)
    features = lead.build(con, population).frame
    con.close()
    candidates = features.filter((pl.col("pricing_view_30d") == 0) & (pl.col("lead_age_days") < 60))
    p = model.predict_proba(candidates)
    return candidates.filter(pl.Series((p > 0.03) & (p < 0.4))).head(1)


def test_more_engagement_raises_the_score_and_the_reasons_say_why(small_outcome, small_staged):
    features, outcome = small_outcome
    row = _one_open_lead(small_staged, outcome.model)
    assert row.height == 1
    viewed = row.with_columns(
        pricing_view_7d=pl.lit(3),
        pricing_view_30d=pl.lit(4),
        pricing_view_90d=pl.lit(4),
        days_since_pricing_view=pl.lit(2.0),
    )
    asked = viewed.with_columns(
        demo_request_7d=pl.lit(1),
        demo_request_30d=pl.lit(1),
        demo_request_90d=pl.lit(1),
        days_since_demo_request=pl.lit(2.0),
    )
    # More engagement never lowers the score (a tree may ignore one signal locally, and the
    # isotonic calibration is a step function); pricing views and a demo request raise it.
    raw = [outcome.model.raw_probability(frame)[0] for frame in (row, viewed, asked)]
    p = [outcome.model.predict_proba(frame)[0] for frame in (row, viewed, asked)]
    assert raw[0] <= raw[1] < raw[2]
    assert p[0] <= p[1] < p[2]
    scored = score(
        FAMILY,
        dataclasses.replace(features, frame=asked),
        outcome.model,
        model_version="t",
        run_id="t",
        scored_at=datetime(2026, 11, 1),
    )
    reasons = json.loads(scored["reasons"][0])
    demo = [r for r in reasons if r["group"] == "demo_request"]
    assert demo and demo[0]["direction"] == "up"
    assert demo[0]["text"] == "Requested a demo 2 days ago"
    # a fresh demo request is acted on whatever the score
    assert scored["next_action"][0] in ("Book the demo they asked for", "Confirm the demo date")


def test_an_irrelevant_attribute_leaves_the_score(small_outcome, small_staged):
    _, outcome = small_outcome
    row = _one_open_lead(small_staged, outcome.model)
    assert row.height == 1
    renamed = row.with_columns(lead_id=pl.lit("SOMEONE-ELSE"))
    assert outcome.model.predict_proba(renamed)[0] == outcome.model.predict_proba(row)[0]


def test_features_ignore_everything_after_as_of(tiny_staged: Path, tmp_path: Path):
    path = tmp_path / "w.duckdb"
    shutil.copy(tiny_staged, path)
    con = connect(path)
    all_snapshots = lead.training_snapshots(con, data_today(con))
    cut = all_snapshots["as_of"].sort()[all_snapshots.height // 2]
    snapshots = all_snapshots.filter(pl.col("as_of") <= cut).sample(300, seed=1)
    before = lead.build(con, snapshots).frame.sort("lead_id", "as_of")
    assert before["events_total"].sum() > 0 and before["activities_total"].sum() > 0
    # Change or delete every row dated at or after the cut, which no snapshot may see...
    con.execute("delete from raw.events where occurred_at >= ?", [cut])
    con.execute("update raw.activities set activity_type = 'note' where occurred_at >= ?", [cut])
    con.execute("delete from raw.campaign_members where enrolled_at >= ?", [cut])
    # ...and move conversions that happened after it (the label) elsewhere after it.
    con.execute(
        "update raw.leads set converted_at = converted_at + interval 7 day where converted_at >= ?",
        [cut],
    )
    after = lead.build(con, snapshots).frame.sort("lead_id", "as_of")
    con.close()
    assert after.equals(before)


def test_hours_to_first_response_ignores_activities_after_as_of(tiny_staged: Path, tmp_path: Path):
    """The feature reads int_lead_touches, whose first rep activity is of all time: rebuilt
    without the activities after a cut, it gives the snapshots before the cut the same hours."""
    from tests.dbt_support import run_dbt

    path = tmp_path / "w.duckdb"
    shutil.copy(tiny_staged, path)
    con = connect(path)
    all_snapshots = lead.training_snapshots(con, data_today(con))
    cut = all_snapshots["as_of"].sort()[all_snapshots.height // 2]
    snapshots = all_snapshots.filter(pl.col("as_of") <= cut)
    before = lead.build(con, snapshots).frame.sort("lead_id", "as_of")
    later = "select count(*) from intermediate.int_lead_touches where first_rep_activity_at >= ?"
    assert con.execute(later, [cut]).fetchone()[0] > 0
    con.execute("delete from raw.activities where occurred_at >= ?", [cut])
    con.close()
    run_dbt(path, ["run", "--select", "int_lead_touches"])
    con = connect(path)
    assert con.execute(later, [cut]).fetchone()[0] == 0
    after = lead.build(con, snapshots).frame.sort("lead_id", "as_of")
    con.close()
    assert before["hours_to_first_response"].drop_nulls().len() > 0
    assert after["hours_to_first_response"].equals(before["hours_to_first_response"])


def test_the_cold_start_gate_falls_back_to_the_rule_and_says_so(tiny_staged: Path):
    con = connect(tiny_staged)
    features = lead.build(con, lead.training_snapshots(con, data_today(con)))
    population = lead.build(con, lead.scoring_population(con, data_today(con)))
    con.close()
    strict = dataclasses.replace(FAMILY, gate=Gate(10**6, 10**5, 10**5))
    frame = features.frame
    outcome = train(strict, features, frame["label"].to_numpy(), frame["as_of"].to_numpy())
    assert not outcome.trained and "not enough history" in outcome.gate.reason
    scored = score(
        strict, population, None, model_version=None, run_id="r", scored_at=datetime(2026, 1, 1)
    )
    assert scored.height == population.frame.height > 0
    assert set(scored["scoring_path"]) == {RULE_PATH}
    assert (scored["score"].is_between(0, 100)).all()
    assert scored.filter(pl.col("reasons") != "[]").height > 0


def test_rule_points_follow_the_crm_recipe():
    frame = pl.DataFrame(
        {
            "email_open_30d": [20],  # 3 x 20 = 60, capped at 30
            "email_click_30d": [1],  # 10
            "email_reply_30d": [0],
            "activity_call_30d": [1],  # 5
            "seniority": ["vp"],  # 35
            "employee_count": [500],  # 30
            "industry": ["Software"],  # 20 -> fit 85
            "budget_confirmed": [True],  # 40
            "timeline": ["this_quarter"],  # 35
            "decision_maker": [True],  # 25 -> qualification 100
            "demo_request_90d": [1],  # 60
            "pricing_view_30d": [2],  # 20 -> intent 80
        }
    )
    expected = 0.25 * (30 + 10 + 0 + 5) + 0.15 * 85 + 0.20 * 100 + 0.25 * 80
    assert rule_points(frame)[0] == pytest.approx(expected)


def test_promotion_blocks_a_worse_challenger_and_passes_a_better_one(small_outcome):
    features, outcome = small_outcome
    frame = features.frame
    labels = frame["label"].to_numpy()
    shuffled = np.random.default_rng(0).permutation(labels)
    worse = train(FAMILY, features, shuffled, frame["as_of"].to_numpy())
    test = frame[outcome.split.test]
    y = labels[outcome.split.test]
    good, bad = (outcome.model, "2"), (worse.model, "3")

    assert decide(bad, good, test, y).promote is False
    assert decide(good, bad, test, y).promote is True
    assert decide(good, None, test, y).promote is True
    assert "AUC" in decide(bad, good, test, y).reason
