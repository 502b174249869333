"""Deal scoring: no leakage, sensible behaviour, an honest comparison with the baselines."""

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
from crmlens.contracts import OPEN_STAGES
from crmlens.warehouse import connect
from features import opportunity
from models.common.explain import sentences
from models.common.scoring import MODEL_PATH, RULE_PATH, score
from models.common.training import train
from models.deal_scoring import FAMILY, risk, rule_points

SCORED_AT = datetime(2026, 11, 1)


@pytest.fixture(scope="module")
def deal_outcome(small_staged: Path):
    con = connect(small_staged)
    features = opportunity.build(con, opportunity.training_snapshots(con, data_today(con)))
    con.close()
    frame = features.frame
    return features, train(FAMILY, features, frame["label"].to_numpy(), frame["as_of"].to_numpy())


# --- the model against its baselines --------------------------------------------------------


def test_the_learned_models_beat_the_crm_stage_score(deal_outcome):
    _, outcome = deal_outcome
    assert outcome.trained and outcome.split.kind == "time"
    auc = {m: outcome.test_metric(m, "roc_auc") for m in outcome.metrics}
    assert auc["logistic_regression"] > auc["rule_based"] + 0.02
    assert auc["lightgbm"] > auc["rule_based"]
    assert outcome.test_metric(outcome.model.kind, "roc_auc") > auc["rule_based"]
    assert outcome.test_metric("lightgbm", "lift_top_decile") > 2.0


def test_lightgbm_beats_the_rule_based_score(deal_outcome):
    _, outcome = deal_outcome
    auc = {m: outcome.test_metric(m, "roc_auc") for m in outcome.metrics}
    assert auc["lightgbm"] > auc["rule_based"] + 0.01
    assert outcome.test_metric("lightgbm", "lift_top_decile") > outcome.test_metric(
        "rule_based", "lift_top_decile"
    )


@pytest.mark.xfail(
    strict=True,
    reason="the issue's target, not met on the small CRM (seed 42): LightGBM test ROC AUC "
    "0.835 vs a careful logistic regression 0.842 (rule 0.790; the difference's 95 % "
    "deal-bootstrap interval -0.026 to +0.010, a statistical tie), ECE 0.035 on 564 test "
    "deals, where a perfectly calibrated model shows 0.034 on average by chance (95th "
    "percentile 0.050): 0.03 is below the noise of this test set. Only 460 deals train "
    "(each deal's labels settle 180 days before the test period), and the generator's win "
    "logit adds up log-rates, which a logistic regression fits with fewer examples than "
    "trees need. No LightGBM setting checked (leaves, rate, leaf size, L2, extra trees, "
    "linear trees, AUC early stopping) ranks the test deals above the regression.",
)
def test_lightgbm_beats_the_logistic_regression_with_calibrated_probabilities(deal_outcome):
    _, outcome = deal_outcome
    auc = {m: outcome.test_metric(m, "roc_auc") for m in outcome.metrics}
    assert auc["lightgbm"] > auc["logistic_regression"]
    assert outcome.test_metric("lightgbm", "ece") < 0.03


def test_the_calibration_error_is_what_chance_gives_a_calibrated_model(deal_outcome):
    # The validation is one short window of a few hundred deals whose won rate is off from
    # the test period's; calibrated there alone, the scores ran high (ECE 0.057, beyond what
    # chance gives). Calibrated on every fitted deal's out-of-sample score, the error is
    # within what a perfectly calibrated model shows on these test deals by chance.
    _, outcome = deal_outcome
    assert outcome.model.kind == "lightgbm"
    chance = outcome.params["test_ece_by_chance_95"]
    assert 0 < outcome.params["test_ece_by_chance_mean"] < chance
    assert outcome.test_metric("lightgbm", "ece") <= chance
    valid, test = (outcome.params[f"{p}_weighted_positive_rate"] for p in ("valid", "test"))
    mean_predicted = np.average(
        outcome.test_predictions["lightgbm"], weights=outcome.split.weight("test")
    )
    assert abs(mean_predicted - test) < abs(valid - test)


def test_no_label_used_in_fitting_is_settled_in_the_test_period(deal_outcome):
    features, outcome = deal_outcome
    frame = features.frame
    fitted = np.concatenate([outcome.split.train, outcome.split.valid])
    test_start = outcome.split.test_start
    assert (frame["label_known_at"].to_numpy()[fitted] <= np.datetime64(test_start)).all()
    assert (frame["as_of"].to_numpy()[outcome.split.test] >= np.datetime64(test_start)).all()


