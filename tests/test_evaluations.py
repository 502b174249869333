"""Training runs recorded in the warehouse keep one schema, whichever path ran first."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from crmlens.warehouse import connect
from models.common.evaluations import record_promotion, record_training
from models.common.family import GateResult
from models.common.floor import MODEL_PATH, NO_SIGNAL, NO_SIGNAL_PATH, RULE_PATH, Floor
from models.common.training import Outcome


def test_a_cold_start_run_then_a_trained_run_share_the_table():
    con = connect()
    cold = Outcome("churn", GateResult(False, 40, 3, 37, "not enough history: 3 positive < 100"))
    record_training(con, cold, mlflow_run_id="a", version=None, trained_at=datetime(2026, 11, 1))
    trained = Outcome("lead_scoring", GateResult(True, 5000, 600, 4400, "enough history"))
    trained.metrics = {"lightgbm": {"test": {"roc_auc": 0.85, "ece": 0.02, "rows": 100.0}}}
    trained.calibration = {
        "lightgbm": [{"decile": 1, "rows": 10, "mean_predicted": 0.01, "observed_rate": 0.0}]
    }
    record_training(con, trained, mlflow_run_id="b", version="3", trained_at=datetime(2026, 11, 1))
    record_promotion(
        con, "lead_scoring", {"promote": True, "reason": "first model"}, datetime(2026, 11, 1)
    )

    rows = con.execute(
        "select family, model, split, roc_auc, gate from ml.model_evaluations order by family"
    ).fetchall()
    assert rows == [
        ("churn", "rule_based", "none", None, "not enough history: 3 positive < 100"),
        ("lead_scoring", "lightgbm", "test", 0.85, "enough history"),
    ]
    assert con.execute("select count(*) from ml.model_calibration").fetchall() == [(1,)]
    assert con.execute("select promote, reason from ml.model_promotions").fetchall() == [
        ("True", "first model")
    ]


def _trained_run(family: str) -> Outcome:
    run = Outcome(family, GateResult(True, 5000, 600, 4400, "enough history"))
    run.model = SimpleNamespace(kind="lightgbm")
    run.metrics = {
        m: {"test": {"roc_auc": auc, "ece": 0.02, "rows": 100.0}}
        for m, auc in (("rule_based", 0.6), ("logistic_regression", 0.55), ("lightgbm", 0.56))
    }
    return run


def test_a_run_the_promotion_floor_holds_back_is_recorded_as_not_published():
    con = connect()
    held_for_rule = Floor(
        False, RULE_PATH, f"{NO_SIGNAL}: ...; the rule score is published", 0.1, True
    )
    held_for_base = Floor(False, NO_SIGNAL_PATH, f"{NO_SIGNAL}: ...; the base rate", 0.1, False)
    cleared = Floor(True, MODEL_PATH, "signal", 0.1, True)
    for family, verdict in (("a", held_for_rule), ("b", held_for_base), ("c", cleared)):
        record_training(
            con,
            _trained_run(family),
            mlflow_run_id=family,
            version=None,
            trained_at=datetime(2026, 11, 1),
            verdict=verdict,
        )
    cold = Outcome("d", GateResult(False, 40, 3, 37, "not enough history"))
    no_rule = Floor(False, NO_SIGNAL_PATH, f"{NO_SIGNAL} (cold start)", 0.1, False)
    record_training(con, cold, mlflow_run_id="d", version=None, trained_at=datetime(2026, 11, 1))
    record_training(
        con,
        cold,
        mlflow_run_id="e",
        version=None,
        trained_at=datetime(2026, 11, 1),
        verdict=no_rule,
    )

    published = con.execute(
        "select mlflow_run_id, list(model order by model) filter (where published) "
        "from ml.model_evaluations group by all order by 1"
    ).fetchall()
    assert published == [
        ("a", ["rule_based"]),  # held back: the rule score is what the family publishes
        ("b", None),  # held back, no informative rule: the base rate, no model
        ("c", ["lightgbm"]),
        ("d", ["rule_based"]),  # cold start
        ("e", None),  # cold start without the rule's fields
    ]
