"""Train a family and measure it against its baselines on the same time-split holdout.

Three models are fitted on the training rows and judged on the test rows:

1. the rule-based score CRMs ship (the family's points, rescaled to a probability
   by a Platt fit on the validation rows so that its Brier score is fair to it);
2. a logistic regression (imputation, scaling, one-hot categories);
3. LightGBM, early-stopped on the validation rows.

The published model is calibrated on out-of-sample scores of every fitted row: the
validation rows as the model scores them, and the training rows as scored by models
fitted (with the same settings and rounds) on the other training entities, in
:data:`~models.common.model.CALIBRATION_FOLDS` folds by entity. The validation alone is a
short window: with one outcome per entity it holds a few hundred deals, and its base rate
(a cohort's) is off by several points from one period to the next, which a calibrator
fitted there carries into every score. Isotonic or Platt is chosen by cross-validated log
loss on those scores (:meth:`~models.common.model.Calibrator.choose`).

The published model is LightGBM when it ranks the validation rows clearly better
than the logistic regression; otherwise (a tie, data that drifts like the bank's, a
small table like the telco file's) the calibrated logistic regression is published,
and its reasons come from its own exact per-row terms. The choice never looks at the
test rows. Every fit, early stop, calibration, choice and metric weighs the rows by
the split's weights (each entity's snapshots the same in total), and the features
that only stand for time are dropped under a time split (:mod:`models.common.time_proxies`).

The cold-start gate runs first: below the minimum history nothing is trained and
the outcome says the rule-based score is to be published.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import polars as pl
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

from features.common import FeatureSet
from models.common.family import Family, GateContext, GateResult
from models.common.metrics import calibration_by_decile, ece_by_chance, evaluate
from models.common.model import (
    CALIBRATION_FOLDS,
    Calibrator,
    FeatureLayout,
    LinearModel,
    ScoringModel,
    fit_lightgbm,
    train_lightgbm,
)
from models.common.routing import calibration_evidence
from models.common.splits import PARTS, Split, split_by_time
from models.common.time_proxies import drop_time_proxies

log = logging.getLogger(__name__)

MODELS = ("rule_based", "logistic_regression", "lightgbm")
# How much better (validation ROC AUC) LightGBM must be to be published instead of the
# logistic regression.
SELECTION_MARGIN = 0.005


@dataclass
class Outcome:
    """Everything a training run produced, for MLflow, the promotion check and the notes."""

    family: str
    gate: GateResult
    split: Split | None = None
    model: ScoringModel | None = None
    metrics: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    calibration: dict[str, list[dict]] = field(default_factory=dict)
    importance: dict[str, float] = field(default_factory=dict)
    test_labels: np.ndarray | None = None
    test_predictions: dict[str, np.ndarray] = field(default_factory=dict)
    params: dict[str, object] = field(default_factory=dict)
    example_frame: pl.DataFrame | None = None  # a few feature rows: the MLflow input example

    @property
    def trained(self) -> bool:
        return self.model is not None

    def test_metric(self, model: str, metric: str) -> float:
        return self.metrics[model]["test"][metric]


def train(
    family: Family,
    features: FeatureSet,
    labels: np.ndarray,
    as_of: np.ndarray,
    *,
    seed: int = 42,
    context: GateContext | None = None,
) -> Outcome:
    """Gate, split, fit the three models, and evaluate them on the same test rows.

    Args:
        family: The model family (gate, rule points, horizon, id column).
        features: The training set's features.
        labels: One 0/1 label per row.
        as_of: Each row's snapshot time (the split is by time).
        seed: Seeds the split and LightGBM.
        context: What the set was cut from, so a closed gate says why and what to set.

    Returns:
        The gate's verdict and, when it passed, the published model, every model's
        metrics and calibration on the same rows, and the run's parameters.

    Raises:
        ValueError: A part of the split holds only one class.
    """
    frame = features.frame
    ids = frame[family.id_column].to_numpy()
    labels = np.asarray(labels, dtype=int)
    gate = family.gate.check(ids, labels, context)
    outcome = Outcome(family=family.name, gate=gate)
    if not gate.passed:
        log.warning("%s: %s; the rule-based score will be published", family.name, gate.reason)
        return outcome

    known = frame["label_known_at"].to_numpy() if "label_known_at" in frame.columns else None
    split = split_by_time(
        as_of,
        labels,
        family.horizon_days,
        seed=seed,
        label_known_at=known,
        groups=ids if family.one_outcome_per_entity else None,
    )
    outcome.split = split
    if not split.balance_ok:
        log.warning("%s: %s", family.name, split.note)
    parts = {name: frame[split.part(name)] for name in PARTS}
    ys = {name: labels[split.part(name)] for name in PARTS}
    ws = {name: split.weight(name) for name in PARTS}
    gs = {name: ids[split.part(name)] for name in PARTS}
    for name, y in ys.items():
        if len(np.unique(y)) < 2:
            raise ValueError(f"{family.name}: the {name} set has only one class; need more history")
    numeric, proxies = drop_time_proxies(
        split, features.numeric, frame, as_of, exempt=features.time_exempt
    )
    layout = FeatureLayout.fit(parts["train"], numeric, features.categorical)
    fitted = _fit(family, layout, parts, ys, ws, gs, seed)
    model = fitted.model
    _record(outcome, fitted, parts["test"], ys, ws)
    outcome.params = {
        **split.describe(),
        "features_numeric": len(layout.numeric),
        "features_categorical": len(layout.categorical),
        "boosting_rounds": fitted.boosting_rounds,
        "selected_model": model.kind,
        "valid_roc_auc_lightgbm": round(fitted.valid_auc["lightgbm"], 4),
        "valid_roc_auc_logistic_regression": round(fitted.valid_auc["logistic_regression"], 4),
        "calibration": model.calibrator.method,
        "time_proxies_dropped": ", ".join(proxies) or "none",
        **_at_creation(outcome, parts["test"], fitted.predictions),
        **_ece_by_chance(fitted.model.kind, fitted.predictions, ws["test"], gs["test"]),
        "seed": seed,
        "horizon_days": family.horizon_days,
        "gate": gate.reason,
    }
    return outcome


def _record(
    outcome: Outcome,
    fitted: _Fitted,
    test: pl.DataFrame,
    ys: dict[str, np.ndarray],
    ws: dict[str, np.ndarray],
) -> None:
    """The fitted models' weighted metrics, calibration and test predictions."""
    outcome.model = fitted.model
    outcome.metrics = {
        m: {
            name: evaluate(ys[name], fitted.predictions[m][name], ws[name])
            for name in ("valid", "test")
        }
        for m in MODELS
    }
    outcome.calibration = {
        m: _calibration(fitted.predictions[m]["test"], ys["test"], ws["test"]) for m in MODELS
    }
    outcome.importance = fitted.model.importance()
    outcome.test_labels = ys["test"]
    outcome.test_predictions = {m: fitted.predictions[m]["test"] for m in MODELS}
    outcome.example_frame = test.head(5)


