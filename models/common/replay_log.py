"""Where a replay of the schedule is kept: MLflow for data scientists, the warehouse for
the Models page and notebooks.

- MLflow: one run in the family's backtest experiment (``crmlens-<family>-backtest``):
  the pooled figures as metrics, each window's as a metric series (step = the window's
  number), the windows as a CSV and a plot (ROC AUC per window beside the rule's, and the
  pooled calibration).
- ``ml.backtest_windows``: one row per window of every replay (appended);
- ``ml.backtests``: one row per replay with its pooled figures.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from crmlens.settings import Settings
from models.common.evaluations import append_rows
from models.common.experiments import experiment_id, mlflow_for
from models.common.family import Family
from models.common.registry import experiment_name
from models.common.replay import METRICS, Replay

OVERALL = (*METRICS, "rule_roc_auc", "mean_window_roc_auc", "positive_rate")


def log(settings: Settings, family: Family, replay: Replay, tags: dict[str, str]) -> str:
    """Log a replay to MLflow; returns the run's id.

    Args:
        settings: where MLflow keeps its store.
        family: the family replayed.
        replay: the replay.
        tags: extra run tags (the Dagster run).

    Returns:
        The MLflow run id.
    """
    mlflow = mlflow_for(settings)
    name = f"{experiment_name(family)}-backtest"
    experiment = experiment_id(mlflow, settings, name, f"{family.name}_backtest")
    with mlflow.start_run(experiment_id=experiment, run_name=f"replay by {replay.step}") as run:
        mlflow.set_tags({"family": family.name, "kind": "backtest", **tags})
        mlflow.log_params(
            {
                "step": replay.step,
                "windows": len(replay.windows),
                "first_window": str(replay.windows[0].start),
                "last_window": str(replay.windows[-1].start),
                "horizon_days": family.horizon_days,
            }
        )
        mlflow.log_metrics({f"replay_{k}": v for k, v in replay.overall.items()})
        for i, window in enumerate(replay.windows):
            figures = window.metrics | {"rows": window.rows, "positives": window.positives}
            if window.rule_roc_auc is not None:
                figures["rule_roc_auc"] = window.rule_roc_auc
            mlflow.log_metrics({f"window_{k}": float(v) for k, v in figures.items()}, step=i)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            replay.table().write_csv(folder / "windows.csv")
            (folder / "calibration.json").write_text(
                json.dumps(replay.calibration.to_dicts(), indent=2)
            )
            plot(replay, folder / "backtest.png")
            mlflow.log_artifacts(str(folder))
        return run.info.run_id


def plot(replay: Replay, path: Path) -> None:
    """ROC AUC of the published scores per window beside the rule's, and the pooled
    calibration (observed rate against predicted, by decile)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = replay.table()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    starts = [str(s)[:10] for s in table["start"].to_list()]
    for column, label in (("roc_auc", "published scores"), ("rule_roc_auc", "rule score")):
        if column in table.columns and table[column].drop_nulls().len():
            left.plot(starts, table[column].to_list(), marker="o", label=label)
    left.axhline(0.5, color="#999", lw=1, ls="--", label="chance")
    left.set_ylabel("ROC AUC of the window")
    left.set_title(f"{replay.family}: retrained every {replay.step}")
    left.tick_params(axis="x", rotation=60, labelsize=7)
    left.legend(fontsize=8)
    right.plot([0, 1], [0, 1], color="#999", lw=1, ls="--", label="perfect")
    right.plot(
        replay.calibration["predicted"].to_list(),
        replay.calibration["observed"].to_list(),
        marker="o",
        label=f"pooled (ECE {replay.overall.get('ece', float('nan')):.3f})",
    )
    right.set_xlabel("predicted probability (decile mean)")
    right.set_ylabel("observed rate")
    right.set_title("calibration over every window")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def record(
    con: duckdb.DuckDBPyConnection, replay: Replay, *, mlflow_run_id: str, ran_at: datetime
) -> None:
    """Append the replay's windows and pooled figures to the warehouse.

    Args:
        con: warehouse connection (written).
        replay: the replay.
        mlflow_run_id: the MLflow run that logged it.
        ran_at: when it ran.
    """
    run = {"family": replay.family, "step": replay.step, "ran_at": ran_at}
    run["mlflow_run_id"] = mlflow_run_id
    windows = replay.table().with_columns(**{k: pl.lit(v) for k, v in run.items()})
    overall = pl.DataFrame([run | {k: replay.overall.get(k) for k in OVERALL}])
    overall = overall.with_columns(
        windows=pl.lit(len(replay.windows)),
        rows=pl.lit(int(replay.overall.get("rows", 0))),
        model_windows=pl.lit(int(replay.overall.get("model_windows", 0))),
    )
    append_rows(con, "backtest_windows", windows, _WINDOWS)
    append_rows(con, "backtests", overall, _OVERALL)


_RUN = {"family": "varchar", "step": "varchar", "ran_at": "timestamp", "mlflow_run_id": "varchar"}
_WINDOWS = _RUN | {
    "start": "timestamp",
    "end": "timestamp",
    "known_rows": "bigint",
    "rows": "bigint",
    "positives": "bigint",
    "path": "varchar",
    "model": "varchar",
    "champion_from": "timestamp",
    "promoted": "boolean",
    "verdict": "varchar",
    "rule_roc_auc": "double",
    **dict.fromkeys(METRICS, "double"),
}
_OVERALL = _RUN | {
    "windows": "integer",
    "rows": "bigint",
    "model_windows": "integer",
    **dict.fromkeys(OVERALL, "double"),
}
