"""ML assets, per family (group `ml`):

    features/<entity>_training_set   snapshots × point-in-time features, with labels
    ml/<family>_challenger           train, evaluate vs baselines, log to MLflow, register
      └─ check <family>_promotion    blocking: beats the champion on the same latest holdout?
    ml/<family>_champion             moves the `champion` alias (runs only if the check passed)
    ml/<entity>_scores               daily: the champion (or the rule, on cold start) scores
                                     the open population as of the data's today

The scores read the `champion` alias when they run; they are deliberately not
downstream of training in the graph, so that a challenger the check blocks (a
normal weekly outcome) never stops the daily scores. Training runs as its own job.

Asset bodies are thin: the work is in features/* and models/common/*.
"""

# No `from __future__ import annotations`: Dagster inspects the context annotation at runtime.
import json
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)

from crmlens.clock import data_today
from crmlens.warehouse import fetch_one, replace_table, session, table_comment, table_exists
from features.common import FeatureSet
from models.common import registry
from models.common.evaluations import record_promotion, record_training
from models.common.promotion import decide
from models.common.scoring import score
from models.common.splits import split_by_time
from models.common.training import MODELS, train
from models.families import FamilySpec, families
from pipelines.resources import CrmlensResource


def training_key(spec: FamilySpec) -> AssetKey:
    return AssetKey(["features", f"{spec.family.entity}_training_set"])


def challenger_key(spec: FamilySpec) -> AssetKey:
    return AssetKey(["ml", f"{spec.name}_challenger"])


def champion_key(spec: FamilySpec) -> AssetKey:
    return AssetKey(["ml", f"{spec.name}_champion"])


def scores_key(spec: FamilySpec) -> AssetKey:
    return AssetKey(["ml", spec.scores_table])


def scoring_features_table(spec: FamilySpec) -> str:
    """features.<entity>_scoring: the feature rows of today's scoring run (drift reads it)."""
    return f"{spec.family.entity}_scoring"


def reference_table(spec: FamilySpec) -> str:
    """features.<entity>_scoring_reference: the first scoring run of the current model."""
    return f"{spec.family.entity}_scoring_reference"


def keep_reference(con, spec: FamilySpec, frame: pl.DataFrame, scores: pl.DataFrame,
                   version: str, run_id: str) -> bool:  # fmt: skip
    """Keep today's features and probabilities as the drift reference when the model changed.

    The reference is the model's population on its first day in production, not its
    training set: training snapshots sample each lead at fixed ages, while the open
    population piles up old, quiet leads — on the demo CRM the two differ by a score PSI
    of 0.80 with no drift at all. Returns whether the reference was (re)set.
    """
    name = reference_table(spec)
    if table_exists(con, "features", name):
        kept = fetch_one(con, f"select any_value(model_version) from features.{name}")[0]
        if kept == version:
            return False
    reference = frame.with_columns(
        probability=scores["probability"],
        model_version=pl.lit(version),
        reference_run_id=pl.lit(run_id),
    )
    replace_table(con, "features", name, reference, f"drift reference of {version}")
    return True


def read_training_set(con, spec: FamilySpec) -> FeatureSet:
    """The stored training set, with the column roles saved in the table's comment."""
    roles = json.loads(table_comment(con, "features", spec.training_table) or "{}")
    frame = con.sql(f"select * from features.{spec.training_table}").pl()
    return FeatureSet(
        frame, spec.family.id_column, roles.get("numeric", []), roles.get("categorical", [])
    )