def _calibration(probability: np.ndarray, labels: np.ndarray, weight: np.ndarray) -> list[dict]:
    """Calibration by decile as the MLflow artifact and plot read it."""
    table = calibration_by_decile(probability, labels, weight=weight)
    return table.rename({"predicted": "mean_predicted", "observed": "observed_rate"}).to_dicts()


@dataclass
class _Fitted:
    """The three models' validation and test predictions, and the model to publish."""

    predictions: dict[str, dict[str, np.ndarray]]
    model: ScoringModel
    valid_auc: dict[str, float]
    boosting_rounds: int


def _fit(
    family: Family,
    layout: FeatureLayout,
    parts: dict[str, pl.DataFrame],
    ys: dict[str, np.ndarray],
    ws: dict[str, np.ndarray],
    gs: dict[str, np.ndarray],
    seed: int,
) -> _Fitted:
    """Fit the rule's rescaling, the logistic regression and LightGBM; pick the one to publish
    (every fit, early stop, calibration and choice under the rows' weights ``ws``; ``gs``
    the rows' entities, for the cross-fitted calibration)."""
    predictions: dict[str, dict[str, np.ndarray]] = {m: {} for m in MODELS}

    # 1. the rule-based score, rescaled on the validation rows
    points = {name: family.rule_points(part) for name, part in parts.items()}
    rule_cal = Calibrator("platt", platt=_platt(points["valid"] / 100.0, ys["valid"], ws["valid"]))
    for name in ("valid", "test"):
        predictions["rule_based"][name] = rule_cal(np.clip(points[name] / 100.0, 1e-4, 1 - 1e-4))

    # 2. logistic regression
    linear = LinearModel.fit(layout, parts["train"], ys["train"], ws["train"])
    raw_lr = {name: linear.probability(layout, parts[name]) for name in ("valid", "test")}
    for name in ("valid", "test"):
        predictions["logistic_regression"][name] = raw_lr[name]

    # 3. LightGBM, early-stopped on the validation rows
    booster = train_lightgbm(
        layout,
        parts["train"],
        ys["train"],
        parts["valid"],
        ys["valid"],
        {"seed": seed},
        weights=(ws["train"], ws["valid"]),
    )
    raw_gbm = {name: booster.predict(layout.matrix(parts[name])) for name in ("valid", "test")}
    rounds = booster.best_iteration or booster.current_iteration()
    params = {"seed": seed}
    oof_gbm = _cross_fitted(
        parts["train"],
        ys["train"],
        ws["train"],
        gs["train"],
        lambda frame, y, w, held: fit_lightgbm(layout, frame, y, w, rounds, params).predict(
            layout.matrix(held)
        ),
    )
    gbm = _publishable(family, layout, ys, ws, gs, (oof_gbm, raw_gbm["valid"]), booster=booster)
    for name in ("valid", "test"):
        predictions["lightgbm"][name] = gbm.calibrator(raw_gbm[name])

    # The published model: LightGBM when it ranks the validation rows clearly better than
    # the logistic regression; on a tie the simpler model, whose reasons are its exact
    # terms (drifting or small data). Chosen on validation, never on test.
    valid_auc = {
        "lightgbm": roc_auc_score(ys["valid"], raw_gbm["valid"], sample_weight=ws["valid"]),
        "logistic_regression": roc_auc_score(
            ys["valid"], raw_lr["valid"], sample_weight=ws["valid"]
        ),
    }
    model = gbm
    if valid_auc["lightgbm"] < valid_auc["logistic_regression"] + SELECTION_MARGIN:
        oof_lr = _cross_fitted(
            parts["train"],
            ys["train"],
            ws["train"],
            gs["train"],
            lambda frame, y, w, held: LinearModel.fit(layout, frame, y, w).probability(
                layout, held
            ),
        )
        model = _publishable(family, layout, ys, ws, gs, (oof_lr, raw_lr["valid"]), linear=linear)
    return _Fitted(predictions, model, valid_auc, rounds)