# --- behaviour ----------------------------------------------------------------------------------


def _add_recent_activity(con, deals: pl.DataFrame, today: datetime) -> None:
    """Log two calls, two e-mails and a meeting on each deal in the 10 days before ``today``,
    with the person the deal last dealt with (so the people involved stay the same)."""
    con.register("_deals", deals.select("opportunity_id"))
    con.execute(
        """
        insert into raw.activities by name
        select 'TEST-' || o.opportunity_id || '-' || k.day as activity_id,
               k.kind as activity_type, o.account_id, c.contact_id, o.opportunity_id,
               o.owner_user_id as user_id,
               cast($today as timestamp) - to_days(k.day + 1) + interval 10 hour as occurred_at
        from raw.opportunities o
        join _deals using (opportunity_id)
        left join (
            select opportunity_id, arg_max(contact_id, occurred_at) as contact_id
            from raw.activities where contact_id is not null group by opportunity_id
        ) c using (opportunity_id)
        cross join (values (0, 'call'), (1, 'email'), (3, 'call'), (5, 'email'), (8, 'meeting'))
            as k(day, kind)
        """,
        {"today": today},
    )
    con.unregister("_deals")


def test_more_recent_activity_raises_the_win_probability_and_the_reasons_say_so(
    deal_outcome, small_staged, tmp_path: Path
):
    features, outcome = deal_outcome
    model = outcome.model
    path = tmp_path / "w.duckdb"
    shutil.copy(small_staged, path)
    con = connect(path)
    today = data_today(con)
    population = opportunity.build(con, opportunity.scoring_population(con, today)).frame
    # Deals in the range the model learned from (young enough to close within the horizon):
    # some being worked, and some gone quiet for two weeks.
    young = population.filter(pl.col("deal_age_days").is_between(7, 120))
    p = model.predict_proba(young)
    worked = young.filter(
        pl.col("activities_14d").is_between(1, 3) & pl.Series((p > 0.05) & (p < 0.8))
    )
    quiet = young.filter((pl.col("activities_14d") == 0) & (pl.col("deal_age_days") >= 14))
    assert worked.height >= 20 and quiet.height >= 5
    _add_recent_activity(con, pl.concat([worked, quiet], how="diagonal_relaxed"), today)
    busier = opportunity.build(con, worked.select("opportunity_id", "as_of")).frame
    revived = opportunity.build(con, quiet.select("opportunity_id", "as_of")).frame
    con.close()

    assert (busier["activities_14d"] == worked["activities_14d"] + 5).all()
    assert (busier["stakeholders"] == worked["stakeholders"]).all()
    before, after = model.predict_proba(worked), model.predict_proba(busier)
    assert (after < before).mean() <= 0.05
    assert (after > before).mean() >= 0.75
    assert (after - before).mean() > 0.05

    scored = score(
        FAMILY,
        dataclasses.replace(features, frame=busier),
        model,
        model_version="t",
        run_id="t",
        scored_at=SCORED_AT,
    )
    assert set(scored["scoring_path"]) == {MODEL_PATH}
    # The deal the activity helped most says so, in the words of the change.
    most = int(np.argmax(after - before))
    activity = [r for r in json.loads(scored["reasons"][most]) if r["group"] == "activity"]
    assert activity and activity[0]["direction"] == "up"
    n = busier["activities_14d"][most]
    assert activity[0]["text"] == f"{n} activities in the last 14 days, last contact yesterday"

    # A deal that went quiet loses its "no activity in 14 days" flag once it is worked again.
    flags = {
        name: [json.loads(f) for f in frame.select(risk_flags=risk.risk_flags())["risk_flags"]]
        for name, frame in (("quiet", quiet), ("revived", revived))
    }
    assert all("no_activity_14d" in f for f in flags["quiet"])
    assert not any("no_activity_14d" in f for f in flags["revived"])


def test_an_irrelevant_attribute_leaves_the_score(deal_outcome, small_staged, tmp_path: Path):
    _, outcome = deal_outcome
    path = tmp_path / "w.duckdb"
    shutil.copy(small_staged, path)
    con = connect(path)
    population = opportunity.scoring_population(con, data_today(con))
    before = opportunity.build(con, population).frame
    # What a deal is called, its currency code and the forecast category a rep picked
    # carry nothing the model may use.
    con.execute(
        "update raw.opportunities set name = 'Renamed ' || name, currency = 'EUR', "
        "forecast_category = 'omitted'"
    )
    after = opportunity.build(con, population).frame
    con.close()
    assert before.height > 0 and after.equals(before)
    renamed = before.with_columns(opportunity_id=pl.lit("SOMEONE-ELSE"))
    assert (outcome.model.predict_proba(renamed) == outcome.model.predict_proba(before)).all()


