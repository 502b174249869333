"""Which families `crmlens run` retrains: no champion yet, or a champion grown old."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from crmlens.clock import utc_now
from crmlens.settings import Settings
from models.common import registry
from models.common.experiments import mlflow_for
from models.families import families


def champion_trained_at(settings: Settings, family: Any) -> datetime | None:
    """When the family's champion version was registered; None without a champion."""
    mlflow = mlflow_for(settings)
    try:
        version = mlflow.MlflowClient().get_model_version_by_alias(
            family.registered_model, registry.CHAMPION
        )
    except mlflow.exceptions.MlflowException:
        return None
    return datetime.fromtimestamp(version.creation_timestamp / 1000, tz=UTC).replace(tzinfo=None)


def training_due(settings: Settings) -> dict[str, str]:
    """Family name -> why it is due for training; empty when every champion is fresh.

    A family is due when it has no champion (a first run, or one whose data never passed
    the cold-start gate: the data may have grown since) or when its champion is older than
    ``settings.retrain_every_days``.
    """
    due: dict[str, str] = {}
    limit = timedelta(days=settings.retrain_every_days)
    now = utc_now()
    for spec in families():
        trained = champion_trained_at(settings, spec.family)
        if trained is None:
            due[spec.name] = "no champion yet"
        elif now - trained >= limit:
            due[spec.name] = f"champion trained {(now - trained).days} days ago"
    return due
