"""MLflow set-up, in one place: where runs and registered models are kept, and experiments.

Tracking and registry default to a SQLite file with local artifacts (the file store is
deprecated in MLflow 3); any URI works by setting ``CRMLENS_MLFLOW_TRACKING_URI``.
``import mlflow`` costs ~8 s, so it happens inside :func:`mlflow_for`, never when crmlens
is imported, and MLflow's telemetry is off unless the environment says otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from crmlens.settings import Settings


def mlflow_for(settings: Settings) -> Any:
    """The ``mlflow`` module, pointed at the settings' tracking and registry URI.

    Args:
        settings: Where MLflow keeps its store (``mlflow_tracking_uri``, under ``home``).

    Returns:
        The imported ``mlflow`` module.
    """
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow

    Path(settings.home, "mlflow").mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_tracking_uri)
    return mlflow


def experiment_id(mlflow: Any, settings: Settings, name: str, folder: str) -> str:
    """The id of experiment ``name``, created on first use with its artifacts in ``folder``.

    Args:
        mlflow: The module :func:`mlflow_for` returned.
        settings: Where artifacts go (``mlflow_artifacts_dir``).
        name: The experiment's name.
        folder: Its artifacts' folder under ``mlflow_artifacts_dir``.

    Returns:
        The experiment id.
    """
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = (Path(settings.mlflow_artifacts_dir) / folder).resolve().as_uri()
    return mlflow.create_experiment(name, artifact_location=location)