# --- point in time --------------------------------------------------------------------------------


def test_features_ignore_everything_after_as_of(tiny_staged: Path, tmp_path: Path):
    path = tmp_path / "w.duckdb"
    shutil.copy(tiny_staged, path)
    con = connect(path)
    today = data_today(con)
    training = opportunity.training_snapshots(con, today)
    cut = training["as_of"].sort()[training.height // 2]
    later = cut + timedelta(days=60)
    snapshots = pl.concat(
        [
            training.filter(pl.col("as_of") <= cut).select("opportunity_id", "as_of", "label"),
            opportunity.scoring_population(con, cut).with_columns(label=pl.lit(None, pl.Int32)),
        ],
        how="vertical_relaxed",
    ).unique(["opportunity_id", "as_of"], keep="first")
    before = opportunity.build(con, snapshots).frame.sort("opportunity_id", "as_of")
    before_later = opportunity.build(con, opportunity.scoring_population(con, later)).frame
    assert before["activities_total"].sum() > 0 and before["stage_changes"].sum() > 0

    # Delete or change every row dated at or after the cut, which no snapshot may see...
    changed = 0
    for sql in (
        "delete from raw.opportunity_stage_history where changed_at >= $cut and hash(opportunity_id) % 2 = 0",
        "update raw.opportunity_stage_history set to_stage = 'negotiation', amount = amount / 2, "
        "expected_close_date = expected_close_date + 30 where changed_at >= $cut",
        "delete from raw.activities where occurred_at >= $cut and activity_type = 'call'",
        "update raw.activities set activity_type = 'note', contact_id = null where occurred_at >= $cut",
        "delete from raw.events where occurred_at >= $cut",
        "update raw.subscriptions set ended_at = null where ended_at >= $cut",
        "delete from raw.subscriptions where started_at >= $cut",
        # ...rewrite what the deal row says now if it changed after the cut (its final amount,
        # close date, forecast)...
        "update raw.opportunities set amount = amount * 3, "
        "expected_close_date = expected_close_date + 30, forecast_category = 'omitted', "
        "lost_reason = 'price' where updated_at >= $cut",
        # ...and the outcomes that came after it (the labels): other dates, other results.
        "update raw.opportunities set closed_at = closed_at + interval 10 day, is_won = not is_won, "
        "stage = case when is_won then 'closed_lost' else 'closed_won' end where closed_at >= $cut",
    ):
        changed += con.execute(sql, {"cut": cut}).fetchone()[0]
    assert changed > 0
    after = opportunity.build(con, snapshots).frame.sort("opportunity_id", "as_of")
    after_later = opportunity.build(con, opportunity.scoring_population(con, later)).frame
    con.close()
    assert after.equals(before)
    # The changes were real: a snapshot 60 days later, which may see them, does.
    assert not after_later.equals(before_later)


def test_snapshots_are_open_deals_with_outcomes_inside_the_horizon(small_staged: Path):
    con = connect(small_staged)
    today = data_today(con)
    snapshots = opportunity.training_snapshots(con, today)
    deals = con.sql(
        "select opportunity_id, created_at, closed_at, is_won, amount as final_amount "
        "from staging.stg_crm__opportunities"
    ).pl()
    features = opportunity.build(con, snapshots.head(3000)).frame
    con.close()
    joined = snapshots.join(deals, on="opportunity_id")
    horizon = timedelta(days=FAMILY.horizon_days)
    assert (joined["as_of"] == joined["as_of"].dt.truncate("1d")).all()
    assert (joined["created_at"] < joined["as_of"]).all()
    assert (joined["closed_at"] >= joined["as_of"]).all()
    assert (joined["closed_at"] < joined["as_of"] + horizon).all()
    assert (joined["as_of"] + horizon <= today).all()
    assert (joined["label"] == joined["is_won"].cast(pl.Int32)).all()
    assert snapshots["as_of"].n_unique() > 20 and 0.15 < snapshots["label"].mean() < 0.6
    # The amount is what the history knew then, not the row's final (discounted) amount.
    compared = features.join(deals, on="opportunity_id").filter(pl.col("amount").is_not_null())
    assert (compared["amount"] != compared["final_amount"]).sum() > 0
    assert compared["stage"].is_in(list(OPEN_STAGES)).all()


# --- cold start and the rule ---------------------------------------------------------------------


def test_the_cold_start_gate_falls_back_to_the_rule_and_says_so(tiny_staged: Path):
    con = connect(tiny_staged)
    today = data_today(con)
    features = opportunity.build(con, opportunity.training_snapshots(con, today))
    population = opportunity.build(con, opportunity.scoring_population(con, today))
    con.close()
    frame = features.frame
    outcome = train(FAMILY, features, frame["label"].to_numpy(), frame["as_of"].to_numpy())
    assert not outcome.trained
    assert "not enough history" in outcome.gate.reason
    assert "positive < 200" in outcome.gate.reason and "negative < 200" in outcome.gate.reason

    scored = score(FAMILY, population, None, model_version=None, run_id="r", scored_at=SCORED_AT)
    assert scored.height == population.frame.height > 0
    assert set(scored["scoring_path"]) == {RULE_PATH}
    assert scored["score"].is_between(0, 100).all()
    assert scored.filter(pl.col("reasons") != "[]").height > 0
    assert all(isinstance(json.loads(f), list) for f in scored["risk_flags"])


def test_rule_points_follow_the_issue_arithmetic():
    frame = pl.DataFrame(
        {
            "stage": ["negotiation", "prospecting", "proposal", "qualification", "needs_analysis"],
            "amount": [60_000.0, None, 30_000.0, 25_000.0, 50_000.0],
            "days_since_last_contact": [3.0, None, 10.0, 7.0, 0.5],
        }
    )
    # 80 + 10 + 5; 10; 60 + 5 (over 25,000); 20 + 0 (not over 25,000) + 5; 40 + 5 + 5
    assert rule_points(frame).tolist() == [95, 10, 65, 25, 50]


def test_sentences_flags_and_actions_read_as_a_salesperson_would_say_them():
    frame = pl.DataFrame(
        {
            "stage": ["negotiation", "qualification"],
            "stage_rank": [5, 2],
            "stage_changes": [4, 1],
            "days_in_stage": [23.2, 3.0],
            "stage_p75_days": [16.0, 12.0],
            "deal_age_days": [60.0, 20.0],
            "close_date_pushes": [2, 0],
            "days_to_expected_close": [-5.0, 40.0],
            "amount": [60_000.0, 12_000.0],
            "amount_change_pct": [-15.0, 0.0],
            "activities_14d": [0, 3],
            "days_since_last_contact": [20.0, 2.0],
            "stakeholders": [3, 1],
            "competitor": ["Acme", None],
            "owner_win_rate": [0.34, 0.25],
            "owner_closed_deals": [30, 2],
            "score": [40, 55],
        }
    )
    groups = [
        "time_in_stage",
        "close_date_pushes",
        "activity",
        "stakeholders",
        "competitor",
        "discount",
        "owner",
    ]
    text = sentences(FAMILY, frame, groups).rows(named=True)
    assert text[0] == {
        "time_in_stage": "In negotiation for 23 days (longer than 3 in 4 deals)",
        "close_date_pushes": "Close date pushed twice",
        "activity": "No activity in the last 14 days",
        "stakeholders": "3 people from the buyer engaged",
        "competitor": "Competing with Acme",
        "discount": "Amount cut by 15 % since it was opened",
        "owner": "Owner wins 34 % of the deals they close",
    }
    assert text[1]["activity"] == "3 activities in the last 14 days, last contact 2 days ago"
    assert text[1]["stakeholders"] == "Only 1 person from the buyer engaged"

    out = frame.with_columns(probability=pl.col("score") / 100).select(
        action=FAMILY.next_action(), **FAMILY.extra_outputs()
    )
    # risk: 70 × the chance of losing + 7.5 per flag
    loss = [70 * (1 - s / 100) for s in frame["score"].to_list()[:2]]
    assert out["risk_score"].to_list()[:2] == pytest.approx(
        [loss[0] + 22.5, loss[1] + 7.5], abs=0.5
    )
    assert json.loads(out["risk_flags"][0]) == [
        "no_activity_14d",
        "stage_over_p75",
        "close_date_pushed_twice",
    ]
    assert json.loads(out["risk_flags"][1]) == ["single_contact"]
    assert out["action"].to_list() == [
        "Book a meeting with the decision maker this week",
        "Bring in a second stakeholder",
    ]
