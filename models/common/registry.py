"""MLflow: one experiment per family, runs with metrics and plots, registry aliases.

Where MLflow keeps runs and models is set up in :mod:`models.common.experiments`.

Registered models carry two aliases: ``challenger`` (the newest trained version)
and ``champion`` (the version scoring uses). Only the promotion check moves
``champion`` (see :mod:`models.common.promotion`).
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmlens.settings import Settings
from models.common.experiments import experiment_id, mlflow_for
from models.common.family import Family
from models.common.model import ScoringModel
from models.common.training import MODELS, Outcome

log = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"

# Exact requirements, so MLflow does not spend ~14 s inferring them (STACK_NOTES).
PIP_REQUIREMENTS = [
    "lightgbm",
    "scikit-learn",
    "polars",
    "pandas",
    "numpy",
]


@dataclass(frozen=True)
class LoggedRun:
    run_id: str
    version: str | None  # registered version, None when the gate kept the rule-based path


def experiment_name(family: Family) -> str:
    """The MLflow experiment of a family: ``crmlens-<family name>``."""
    return f"crmlens-{family.name.replace('_', '-')}"


def log_training(
    settings: Settings,
    family: Family,
    outcome: Outcome,
    *,
    tags: dict[str, str] | None = None,
    register: bool = True,
    run_name: str | None = None,
) -> LoggedRun:
    """Log a training run (params, metrics, plots, importance, the model) and register it.

    The new version gets the ``challenger`` alias. When the gate kept the
    rule-based path, the run records why and nothing is registered.
    """
    mlflow = mlflow_for(settings)
    experiment = experiment_id(mlflow, settings, experiment_name(family), family.name)
    with mlflow.start_run(experiment_id=experiment, run_name=run_name) as run:
        mlflow.set_tags(
            {
                "family": family.name,
                "path": "model" if outcome.trained else "rule_based",
                **(tags or {}),
            }
        )
        mlflow.log_params({k: v for k, v in outcome.params.items() if v is not None})
        mlflow.log_params(
            {
                "gate_passed": outcome.gate.passed,
                "gate_entities": outcome.gate.entities,
                "gate_positive_entities": outcome.gate.positive_entities,
                "gate_negative_entities": outcome.gate.negative_entities,
            }
        )
        if not outcome.trained:
            mlflow.set_tag("gate", outcome.gate.reason)
            return LoggedRun(run.info.run_id, None)
        for model, sets in outcome.metrics.items():
            for part, values in sets.items():
                mlflow.log_metrics({f"{part}_{k}_{model}": v for k, v in values.items()})
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "metrics.json").write_text(json.dumps(outcome.metrics, indent=2))
            (folder / "calibration_by_decile.json").write_text(
                json.dumps(outcome.calibration, indent=2)
            )
            importance = "\n".join(f"{k},{v:.4f}" for k, v in outcome.importance.items())
            (folder / "feature_importance.csv").write_text("feature,gain\n" + importance + "\n")
            calibration_plot(outcome, folder / "calibration.png")
            mlflow.log_artifacts(str(folder))
        version = _log_model(mlflow, family, outcome) if register else None
        if version is not None:
            client = mlflow.MlflowClient()
            client.set_registered_model_alias(family.registered_model, CHALLENGER, version)
            # the figure of the model that was registered (LightGBM or the logistic regression)
            client.set_model_version_tag(
                family.registered_model,
                version,
                "test_roc_auc",
                f"{outcome.test_metric(outcome.model.kind, 'roc_auc'):.4f}",
            )
        return LoggedRun(run.info.run_id, version)


def _log_model(mlflow: Any, family: Family, outcome: Outcome) -> str | None:
    """Log the published model as an MLflow pyfunc and register it; returns its version."""
    from mlflow.models import infer_signature

    from models.common.pyfunc import CrmlensPyfunc

    model = outcome.model
    example = outcome.example_frame.head(5) if outcome.example_frame is not None else None
    signature = None
    input_example = None
    if example is not None:
        input_example = model.layout.matrix(example).astype(
            {c: "object" for c in model.layout.categorical}
        )
        signature = infer_signature(input_example, model.predict_proba(example))
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=CrmlensPyfunc(model),
        signature=signature,
        input_example=input_example,
        pip_requirements=PIP_REQUIREMENTS,
        registered_model_name=family.registered_model,
    )
    return str(info.registered_model_version) if info.registered_model_version else None


def calibration_plot(outcome: Outcome, path: Path) -> None:
    """Observed rate against predicted probability by decile, for each model, on the test set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="#999", lw=1, ls="--", label="perfect")
    for name in MODELS:
        rows = outcome.calibration.get(name, [])
        ax.plot(
            [r["mean_predicted"] for r in rows],
            [r["observed_rate"] for r in rows],
            marker="o",
            label=f"{name} (ECE {outcome.test_metric(name, 'ece'):.3f})",
        )
    top = max(
        0.05,
        max((r["observed_rate"] for rows in outcome.calibration.values() for r in rows), default=1),
    )
    ax.set_xlim(0, min(1, top * 1.1))
    ax.set_ylim(0, min(1, top * 1.1))
    ax.set_xlabel("predicted probability (decile mean)")
    ax.set_ylabel("observed rate")
    ax.set_title(f"{outcome.family}: calibration on the test set")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def load(
    settings: Settings, family: Family, alias: str = CHAMPION
) -> tuple[ScoringModel, str] | None:
    """The family's model behind an alias, and its version; None if there is none yet."""
    mlflow = mlflow_for(settings)
    client = mlflow.MlflowClient()
    try:
        version = client.get_model_version_by_alias(family.registered_model, alias)
    except mlflow.exceptions.MlflowException:
        return None
    loaded = mlflow.pyfunc.load_model(f"models:/{family.registered_model}@{alias}")
    return loaded.unwrap_python_model().model, str(version.version)


def alias_version(settings: Settings, family: Family, alias: str) -> str | None:
    """The version behind ``alias`` of the family's registered model; None if none."""
    mlflow = mlflow_for(settings)
    try:
        return str(
            mlflow.MlflowClient().get_model_version_by_alias(family.registered_model, alias).version
        )
    except mlflow.exceptions.MlflowException:
        return None


def set_alias(settings: Settings, family: Family, alias: str, version: str) -> None:
    """Point ``alias`` of the family's registered model at ``version``."""
    mlflow = mlflow_for(settings)
    mlflow.MlflowClient().set_registered_model_alias(family.registered_model, alias, version)
