"""What CRMs route on in the score contract: confidence, qualification, trend."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from crmlens.publish.contract import score_table
from crmlens.settings import get_settings
from crmlens.warehouse import session
from models.common.routing import (
    EVIDENCE_BINS,
    calibration_evidence,
    confidence,
    evidence_bin,
    qualification,
    route,
    score_trend,
    wilson_half_width,
)

TODAY = datetime(2026, 11, 20)


# ------------------------------------------------------------------ confidence


def test_more_evidence_gives_a_narrower_interval_and_a_higher_confidence():
    p = np.full(4, 0.3)
    half = wilson_half_width(p, np.array([0.0, 20.0, 200.0, 5000.0]))
    assert half[0] == 50.0  # no calibration row: total ignorance
    assert list(half) == sorted(half, reverse=True)
    evidence = np.zeros(EVIDENCE_BINS)
    evidence[evidence_bin(np.array([0.3]))[0]] = 5000.0
    evidence[evidence_bin(np.array([0.6]))[0]] = 200.0
    evidence[evidence_bin(np.array([0.9]))[0]] = 20.0
    level, interval = confidence(np.array([0.3, 0.6, 0.9, 0.12]), "model", evidence)
    assert level.to_list() == ["high", "medium", "low", "low"]
    assert interval[0] < interval[1] < interval[2] < interval[3] == 50.0


def test_the_wilson_half_width_is_the_textbook_one():
    # 30 % of 100 rows: the 95 % Wilson interval is 0.2189 .. 0.3958
    assert wilson_half_width(np.array([0.3]), np.array([100.0]))[0] == pytest.approx(
        100 * (0.3958 - 0.2189) / 2, abs=0.05
    )


def test_calibration_evidence_counts_weighted_rows_per_bin():
    evidence = calibration_evidence(np.array([0.01, 0.02, 0.51, 1.0]), np.array([1, 0.5, 2, 1]))
    assert len(evidence) == EVIDENCE_BINS
    assert evidence[0] == 1.5 and evidence[10] == 2.0 and evidence[-1] == 1.0
    assert evidence.sum() == 4.5


def test_the_rule_and_the_base_rate_are_low_confidence_without_an_interval():
    for path in ("rule_based", "no_reliable_signal"):
        level, interval = confidence(np.array([0.5, 0.9]), path, np.full(EVIDENCE_BINS, 1e6))
        assert level.to_list() == ["low", "low"] and interval.null_count() == 2
    level, interval = confidence(np.array([0.5]), "model", None)  # an older champion
    assert level.null_count() == 1 and interval.null_count() == 1


# ------------------------------------------------------------------ qualification


def test_leads_qualify_on_the_published_score_never_on_the_base_rate():
    frame = pl.DataFrame(
        {
            "score": [10, 49, 50, 69, 70, 95, 95],
            "scoring_path": ["model"] * 6 + ["no_reliable_signal"],
        }
    )
    got = frame.select(qualification(50, 70)).to_series().to_list()
    assert got == ["none", "none", "MQL", "MQL", "SQL", "SQL", "none"]


def test_the_thresholds_come_from_settings_and_keep_their_order(monkeypatch):
    monkeypatch.setenv("CRMLENS_MQL_POINTS", "40")
    settings = get_settings()
    assert (settings.mql_points, settings.qualified_points) == (40, 70)
    with pytest.raises(ValueError, match="an SQL is an MQL first"):
        get_settings(mql_points=80, qualified_points=70)


# ------------------------------------------------------------------ trend


def _history(rows: list[tuple[str, int, int, str]]) -> pl.DataFrame:
    """(lead, score, days before TODAY, path) per published row."""
    return pl.DataFrame(
        {
            "lead_id": [r[0] for r in rows],
            "score": [r[1] for r in rows],
            "as_of": [TODAY - timedelta(days=r[2]) for r in rows],
            "scoring_path": [r[3] for r in rows],
        }
    )


def test_the_trend_compares_with_the_latest_score_at_least_a_week_old():
    scores = pl.DataFrame(
        {
            "lead_id": ["up", "flat", "down", "new", "young", "base"],
            "score": [60, 42, 30, 50, 50, 12],
            "scoring_path": ["model"] * 5 + ["no_reliable_signal"],
        }
    )
    history = _history(
        [
            ("up", 10, 30, "model"),
            ("up", 50, 8, "model"),  # the latest one old enough: +10
            ("up", 90, 2, "model"),  # too recent to compare with
            ("flat", 40, 7, "model"),  # +2: steady
            ("down", 40, 9, "model"),  # -10
            ("young", 10, 3, "model"),  # only a recent score
            ("base", 40, 10, "model"),  # today's is a base rate
        ]
    )
    trend = score_trend(scores, history, "lead_id", today=TODAY, days=7, points=5)
    assert trend.to_list() == [
        "improving",
        "steady",
        "declining",
        "not enough history",
        "not enough history",
        "not enough history",
    ]
    # a churn score is a risk: falling improves
    churn = score_trend(scores, history, "lead_id", today=TODAY, higher_is_better=False)
    assert churn.to_list()[:3] == ["declining", "steady", "improving"]
    assert score_trend(scores, None, "lead_id", today=TODAY).unique().to_list() == [
        "not enough history"
    ]


def test_the_trend_stays_with_its_entity_on_many_rows():
    rng = np.random.default_rng(7)
    ids = [f"L{i:05d}" for i in range(20_000)]
    now = rng.integers(0, 101, len(ids))
    then = rng.integers(0, 101, len(ids))
    scores = pl.DataFrame({"lead_id": ids, "score": now, "scoring_path": ["model"] * len(ids)})
    history = pl.DataFrame(
        {
            "lead_id": ids[::-1],
            "score": then[::-1],
            "as_of": [TODAY - timedelta(days=8)] * len(ids),
            "scoring_path": ["model"] * len(ids),
        }
    )
    trend = score_trend(scores, history, "lead_id", today=TODAY, days=7, points=5).to_numpy()
    change = now - then
    expected = np.where(change >= 5, "improving", np.where(change <= -5, "declining", "steady"))
    assert (trend == expected).all()


def test_route_adds_the_trend_everywhere_and_the_qualification_to_leads():
    scores = pl.DataFrame({"lead_id": ["a"], "score": [80], "scoring_path": ["model"]})
    leads = route(
        scores, None, qualifies=True, score_is_risk=False, id_column="lead_id", today=TODAY
    )
    assert leads.row(0, named=True) == {
        "lead_id": "a",
        "score": 80,
        "scoring_path": "model",
        "score_trend": "not enough history",
        "qualification": "SQL",
    }
    deals = route(
        scores, None, qualifies=False, score_is_risk=False, id_column="lead_id", today=TODAY
    )
    assert "qualification" not in deals.columns


def test_the_contract_publishes_the_new_columns_after_the_old_ones():
    leads = score_table("lead_scores").columns
    old = ["lead_id", "score", "probability", "grade", "band", "reasons", "next_action"]
    assert list(leads[: len(old)]) == old
    for name in ("lead_scores", "opportunity_scores", "churn_scores"):
        columns = score_table(name).columns
        assert {"confidence", "confidence_interval", "score_trend"} <= set(columns), name
    assert "qualification" in leads
    assert "qualification" not in score_table("opportunity_scores").columns


# ------------------------------------------------------------------ through the pipeline


@pytest.fixture
def home(tiny_home_copy: Path) -> Path:
    return tiny_home_copy


def test_the_score_job_publishes_confidence_qualification_and_trend(home: Path, tiny_crm: Path):
    from dagster import DagsterInstance

    from pipelines.run import run_job

    settings = get_settings(home=home, source_spec=tiny_crm / "source_spec.yml")
    with session(settings.warehouse_path) as con:
        # The last publication, as if a week and a day ago, with some scores moved so
        # that today's (the same data, the same scores) rose or fell since.
        con.execute(
            "update publish.lead_scores_history set as_of = as_of - interval 8 day, "
            "score = case when hash(lead_id) % 3 = 0 then score - 20 "
            "when hash(lead_id) % 3 = 1 then score + 20 else score end"
        )
        before = con.sql(
            "select lead_id, score, scoring_path from publish.lead_scores_history"
        ).pl()
    result = run_job(settings, "score", instance=DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success
    with session(settings.warehouse_path, read_only=True) as con:
        published = con.sql("select * from publish.lead_scores").pl()
    assert published.height > 0
    assert list(published.columns) == list(score_table("lead_scores").columns)
    got = published.join(before, on="lead_id", suffix="_before")
    assert got.height > 0
    expected = (
        pl.when(
            (pl.col("scoring_path") == "no_reliable_signal")
            | (pl.col("scoring_path_before") == "no_reliable_signal")
        )
        .then(pl.lit("not enough history"))
        .when(pl.col("score") - pl.col("score_before") >= settings.trend_points)
        .then(pl.lit("improving"))
        .when(pl.col("score_before") - pl.col("score") >= settings.trend_points)
        .then(pl.lit("declining"))
        .otherwise(pl.lit("steady"))
    )
    assert got.filter(pl.col("score_trend") != expected).is_empty()
    assert set(got["score_trend"]) >= {"improving", "declining", "steady"} or set(
        got["scoring_path"]
    ) == {"no_reliable_signal"}
    qualified = published.select(qualification(settings.mql_points, settings.qualified_points))
    assert published["qualification"].equals(qualified.to_series(), check_names=False)
    for column in ("scoring_path", "confidence", "qualification", "score_trend"):
        print("tiny CRM", column, dict(published[column].value_counts().iter_rows()))
    rule = published.filter(pl.col("scoring_path") != "model")
    assert set(rule["confidence"]) <= {"low"} and rule["confidence_interval"].null_count() == (
        rule.height
    )


def test_a_trained_model_keeps_its_evidence_and_its_rows_say_how_sure_it_is(small_staged: Path):
    from crmlens.clock import data_today
    from crmlens.warehouse import connect
    from features import lead
    from models.common.scoring import score
    from models.common.training import train
    from models.lead_scoring import FAMILY

    con = connect(small_staged)
    today = data_today(con)
    features = lead.build(con, lead.training_snapshots(con, today))
    population = lead.build(con, lead.scoring_population(con, today))
    con.close()
    frame = features.frame
    outcome = train(FAMILY, features, frame["label"].to_numpy(), frame["as_of"].to_numpy())
    model = outcome.model
    assert model.evidence is not None and len(model.evidence) == EVIDENCE_BINS
    scored = score(FAMILY, population, model, model_version="1", run_id="r", scored_at=today)
    assert set(scored["scoring_path"]) == {"model"}
    assert scored["confidence"].null_count() == 0
    # more evidence behind a row's probability, a narrower interval
    rows = model.evidence[evidence_bin(scored["probability"].to_numpy())]
    expected = np.round(wilson_half_width(scored["probability"].to_numpy(), rows), 1)
    assert np.allclose(scored["confidence_interval"].to_numpy(), expected)
    by_evidence = scored.with_columns(rows=pl.Series(rows)).sort("rows")
    busiest = by_evidence.tail(by_evidence.height // 4)["confidence_interval"].mean()
    sparsest = by_evidence.head(by_evidence.height // 4)["confidence_interval"].mean()
    assert busiest <= sparsest
    levels = dict(scored.group_by("confidence").len().iter_rows())
    qualified = dict(scored.select(qualification(50, 70)).to_series().value_counts().iter_rows())
    print("small CRM: confidence", levels, "qualification", qualified)
    print("evidence per bin:", np.round(model.evidence, 1))
