"""Training runs recorded in the warehouse keep one schema, whichever path ran first."""

from __future__ import annotations

from datetime import datetime

from crmlens.warehouse import connect
from models.common.evaluations import record_promotion, record_training
from models.common.family import GateResult
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