def _publishable(
    family: Family,
    layout: FeatureLayout,
    ys: dict[str, np.ndarray],
    ws: dict[str, np.ndarray],
    gs: dict[str, np.ndarray],
    raw: tuple[np.ndarray, np.ndarray],
    **model: lgb.Booster | LinearModel,
) -> ScoringModel:
    """A fitted model as it is published: calibrated on ``raw``, the out-of-sample scores
    of the training rows (cross-fitted) and of the validation rows, with the training
    rows' base rate for the grades (``booster=`` or ``linear=`` says which), and the
    calibration rows per bin of calibrated probability (the rows' confidence evidence)."""
    fitted = ("train", "valid")
    weight = np.concatenate([ws[n] for n in fitted])
    calibrator = Calibrator.choose(
        np.concatenate(raw),
        np.concatenate([ys[n] for n in fitted]),
        weight,
        np.concatenate([gs[n] for n in fitted]),
    )
    return ScoringModel(
        family=family.name,
        layout=layout,
        calibrator=calibrator,
        base_rate=float(np.average(ys["train"], weights=ws["train"])),
        evidence=calibration_evidence(calibrator(np.concatenate(raw)), weight),
        **model,
    )


def _cross_fitted(
    frame: pl.DataFrame,
    y: np.ndarray,
    weight: np.ndarray,
    groups: np.ndarray,
    fit_predict: Callable[[pl.DataFrame, np.ndarray, np.ndarray, pl.DataFrame], np.ndarray],
) -> np.ndarray:
    """Each row's score by a model fitted without its entity: ``fit_predict(frame, y,
    weight, held)`` fits on the other folds' rows and scores the held-out ones."""
    out = np.empty(len(y))
    folds = GroupKFold(min(CALIBRATION_FOLDS, len(np.unique(groups))))
    for fit, held in folds.split(np.zeros(len(y)), y, groups):
        out[held] = fit_predict(frame[fit], y[fit], weight[fit], frame[held])
    return out


def _platt(p: np.ndarray, y: np.ndarray, weight: np.ndarray) -> LogisticRegression:
    platt = LogisticRegression()
    p = np.clip(p, 1e-4, 1 - 1e-4)
    platt.fit(np.log(p / (1 - p)).reshape(-1, 1), y, sample_weight=weight)
    return platt


def _ece_by_chance(
    kind: str,
    predictions: dict[str, dict[str, np.ndarray]],
    weight: np.ndarray,
    groups: np.ndarray,
) -> dict[str, float]:
    """What a perfectly calibrated published model's test ECE would be by chance
    (:func:`~models.common.metrics.ece_by_chance`): the scale the measured one is read on."""
    mean, high = ece_by_chance(predictions[kind]["test"], weight, groups)
    return {"test_ece_by_chance_mean": round(mean, 4), "test_ece_by_chance_95": round(high, 4)}


def _at_creation(
    outcome: Outcome, test: pl.DataFrame, predictions: dict[str, dict[str, np.ndarray]]
) -> dict[str, float]:
    """Each model's test ROC AUC on the snapshots taken at creation (age 0), where a family
    snapshots at ages: "will this new lead convert?" (empty when there are none)."""
    if "snapshot_age_days" not in test.columns:
        return {}
    first = (test["snapshot_age_days"] == 0).fill_null(False).to_numpy()
    y = outcome.test_labels
    if y is None or first.all() or len(np.unique(y[first])) < 2:
        return {}
    return {
        f"test_roc_auc_at_creation_{m}": round(
            float(roc_auc_score(y[first], predictions[m]["test"][first])), 4
        )
        for m in MODELS
    }
