"""``crmlens backtest --family lead|deal|churn``: how would the scores have done for us?

Replays the schedule over the family's history (:mod:`models.common.replay`): at each
weekly or monthly cut, retrain on the labels settled by then, score the next window as
the schedule would have published, and measure it. Runs the Dagster job ``backtest`` for
the family (its training set, then its replay), prints the windows and the pooled
figures, and leaves them in MLflow (with a plot), ``ml.backtests`` and the Models page.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from cli.console import console
from cli.errors import friendly_errors
from cli.jobs import Report, run_one
from crmlens.settings import Settings

# What a user types, and the family it means (the full names work too).
FAMILIES = {"lead": "lead_scoring", "deal": "deal_scoring", "churn": "churn"}
STEPS = ("week", "month")
FIGURES = {
    "roc_auc": "ROC AUC",
    "rule_roc_auc": "rule ROC AUC",
    "pr_auc": "PR AUC",
    "brier": "Brier",
    "ece": "ECE",
    "lift_top_decile": "top-10 % lift",
}


@click.command("backtest")
@click.option(
    "--family",
    "family_name",
    type=click.Choice([*FAMILIES, *FAMILIES.values()]),
    required=True,
    help="The model family to replay.",
)
@click.option(
    "--step",
    type=click.Choice(STEPS),
    default="month",
    show_default=True,
    help="Retrain every week or every month.",
)
@click.option(
    "--windows",
    type=click.IntRange(min=0),
    default=12,
    show_default=True,
    help="How many of the newest windows to replay (0: every one).",
)
@click.pass_obj
@friendly_errors
def backtest(settings: Settings, family_name: str, step: str, windows: int) -> None:
    """Replay the schedule: retrain at each weekly or monthly step on exactly what was
    known then, score the next window, and measure ROC AUC, PR AUC, calibration and lift
    per window and over all of them — how the published scores would have done."""
    from crmlens.runlock import run_lock
    from models.families import family
    from pipelines.ml.backtest import backtest_key, backtest_op
    from pipelines.ml.keys import training_key

    if not Path(settings.warehouse_path).exists():
        raise click.ClickException("nothing to replay yet: run `crmlens run --spec …` first")
    spec = family(FAMILIES.get(family_name, family_name))
    with run_lock(settings.warehouse_path, f"crmlens backtest --family {family_name}"):
        run_one(
            settings,
            "backtest",
            None,
            Report(),
            assets=[training_key(spec), backtest_key(spec)],
            ops={backtest_op(spec): {"step": step, "windows": windows}},
        )
    print_replay(settings, spec.name)


def print_replay(settings: Settings, family_name: str) -> None:
    """The family's newest replay from the warehouse: its windows, then the pooled line."""
    from crmlens.warehouse import session

    with session(settings.warehouse_path, read_only=True) as con:
        run = con.sql(
            "select * from ml.backtests where family = $family order by ran_at desc limit 1",
            params={"family": family_name},
        ).pl()
        windows = con.sql(
            "select * from ml.backtest_windows where mlflow_run_id = $run order by start",
            params={"run": run["mlflow_run_id"][0]},
        ).pl()
    overall = run.row(0, named=True)
    table = Table(
        title=f"{family_name}: the schedule replayed, retrained every {overall['step']} "
        "(scores of each window as they would have been published)"
    )
    for column in ("window", "trained on", "rows", "positives", "published", *FIGURES.values()):
        table.add_column(column, justify="left" if column in ("window", "published") else "right")
    for w in windows.iter_rows(named=True):
        table.add_row(
            str(w["start"])[:10],
            f"{w['known_rows']:,}",
            f"{w['rows']:,}",
            f"{w['positives']:,}",
            w["model"] if w["path"] == "model" else w["path"],
            *(_fmt(w.get(f)) for f in FIGURES),
        )
    console.print(table)
    pooled = ", ".join(
        f"{name} {_fmt(overall.get(key))}"
        for name, key in (
            ("ROC AUC", "roc_auc"),
            ("rule ROC AUC", "rule_roc_auc"),
            ("mean per window", "mean_window_roc_auc"),
            ("PR AUC", "pr_auc"),
            ("Brier", "brier"),
            ("ECE", "ece"),
            ("top-decile lift", "lift_top_decile"),
        )
    )
    console.print(
        f"over {overall['windows']} windows ({overall['rows']:,} rows, a model published in "
        f"{overall['model_windows']}): {pooled}",
        soft_wrap=True,
    )
    console.print(f"MLflow run {overall['mlflow_run_id']} (plot: backtest.png)", soft_wrap=True)


def _fmt(value: float | None) -> str:
    return "–" if value is None or value != value else f"{value:.3f}"
