"""ML assets, per family (group ``ml``): weekly training (:mod:`pipelines.ml.training`) and
daily scores (:mod:`pipelines.ml.scoring`) and the tasks they suggest
(:mod:`pipelines.ml.tasks`); the replay of the schedule (group ``backtest``,
:mod:`pipelines.ml.backtest`)."""

from __future__ import annotations

from dagster import AssetChecksDefinition, AssetsDefinition

from models.families import families
from pipelines.ml.backtest import backtest_asset
from pipelines.ml.scoring import scores_asset
from pipelines.ml.tasks import suggested_tasks
from pipelines.ml.training import (
    challenger_asset,
    champion_asset,
    promotion_check,
    training_set_asset,
)


def build_ml_definitions() -> tuple[list[AssetsDefinition], list[AssetChecksDefinition]]:
    """(assets, asset checks) of every family."""
    assets, checks = [], []
    for spec in families():
        assets += [
            training_set_asset(spec),
            challenger_asset(spec),
            champion_asset(spec),
            scores_asset(spec),
            backtest_asset(spec),
        ]
        checks.append(promotion_check(spec))
    assets.append(suggested_tasks)  # after the three families' scores
    return assets, checks
