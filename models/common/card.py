"""A model card per training run: what the model was trained on, how good it is, and
what it cannot do, in words a data scientist and a manager can both read.

The card holds the data window, the split and each part's class balance, every
model's test metrics with the bootstrap 95 % interval of ROC AUC, calibration (ECE
and the deciles), the top features, known limits, and the two verdicts a score rests
on: the cold-start gate and the promotion floor (:mod:`models.common.floor`). It is
logged on the MLflow run as ``model_card.json`` and ``model_card.md``; ``crmlens
model-card --family <name>`` prints the champion's (or, without one, the newest run's).
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from crmlens.settings import Settings
from models.common.experiments import mlflow_for
from models.common.family import Family
from models.common.floor import NO_RULE, Floor
from models.common.registry import CHAMPION, experiment_name

CARD_JSON = "model_card.json"
CARD_MD = "model_card.md"
TOP_FEATURES = 10
# Calibration worse than this is a known limit worth saying.
ECE_LIMIT = 0.05
# Fewer positives than this in the test set make its figures wide.
FEW_TEST_POSITIVES = 100


def build(
    family: Family,
    outcome: Any,
    floor: Floor,
    labels: np.ndarray,
    as_of: np.ndarray,
) -> dict[str, Any]:
    """The card of one training run.

    Args:
        family: the family (as configured for the source).
        outcome: what :func:`models.common.training.train` returned.
        floor: the run's verdict (:func:`models.common.floor.assess` or ``cold_start``).
        labels: every training row's label.
        as_of: every training row's snapshot time.

    Returns:
        The card as a JSON-ready dict.
    """
    labels = np.asarray(labels, dtype=int)
    as_of = np.asarray(as_of)
    card: dict[str, Any] = {
        "family": family.name,
        "label": family.positive_label,
        "entity": family.entity,
        "data_window": {
            "first_as_of": str(as_of.min()) if len(as_of) else None,
            "last_as_of": str(as_of.max()) if len(as_of) else None,
            "rows": len(labels),
            "positive_rate": round(float(labels.mean()), 4) if len(labels) else None,
        },
        "cold_start": {"passed": outcome.gate.passed, "reason": outcome.gate.reason},
        "verdict": {
            "path": floor.path,
            "reason": floor.reason,
            "auc_low": floor.auc_low,
            "auc_high": floor.auc_high,
            **floor.metadata(),
        },
        "rule_baseline": "yes" if floor.rule_baseline else NO_RULE,
        "published_model": outcome.model.kind if outcome.trained else None,
    }
    if outcome.trained:
        split = outcome.split
        card["split"] = split.describe() | {
            f"{name}_positive_rate": round(float(labels[idx].mean()), 4)
            for name, idx in (("train", split.train), ("valid", split.valid), ("test", split.test))
            if len(idx)
        }
        card["metrics"] = _metrics(outcome, floor)
        card["calibration"] = {
            "ece": round(outcome.test_metric(outcome.model.kind, "ece"), 4),
            "method": outcome.model.calibrator.method,
            "deciles": outcome.calibration.get(outcome.model.kind, []),
        }
        card["top_features"] = [
            {"feature": k, "importance": round(v, 4)}
            for k, v in list(outcome.importance.items())[:TOP_FEATURES]
        ]
    card["known_limits"] = limits(card, outcome)
    return card


def _metrics(outcome: Any, floor: Floor) -> dict[str, dict[str, float | str | None]]:
    out: dict[str, dict[str, float | str | None]] = {}
    for model, sets in outcome.metrics.items():
        test = {k: round(v, 4) for k, v in sets["test"].items()}
        out[model] = test
    chosen = out[outcome.model.kind]
    chosen["roc_auc_ci95"] = _ci(floor.auc_low, floor.auc_high)
    if floor.rule_auc is not None:
        out["rule_based"]["roc_auc_ci95"] = _ci(floor.rule_auc_low, floor.rule_auc_high)
    else:
        out["rule_based"]["note"] = NO_RULE
    return out


def _ci(low: float | None, high: float | None) -> str | None:
    return None if low is None else f"[{low:.3f}, {high:.3f}]"


def limits(card: dict[str, Any], outcome: Any) -> list[str]:
    """What the card's reader should not trust the model for, from the card's own figures."""
    out = []
    verdict = card["verdict"]
    if verdict["path"] != "model":
        out.append(verdict["reason"])
    if card["rule_baseline"] == NO_RULE:
        out.append(
            f"{NO_RULE}: the source has none of the fields the rule reads, so 'beats the "
            "rule' says nothing beyond 'beats the base rate'"
        )
    if not outcome.trained:  # the verdict above already says why
        return out
    split = card["split"]
    if split.get("split") == "random":
        out.append("random split (the data has no time): the test set is not the future")
    if split.get("split_note"):
        out.append(str(split["split_note"]))
    test_rows = int(split.get("test_rows") or 0)
    positives = round(test_rows * float(split.get("test_positive_rate") or 0))
    if positives < FEW_TEST_POSITIVES:
        out.append(f"only {positives} positives in the test set: its figures are wide")
    if card["calibration"]["ece"] > ECE_LIMIT:
        out.append(
            f"calibration error {card['calibration']['ece']:.3f} on the test set: "
            "probabilities are off by that much on average"
        )
    rates = [split.get(f"{p}_positive_rate") for p in ("train", "valid", "test")]
    if None not in rates and max(rates) > 2 * max(min(rates), 1e-9):
        out.append(
            "class balance differs between train, validation and test ("
            + " / ".join(f"{r:.1%}" for r in rates)
            + ")"
        )
    return out


def markdown(card: dict[str, Any]) -> str:
    """The card in Markdown (what ``crmlens model-card`` prints)."""
    lines = [f"# Model card: {card['family']}", "", f"Predicts: {card['label']}.", ""]
    verdict = card["verdict"]
    lines += [
        "## Verdicts",
        f"- cold start: {'passed' if card['cold_start']['passed'] else 'not trained'} "
        f"({card['cold_start']['reason']})",
        f"- published path: `{verdict['path']}` — {verdict['reason']}",
        f"- rule baseline: {card['rule_baseline']}",
        "",
    ]
    window = card["data_window"]
    lines += [
        "## Data",
        f"- window: {window['first_as_of']} to {window['last_as_of']}, {window['rows']:,} "
        f"rows, positive rate {window['positive_rate']}",
    ]
    if "split" in card:
        s = card["split"]
        lines.append(
            f"- split: {s.get('split')}, train {s.get('train_rows')} / valid "
            f"{s.get('valid_rows')} / test {s.get('test_rows')} rows; positive rate "
            + " / ".join(str(s.get(f"{p}_positive_rate")) for p in ("train", "valid", "test"))
            + f"; test from {s.get('test_start')}"
        )
    lines.append("")
    if "metrics" in card:
        lines += [
            f"## Test metrics ({_chosen(card)})",
            "| model | ROC AUC | 95 % CI | PR AUC | Brier | log loss | ECE |",
            "|---|---|---|---|---|---|---|",
        ]
        for model, m in card["metrics"].items():
            ci = m.get("roc_auc_ci95") or m.get("note") or ""
            lines.append(
                f"| {model} | {m['roc_auc']:.3f} | {ci} | {m['pr_auc']:.3f} | "
                f"{m['brier']:.4f} | {m['log_loss']:.4f} | {m['ece']:.4f} |"
            )
        cal = card["calibration"]
        lines += ["", f"## Calibration: ECE {cal['ece']:.4f} ({cal['method']})", ""]
        lines += ["## Top features"]
        lines += [f"- {f['feature']} ({f['importance']:g})" for f in card["top_features"]]
        lines.append("")
    lines += ["## Known limits"]
    lines += [f"- {limit}" for limit in card["known_limits"]] or ["- none measured"]
    return "\n".join(lines) + "\n"


def _chosen(card: dict[str, Any]) -> str:
    if card["verdict"]["path"] == "model":
        return f"published: {card['published_model']}"
    return f"selected {card['published_model']}, not published: below the promotion floor"


def log(settings: Settings, run_id: str, card: dict[str, Any]) -> None:
    """Log the card (JSON and Markdown) and the floor's figures on an MLflow run."""
    mlflow = mlflow_for(settings)
    client = mlflow.MlflowClient()
    client.log_text(run_id, json.dumps(card, indent=2, default=str), CARD_JSON)
    client.log_text(run_id, markdown(card), CARD_MD)
    verdict = card["verdict"]
    client.set_tag(run_id, "verdict", verdict["path"])
    client.set_tag(run_id, "rule_baseline", card["rule_baseline"])
    for key in ("low", "high"):
        if verdict.get(f"auc_{key}") is not None:
            client.log_metric(run_id, f"test_roc_auc_ci_{key}", float(verdict[f"auc_{key}"]))


def read(settings: Settings, family: Family) -> tuple[dict[str, Any] | None, str]:
    """The champion's card, else the newest run's; and a line saying whose it is.

    Args:
        settings: where MLflow is.
        family: the family.

    Returns:
        The card (None when no run logged one) and where it came from.
    """
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    mlflow = mlflow_for(settings)
    client = mlflow.MlflowClient()
    try:
        version = client.get_model_version_by_alias(family.registered_model, CHAMPION)
        run_id, source = version.run_id, f"champion, version {version.version}"
    except mlflow.exceptions.MlflowException:
        run_id, source = None, None
    if run_id is None:
        found = mlflow.get_experiment_by_name(experiment_name(family))
        if found is None:
            return None, f"no model trained for {family.name} yet"
        runs = client.search_runs([found.experiment_id], order_by=["attributes.start_time DESC"])
        if not runs:
            return None, f"no model trained for {family.name} yet"
        run_id, source = runs[0].info.run_id, "newest run; no champion"
    try:
        text = mlflow.artifacts.load_text(f"runs:/{run_id}/{CARD_JSON}")
    except Exception:
        return None, f"the {source} run {run_id} has no model card"
    return json.loads(text), f"{source}, MLflow run {run_id}"
