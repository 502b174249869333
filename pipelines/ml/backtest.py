"""A replay of the schedule, per family (group ``backtest``, job ``backtest``):

    ml/<family>_backtest   retrains at each weekly or monthly cut on what was known then,
                           scores the next window as the schedule would have, measures it

It reads the family's training set (``features/<entity>_training_set``, rebuilt by the
same job) and writes ``ml.backtest_windows`` and ``ml.backtests``, and an MLflow run with
a plot (:mod:`models.common.replay`, :mod:`models.common.replay_log`). It is nobody's
upstream: a replay changes no champion and no published score.
"""

# No `from __future__ import annotations`: Dagster inspects the context annotation at runtime.
import time

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from crmlens.clock import utc_now
from crmlens.warehouse import session
from models.common import replay_log
from models.common.replay import STEPS, replay
from models.families import FamilySpec
from pipelines.ml.keys import training_key
from pipelines.ml.training_sets import read_training_set, stored_definition
from pipelines.resources import CrmlensResource

GROUP = "backtest"


class BacktestConfig(Config):
    """How the replay steps: every week or month, over the newest ``windows`` windows."""

    step: str = Field(default="month", description=f"retrain every {' or '.join(STEPS)}")
    windows: int = Field(default=12, description="how many of the newest windows (0: all)")


def backtest_key(spec: FamilySpec) -> AssetKey:
    """``ml/<family>_backtest``."""
    return AssetKey(["ml", f"{spec.name}_backtest"])


def backtest_op(spec: FamilySpec) -> str:
    """The op name of the family's backtest asset, for its run config."""
    return "__".join(backtest_key(spec).path)


def backtest_asset(spec: FamilySpec) -> AssetsDefinition:
    """``ml/<family>_backtest``: the replay of the schedule over the family's training set."""
    family = spec.family

    @asset(
        key=backtest_key(spec),
        group_name=GROUP,
        deps=[training_key(spec)],
        kinds={"lightgbm", "mlflow"},
        description=f"Replays the schedule for {family.name}: at each weekly or monthly cut, "
        "trains on the labels settled by then (gate, floor, champion as the weekly job), "
        "scores the next window as the schedule would have published, and measures ROC AUC, "
        "PR AUC, calibration and lift per window and pooled. Logged to MLflow with a plot.",
    )
    def backtest(
        context: AssetExecutionContext, crmlens: CrmlensResource, config: BacktestConfig
    ) -> MaterializeResult:
        started = time.perf_counter()
        settings = crmlens.settings()
        with session(settings.warehouse_path) as con:
            features = read_training_set(con, spec)
            configured, _ = stored_definition(con, spec)
        if features.frame.is_empty():
            raise Failure(f"{family.name}: no training rows to replay", allow_retries=False)
        try:
            replayed = replay(configured.family, features, step=config.step, windows=config.windows)
        except ValueError as nothing:
            raise Failure(f"{family.name}: {nothing}", allow_retries=False) from nothing
        run_id = replay_log.log(
            settings, configured.family, replayed, {"dagster_run_id": context.run_id}
        )
        with session(settings.warehouse_path) as con:
            replay_log.record(con, replayed, mlflow_run_id=run_id, ran_at=utc_now())
        overall = {k: round(v, 4) for k, v in replayed.overall.items()}
        return MaterializeResult(
            metadata={
                **overall,
                "step": config.step,
                "windows": MetadataValue.md(_markdown(replayed)),
                "mlflow_run_id": run_id,
                "seconds": round(time.perf_counter() - started, 1),
            }
        )

    return backtest


def _markdown(replayed) -> str:
    """The windows as a Markdown table, for the Dagster UI."""
    head = "| window | rows | positives | path | ROC AUC | rule ROC AUC | ECE |\n|---|---|---|---|---|---|---|\n"
    lines = [
        f"| {str(w.start)[:10]} | {w.rows} | {w.positives} | {w.path} "
        f"| {_fmt(w.metrics.get('roc_auc'))} | {_fmt(w.rule_roc_auc)} | {_fmt(w.metrics.get('ece'))} |"
        for w in replayed.windows
    ]
    return head + "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"
