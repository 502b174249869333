"""Model evaluations kept in the warehouse, for dashboards and notebooks.

MLflow is where a data scientist looks; managers look at dashboards, which read
only the serving snapshot. So every training run also appends its figures here:

- ``ml.model_evaluations``: per run, model (rule_based, logistic_regression,
  lightgbm) and split (valid, test), every metric; which model was published (none of
  the learned ones when the promotion floor held the run back: then the rule score is,
  or nothing when the base rate is);
- ``ml.model_calibration``: per run and model, the test set's calibration deciles;
- ``ml.model_promotions``: per promotion decision, versions, metrics and reason.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl

from models.common.floor import RULE_PATH, Floor
from models.common.training import Outcome


def record_training(
    con: duckdb.DuckDBPyConnection,
    outcome: Outcome,
    *,
    mlflow_run_id: str | None,
    version: str | None,
    trained_at: datetime,
    verdict: Floor | None = None,
) -> None:
    """Append a training run's metrics (every model, valid and test) to ml.model_evaluations.

    Args:
        con: Warehouse connection (written).
        outcome: The training run.
        mlflow_run_id: The MLflow run that logged it.
        version: The registered version, None when nothing was registered.
        trained_at: When it was trained.
        verdict: The run's promotion floor (:mod:`models.common.floor`). When it held the
            run back, no learned model is marked published: the rule-based score is when
            the verdict publishes it, else none (the base rate is).
    """
    rows = []
    selected = _published(outcome, verdict)
    for model, sets in outcome.metrics.items():
        for split, values in sets.items():
            rows.append(
                {
                    "family": outcome.family,
                    "trained_at": trained_at,
                    "mlflow_run_id": mlflow_run_id,
                    "registered_version": version,
                    "model": model,
                    "split": split,
                    "published": model == selected,
                    **{k: float(v) for k, v in values.items()},
                }
            )
    if not rows:  # the cold-start path: say so, with the gate's reason
        rows.append(
            {
                "family": outcome.family,
                "trained_at": trained_at,
                "mlflow_run_id": mlflow_run_id,
                "registered_version": None,
                "model": "rule_based",
                "split": "none",
                "published": selected == "rule_based",
            }
        )
    frame = pl.DataFrame(rows).with_columns(gate=pl.lit(outcome.gate.reason))
    _append(con, "model_evaluations", frame)
    calibration = [
        {
            "family": outcome.family,
            "mlflow_run_id": mlflow_run_id,
            "trained_at": trained_at,
            "model": m,
        }
        | row
        for m, table in outcome.calibration.items()
        for row in table
    ]
    if calibration:
        _append(con, "model_calibration", pl.DataFrame(calibration))


def _published(outcome: Outcome, verdict: Floor | None) -> str | None:
    """The model of the run that is published: the selected one when it cleared the floor
    (or no verdict was given), the rule-based score when the verdict falls back to it
    (the cold start included), else none."""
    if verdict is None:
        return outcome.model.kind if outcome.trained else "rule_based"
    if verdict.passed and outcome.trained:
        return outcome.model.kind
    return "rule_based" if verdict.path == RULE_PATH else None


def record_promotion(
    con: duckdb.DuckDBPyConnection, family: str, decision: dict, decided_at: datetime
) -> None:
    """Append a promotion decision (its fields as text) to ml.model_promotions.

    Args:
        con: Warehouse connection (written).
        family: The family's name.
        decision: What :func:`models.common.promotion.decide` returned, as a dict.
        decided_at: When it was decided.
    """
    frame = pl.DataFrame(
        [{"family": family, "decided_at": decided_at} | {k: str(v) for k, v in decision.items()}]
    )
    _append(con, "model_promotions", frame)


_METRICS = (
    "roc_auc",
    "pr_auc",
    "brier",
    "log_loss",
    "lift_top_decile",
    "ece",
    "rows",
    "positive_rate",
)
SCHEMAS = {
    "model_evaluations": {
        "family": "varchar",
        "trained_at": "timestamp",
        "mlflow_run_id": "varchar",
        "registered_version": "varchar",
        "model": "varchar",
        "split": "varchar",
        "published": "boolean",
        **dict.fromkeys(_METRICS, "double"),
        "gate": "varchar",
    },
    "model_calibration": {
        "family": "varchar",
        "mlflow_run_id": "varchar",
        "trained_at": "timestamp",
        "model": "varchar",
        "decile": "integer",
        "rows": "integer",
        "mean_predicted": "double",
        "observed_rate": "double",
    },
    "model_promotions": {
        "family": "varchar",
        "decided_at": "timestamp",
        "promote": "varchar",
        "reason": "varchar",
        "challenger_version": "varchar",
        "champion_version": "varchar",
        "challenger_auc": "varchar",
        "champion_auc": "varchar",
        "challenger_ece": "varchar",
        "champion_ece": "varchar",
        "auc_margin_required": "varchar",
        "ece_tolerance": "varchar",
        "ece_acceptable": "varchar",
        "holdout_rows": "varchar",
    },
}


def _append(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    append_rows(con, table, frame, SCHEMAS[table])


def append_rows(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, schema: dict[str, str]
) -> None:
    """Append by column name to ``ml.<table>`` of a fixed schema, created on first use (a
    row may lack columns: a cold-start row has no metrics).

    Args:
        con: Warehouse connection (written).
        table: The table's name in schema ``ml``.
        frame: The rows; columns the schema lacks are left out.
        schema: Column name -> DuckDB type.
    """
    con.execute("create schema if not exists ml")
    columns = ", ".join(f'"{c}" {t}' for c, t in schema.items())
    con.execute(f"create table if not exists ml.{table} ({columns})")
    known = [c for c in frame.columns if c in schema]
    con.register("_rows", frame.select(known))
    try:
        con.execute(f"insert into ml.{table} by name select * from _rows")
    finally:
        con.unregister("_rows")