def _build(spec: FamilySpec) -> list:
    family = spec.family
    # The dbt models the features read: staging views, and intermediate tables
    # (int_lead_touches) that the transform job must have built first.
    staging_deps = [AssetKey(["staging", f"stg_crm__{t}"]) for t in spec.staging] + [
        AssetKey(["intermediate", m]) for m in spec.intermediate
    ]

    @asset(
        key=training_key(spec),
        group_name="ml",
        deps=staging_deps,
        kinds={"duckdb", "polars"},
        description=f"Training set of {family.name}: snapshots of {family.entity}s with point-in-time "
        f"features and the label '{family.positive_label}'.",
    )
    def training_set(context: AssetExecutionContext, crmlens: CrmlensResource) -> MaterializeResult:
        started = time.perf_counter()
        settings = crmlens.settings()
        with session(settings.warehouse_path) as con:
            today = data_today(con, settings.as_of)
            snapshots = spec.features.training_snapshots(con, today)
            features = spec.features.build(con, snapshots)
            roles = {
                "numeric": features.numeric,
                "categorical": features.categorical,
                "today": str(today),
            }
            replace_table(con, "features", spec.training_table, features.frame, json.dumps(roles))
        frame = features.frame
        return MaterializeResult(
            metadata={
                "rows": frame.height,
                "entities": frame[family.id_column].n_unique(),
                "positive_rate": float(frame["label"].mean()) if frame.height else 0.0,
                "first_as_of": str(frame["as_of"].min()),
                "last_as_of": str(frame["as_of"].max()),
                "features": len(features.feature_columns),
                "data_today": str(today),
                "seconds": round(time.perf_counter() - started, 2),
            }
        )

    @asset(
        key=challenger_key(spec),
        group_name="ml",
        deps=[training_key(spec)],
        kinds={"lightgbm", "mlflow"},
        description=f"Trains {family.name} (rule-based and logistic-regression baselines, calibrated "
        "LightGBM) on a time split, logs the run to MLflow and registers the model as `challenger`.",
    )
    def challenger(context: AssetExecutionContext, crmlens: CrmlensResource) -> MaterializeResult:
        settings = crmlens.settings()
        with session(settings.warehouse_path) as con:
            features = read_training_set(con, spec)
        frame = features.frame
        outcome = train(family, features, frame["label"].to_numpy(), frame["as_of"].to_numpy())
        logged = registry.log_training(
            settings,
            family,
            outcome,
            tags={"dagster_run_id": context.run_id},
            run_name=context.run_id[:8],
        )
        with session(settings.warehouse_path) as con:
            record_training(
                con,
                outcome,
                mlflow_run_id=logged.run_id,
                version=logged.version,
                trained_at=datetime.now(UTC).replace(tzinfo=None),
            )
        meta: dict = {
            "path": "model" if outcome.trained else "rule_based",
            "gate": outcome.gate.reason,
            "mlflow_run_id": logged.run_id,
            "registered_version": logged.version or "none",
        }
        if outcome.trained:
            table = {
                m: {k: round(v, 4) for k, v in outcome.metrics[m]["test"].items()} for m in MODELS
            }
            meta["test_metrics"] = MetadataValue.json(table)
            for m in MODELS:
                meta[f"test_roc_auc_{m}"] = round(outcome.test_metric(m, "roc_auc"), 4)
            meta["test_ece_lightgbm"] = round(outcome.test_metric("lightgbm", "ece"), 4)
            meta["split"] = MetadataValue.json(outcome.split.describe())
        return MaterializeResult(metadata=meta)

    @asset_check(
        asset=challenger_key(spec),
        name=f"{spec.name}_promotion",
        blocking=True,
        description="The challenger beats the champion on the same latest holdout: ROC AUC up by a "
        "margin and calibration (ECE) not worse. Blocks promotion otherwise.",
    )
    def promotion(
        context: AssetCheckExecutionContext, crmlens: CrmlensResource
    ) -> AssetCheckResult:
        settings = crmlens.settings()
        challenger_model = registry.load(settings, family, registry.CHALLENGER)
        champion_model = registry.load(settings, family, registry.CHAMPION)
        holdout, labels = _holdout(settings, spec, challenger_model)
        decision = decide(challenger_model, champion_model, holdout, labels)
        with session(settings.warehouse_path) as con:
            record_promotion(
                con, family.name, decision.metadata(), datetime.now(UTC).replace(tzinfo=None)
            )
        return AssetCheckResult(passed=decision.promote, metadata=_clean(decision.metadata()))

    @asset(
        key=champion_key(spec),
        group_name="ml",
        deps=[challenger_key(spec)],
        kinds={"mlflow"},
        description=f"Points the `champion` alias of {family.registered_model} at the challenger "
        "that passed the promotion check. Scoring always loads the champion.",
    )
    def champion(context: AssetExecutionContext, crmlens: CrmlensResource) -> MaterializeResult:
        settings = crmlens.settings()
        new = registry.alias_version(settings, family, registry.CHALLENGER)
        old = registry.alias_version(settings, family, registry.CHAMPION)
        if new is not None and new != old:
            registry.set_alias(settings, family, registry.CHAMPION, new)
        return MaterializeResult(
            metadata={"champion_version": new or old or "none", "previous_champion": old or "none"}
        )

    @asset(
        key=scores_key(spec),
        group_name="ml",
        # Not downstream of the champion asset on purpose: a promotion the check blocks
        # must not stop scoring with the current champion (the alias is read at run time).
        deps=staging_deps,
        kinds={"duckdb"},
        description=f"Scores of every open {family.entity} as of the data's today, in the score "
        f"contract: score 0-100, probability, grade, reasons, next action, model and path.",
    )
    def scores(context: AssetExecutionContext, crmlens: CrmlensResource) -> MaterializeResult:
        started = time.perf_counter()
        settings = crmlens.settings()
        champion_model = registry.load(settings, family, registry.CHAMPION)
        with session(settings.warehouse_path) as con:
            today = data_today(con, settings.as_of)
            population = spec.features.scoring_population(con, today)
            features = spec.features.build(con, population)
            model, version = champion_model if champion_model else (None, None)
            table = score(
                family,
                features,
                model,
                model_version=version,
                run_id=context.run_id,
                scored_at=today,
                valid_for=timedelta(days=1),
            )
            replace_table(con, "ml", spec.scores_table, table)
            replace_table(con, "features", scoring_features_table(spec), features.frame)
            new_reference = keep_reference(
                con, spec, features.frame, table, version or "rules-v1", context.run_id
            )
        grades = table.group_by("grade").len().sort("grade")
        return MaterializeResult(
            metadata={
                "rows": table.height,
                "path": "model" if model is not None else "rule_based",
                "model_version": version or "rules-v1",
                "as_of": str(today),
                "mean_score": float(table["score"].mean()) if table.height else 0.0,
                "grades": MetadataValue.json(
                    dict(zip(grades["grade"], grades["len"], strict=True))
                ),
                "drift_reference": "set today" if new_reference else "kept",
                "seconds": round(time.perf_counter() - started, 2),
            }
        )

    return [training_set, challenger, promotion, champion, scores]


