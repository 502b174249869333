"""The promotion floor: no signal, no model; the rule baseline from the fields a source has;
a model card per run, readable from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from features.common import FeatureSet
from models.common import card, floor
from models.common.promotion import decide
from models.common.scoring import score
from models.common.training import train
from models.lead_scoring import FAMILY

ROWS = 4000
NUMERIC = [
    "email_open_30d",
    "email_click_30d",
    "pricing_view_30d",
    "demo_request_90d",
    "employee_count",
    "days_since_last_activity",
]
CATEGORICAL = ["industry", "seniority", "source"]


def lead_frame(seed: int = 3, rows: int = ROWS) -> pl.DataFrame:
    """A lead training set shaped like the builder's: one snapshot per lead over two years,
    engagement counts, firmographics and categories."""
    rng = np.random.default_rng(seed)
    start = datetime(2024, 1, 1)
    as_of = [start + timedelta(days=int(d)) for d in rng.integers(0, 730, rows)]
    return pl.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(rows)],
            "as_of": as_of,
            "email_open_30d": rng.poisson(2.0, rows).astype(float),
            "email_click_30d": rng.poisson(0.5, rows).astype(float),
            "pricing_view_30d": rng.poisson(0.4, rows).astype(float),
            "demo_request_90d": (rng.random(rows) < 0.1).astype(float),
            "employee_count": rng.lognormal(4, 1.5, rows).round(),
            "days_since_last_activity": rng.exponential(20, rows),
            "industry": rng.choice(["software", "retail", "finance", "health"], rows),
            "seniority": rng.choice(["c_level", "vp", "director", "manager"], rows),
            "source": rng.choice(["web", "event", "referral", "paid"], rows),
        }
    ).sort("as_of")


def features_of(frame: pl.DataFrame) -> FeatureSet:
    return FeatureSet(frame, "lead_id", NUMERIC, CATEGORICAL)


def signal_labels(frame: pl.DataFrame, seed: int = 4) -> np.ndarray:
    """Labels that follow the engagement: demo requests and pricing views convert."""
    rng = np.random.default_rng(seed)
    logit = (
        -2.6
        + 1.8 * frame["demo_request_90d"].to_numpy()
        + 0.7 * frame["pricing_view_30d"].to_numpy()
        + 0.25 * frame["email_click_30d"].to_numpy()
    )
    return (rng.random(frame.height) < 1 / (1 + np.exp(-logit))).astype(int)


@pytest.fixture(scope="module")
def random_run():
    frame = lead_frame()
    labels = (np.random.default_rng(5).random(frame.height) < 0.15).astype(int)
    features = features_of(frame)
    outcome = train(FAMILY, features, labels, frame["as_of"].to_numpy())
    return frame, labels, outcome, floor.verdict(FAMILY, outcome, frame, labels)


@pytest.fixture(scope="module")
def signal_run():
    frame = lead_frame()
    labels = signal_labels(frame)
    outcome = train(FAMILY, features_of(frame), labels, frame["as_of"].to_numpy())
    return frame, labels, outcome, floor.verdict(FAMILY, outcome, frame, labels)


def test_random_labels_promote_nothing_and_say_no_reliable_signal(random_run):
    frame, _, outcome, verdict = random_run
    assert outcome.trained  # the gate passed: the floor, not the gate, stops it
    assert not verdict.passed
    assert verdict.path == floor.NO_SIGNAL_PATH
    assert verdict.auc_low <= 0.5 <= verdict.auc_high
    assert "no reliable signal in this data" in verdict.reason
    test = frame[outcome.split.test]
    y = outcome.test_labels
    decision = decide((outcome.model, "1"), None, test, y, verdict)
    assert decision.promote is False  # not even as the first champion
    assert "no reliable signal" in decision.reason
    assert decision.metadata()["verdict_path"] == floor.NO_SIGNAL_PATH


def test_the_no_signal_path_publishes_the_base_rate_without_feature_reasons(random_run):
    frame, _, _, verdict = random_run
    table = score(
        FAMILY,
        features_of(frame.head(200)),
        None,
        model_version=None,
        run_id="r",
        scored_at=datetime(2026, 1, 1),
        no_signal_rate=verdict.base_rate,
    )
    assert set(table["scoring_path"]) == {"no_reliable_signal"}
    assert table["probability"].n_unique() == 1
    assert table["probability"][0] == pytest.approx(verdict.base_rate)
    for reasons in table["reasons"]:
        parsed = json.loads(reasons)
        assert len(parsed) == 1
        assert parsed[0]["group"] == "no_reliable_signal"
        assert parsed[0]["text"].lower().startswith("no reliable signal in this data")
        assert f"{verdict.base_rate:.0%}" in parsed[0]["text"]
    assert table["next_action"].is_null().all()


def test_real_signal_is_promoted_and_its_interval_excludes_one_half(signal_run):
    frame, _, outcome, verdict = signal_run
    assert verdict.passed, verdict.reason
    assert verdict.path == floor.MODEL_PATH
    assert verdict.auc_low > 0.5
    assert verdict.beats_rule and verdict.beats_base_rate
    test = frame[outcome.split.test]
    assert decide((outcome.model, "1"), None, test, outcome.test_labels, verdict).promote


def test_bootstrap_interval_is_seeded_and_brackets_the_auc():
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.2).astype(int)
    p = rng.random(2000) + 0.3 * y
    first, second = floor.bootstrap_auc(y, p), floor.bootstrap_auc(y, p)
    assert first == second
    auc, low, high = first
    assert low < auc < high
    assert low > 0.5
    _, low, high = floor.bootstrap_auc(y, rng.random(2000))
    assert low < 0.5 < high


def test_the_rule_baseline_is_built_from_the_fields_a_source_has():
    frame = lead_frame(rows=300)
    assert floor.has_rule_baseline(FAMILY, frame)
    points = FAMILY.rule_points(frame)
    assert np.ptp(points) > 0
    # a source with none of the rule's fields: the rule is a constant, so no baseline
    bare = frame.select("lead_id", "as_of", custom=pl.lit(1.0))
    assert not floor.has_rule_baseline(FAMILY, bare)
    # its fields present but all null or constant: no baseline either
    empty = frame.with_columns(
        [pl.lit(None, dtype=pl.Float64).alias(c) for c in NUMERIC]
        + [pl.lit(None, dtype=pl.String).alias(c) for c in CATEGORICAL]
    )
    assert not floor.has_rule_baseline(FAMILY, empty)


def test_without_the_recipes_fields_the_rule_counts_touches_and_the_profile():
    rng = np.random.default_rng(8)
    frame = pl.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(200)],
            "email_open_30d": np.zeros(200),  # the source records no e-mail events
            "activity_email_30d": rng.poisson(1.0, 200).astype(float),
            "days_since_last_activity": rng.exponential(20, 200),
            "title": rng.choice(["CFO", None], 200),
        }
    )
    parts = FAMILY.rule_parts(frame)
    assert np.ptp(parts["rep_activity"]) > 0  # engagement from whatever touches it has
    assert np.ptp(parts["company"]) > 0  # fit from the profile fields it has
    assert floor.has_rule_baseline(FAMILY, frame)
    busier = frame.with_columns(activity_email_30d=pl.col("activity_email_30d") + 2)
    assert (FAMILY.rule_points(busier) >= FAMILY.rule_points(frame)).all()


def test_without_rule_inputs_the_cold_start_publishes_the_base_rate():
    frame = lead_frame(rows=300).select("lead_id", "as_of", custom=pl.lit(1.0))
    labels = np.r_[np.ones(30), np.zeros(270)].astype(int)
    verdict = floor.cold_start(FAMILY, frame, labels, "not enough history")
    assert verdict.path == floor.NO_SIGNAL_PATH
    assert "no rule baseline" in verdict.reason
    assert verdict.base_rate == pytest.approx(0.1)
    informative = floor.cold_start(FAMILY, lead_frame(rows=300), labels, "not enough history")
    assert informative.path == floor.RULE_PATH


def test_the_card_says_the_verdicts_and_the_interval(random_run, signal_run):
    frame, labels, outcome, verdict = random_run
    built = card.build(FAMILY, outcome, verdict, labels, frame["as_of"].to_numpy())
    assert built["verdict"]["path"] == floor.NO_SIGNAL_PATH
    assert any("no reliable signal" in limit for limit in built["known_limits"])
    text = card.markdown(built)
    assert "no reliable signal in this data" in text
    frame, labels, outcome, verdict = signal_run
    built = card.build(FAMILY, outcome, verdict, labels, frame["as_of"].to_numpy())
    published = built["metrics"][built["published_model"]]
    assert published["roc_auc_ci95"].startswith("[")
    assert built["top_features"]
    assert {"train_positive_rate", "test_positive_rate"} <= set(built["split"])


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CRMLENS_HOME": str(home)}
    env.pop("CRMLENS_WAREHOUSE_PATH", None)
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        timeout=300,
    )


def test_model_card_command_reads_the_card_from_mlflow(signal_run, tmp_path: Path):
    from crmlens.settings import get_settings
    from models.common import registry

    home = tmp_path / "home"
    empty = _cli(home, "model-card", "--family", "lead_scoring")
    assert empty.returncode == 0, empty.stderr
    assert "no model trained for lead_scoring yet" in empty.stdout
    assert len(empty.stdout.strip().splitlines()) == 1

    frame, labels, outcome, verdict = signal_run
    settings = get_settings(home=home)
    logged = registry.log_training(settings, FAMILY, outcome)
    built = card.build(FAMILY, outcome, verdict, labels, frame["as_of"].to_numpy())
    card.log(settings, logged.run_id, built)
    registry.set_alias(settings, FAMILY, registry.CHAMPION, logged.version)

    shown = _cli(home, "model-card", "--family", "lead_scoring")
    assert shown.returncode == 0, shown.stderr
    assert "champion, version" in shown.stdout
    assert "95 % CI" in shown.stdout
    assert "Known limits" in shown.stdout
    as_json = _cli(home, "model-card", "--family", "lead_scoring", "--json")
    assert json.loads(as_json.stdout)["verdict"]["path"] == "model"


def test_the_synthetic_crm_clears_the_floor(small_staged: Path):
    from crmlens.clock import data_today
    from crmlens.warehouse import connect
    from features import lead

    con = connect(small_staged)
    features = lead.build(con, lead.training_snapshots(con, data_today(con)))
    con.close()
    frame = features.frame
    labels = frame["label"].to_numpy()
    outcome = train(FAMILY, features, labels, frame["as_of"].to_numpy())
    verdict = floor.verdict(FAMILY, outcome, frame, labels)
    print(f"synthetic CRM, lead scoring: {verdict.reason}")
    assert verdict.passed, verdict.reason
    assert verdict.rule_baseline and verdict.rule_auc_low > 0.5


def test_the_daily_scores_take_the_no_signal_path_from_the_training_verdict(warehouse):
    from models.families import family
    from pipelines.ml.scoring import no_signal_rate

    spec = family("lead_scoring")
    frame = lead_frame(rows=200)
    assert no_signal_rate(warehouse, spec, frame)[0] is None  # never trained: the rule
    bare = frame.select("lead_id", "as_of")
    rate, why = no_signal_rate(warehouse, spec, bare)  # no rule inputs and no labels yet
    assert rate is None and "no rule baseline" in why
    labels = np.r_[np.ones(20), np.zeros(180)].astype(int)
    cold = floor.cold_start(FAMILY, bare, labels, "not enough history")
    floor.record(
        warehouse, "lead_scoring", cold, mlflow_run_id="r1", version=None,
        decided_at=datetime(2026, 1, 1),
    )  # fmt: skip
    rate, why = no_signal_rate(warehouse, spec, frame)
    assert rate == pytest.approx(0.1)
    assert "no reliable signal in this data" in why
    assert floor.latest(warehouse, "lead_scoring") == cold


def test_the_cli_model_table_says_no_reliable_signal_and_no_rule_baseline(random_run):
    from cli import summary
    from cli.console import console

    _, _, outcome, verdict = random_run
    meta = {
        "path": verdict.path,
        "trained": True,
        "gate": outcome.gate.reason,
        "registered_version": "1",
        **verdict.metadata(),
        **{f"test_roc_auc_{m}": outcome.test_metric(m, "roc_auc") for m in outcome.metrics},
        "test_ece_lightgbm": outcome.test_metric("lightgbm", "ece"),
    }
    cold = {"path": "no_reliable_signal", "trained": False, "gate": "not enough history"}
    cold |= {"rule_baseline": floor.NO_RULE, "base_rate": 0.12}
    console.width = 400
    with console.capture() as captured:
        summary.print_models(
            {"ml/lead_scoring_challenger": meta, "ml/churn_challenger": cold},
            {"lead_scoring": (False, verdict.reason)},
        )
    text = captured.get()
    assert text.count("no reliable signal in this data") >= 2
    assert "base rate 12.0%" in text
    assert "no rule baseline" in text
    assert verdict.metadata()["test_roc_auc_ci"].partition(" ")[2] in text  # [low, high]


def test_random_labels_through_the_training_assets_promote_nothing(random_run, tmp_path: Path):
    """The standard path: the challenger asset trains, the blocking promotion check fails
    with 'no reliable signal', and no champion is set."""
    from dagster import materialize

    from crmlens.warehouse import connect, replace_table
    from models.common import registry
    from models.families import family
    from pipelines.ml.training import challenger_asset, champion_asset, promotion_check
    from pipelines.resources import CrmlensResource

    frame, labels, _, _ = random_run
    spec = family("lead_scoring")
    warehouse = tmp_path / "warehouse.duckdb"
    roles = {"numeric": NUMERIC, "categorical": CATEGORICAL, "horizon_days": 90}
    con = connect(warehouse)
    stored = frame.with_columns(label=pl.Series(labels, dtype=pl.Int32))
    replace_table(con, "features", spec.training_table, stored, json.dumps(roles))
    con.close()
    resource = CrmlensResource(home=str(tmp_path / "home"), warehouse_path=str(warehouse))
    result = materialize(
        [challenger_asset(spec), promotion_check(spec), champion_asset(spec)],
        resources={"crmlens": resource},
        raise_on_error=False,
    )
    meta = {
        e.materialization.asset_key.to_user_string(): {
            k: v.value for k, v in e.materialization.metadata.items()
        }
        for e in result.get_asset_materialization_events()
    }
    challenger = meta["ml/lead_scoring_challenger"]
    assert challenger["path"] == "no_reliable_signal"
    assert "no reliable signal in this data" in challenger["verdict"]
    [check] = result.get_asset_check_evaluations()
    assert not check.passed
    assert "no reliable signal in this data" in check.description
    assert check.metadata["verdict_path"].value == "no_reliable_signal"
    assert "ml/lead_scoring_champion" not in meta
    settings = resource.settings()
    assert registry.alias_version(settings, spec.family, registry.CHAMPION) is None
    con = connect(warehouse)
    promoted = con.sql("select promote, reason from ml.model_promotions").fetchall()
    con.close()
    assert promoted[0][0] == "False" and "no reliable signal" in promoted[0][1]


def test_the_models_page_names_a_base_rate_publication():
    from dashboards.processing import models as processing
    from dashboards.views import models as view

    rows = [
        {
            "run_id": run,
            "scored_at": datetime(2026, 1, day),
            "model_name": name,
            "model_version": version,
            "scoring_path": path,
            "first_row": day,
            "rows": 10,
            "mean_score": 12.0,
        }
        for run, day, name, version, path in (
            ("r1", 1, "lead_scoring_base_rate", "base-rate-v1", "no_reliable_signal"),
            ("r2", 2, "crmlens-lead-scoring", "3", "model"),
        )
    ]
    names = processing._publications(pl.DataFrame(rows))["publication"].to_list()
    assert names == ["1. 2026-01-01 · base rate (no signal) ", "2. 2026-01-02 · model v3"]
    assert "no reliable signal" in view.PATH_HELP["no_reliable_signal"]


def test_the_calibration_check_judges_the_base_rate_that_was_published(tmp_path: Path):
    from crmlens.settings import get_settings
    from crmlens.warehouse import connect, replace_table
    from models.families import family
    from pipelines.monitoring.model_checks import _published_base_rate

    spec = family("lead_scoring")
    settings = get_settings(home=tmp_path / "home", warehouse_path=tmp_path / "w.duckdb")
    scores = pl.DataFrame({"lead_id": ["a", "b"], "probability": [0.12, 0.12]})
    con = connect(settings.warehouse_path)
    replace_table(con, "ml", spec.scores_table, scores.with_columns(scoring_path=pl.lit("model")))
    con.close()
    assert _published_base_rate(settings, spec) is None
    con = connect(settings.warehouse_path)
    published = scores.with_columns(scoring_path=pl.lit("no_reliable_signal"))
    replace_table(con, "ml", spec.scores_table, published)
    con.close()
    assert _published_base_rate(settings, spec) == pytest.approx(0.12)