def _holdout(settings, spec: FamilySpec, challenger) -> tuple[pl.DataFrame, np.ndarray]:
    """The challenger's test set, recomputed: the split is a deterministic function of the
    stored training set (the latest snapshots, or the seeded random test rows)."""
    with session(settings.warehouse_path) as con:
        frame = read_training_set(con, spec).frame
    if challenger is None or frame.is_empty():
        return frame.head(0), np.array([], dtype=int)
    labels = frame["label"].to_numpy()
    known = frame["label_known_at"].to_numpy() if "label_known_at" in frame.columns else None
    split = split_by_time(
        frame["as_of"].to_numpy(),
        labels,
        spec.family.horizon_days,
        label_known_at=known,
        groups=frame[spec.family.id_column].to_numpy()
        if spec.family.one_outcome_per_entity
        else None,
    )
    return frame[split.test], labels[split.test]


def _clean(meta: dict) -> dict:
    return {
        k: ("none" if v is None else round(v, 4) if isinstance(v, float) else v)
        for k, v in meta.items()
    }


def build_ml_definitions() -> tuple[list[AssetsDefinition], list]:
    """(assets, asset checks) of every family."""
    assets, checks = [], []
    for spec in families():
        training_set, challenger, promotion, champion, scores = _build(spec)
        assets += [training_set, challenger, champion, scores]
        checks.append(promotion)
    return assets, checks
