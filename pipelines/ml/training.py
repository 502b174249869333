"""Weekly training, per family (group ``ml``):

    features/<entity>_training_set   snapshots × point-in-time features, with labels
    ml/<family>_challenger           train, evaluate vs baselines, log to MLflow, register
      └─ check <family>_promotion    blocking: beats the champion on the same latest holdout?
    ml/<family>_champion             moves the `champion` alias (runs only if the check passed)

Asset bodies are thin: the work is in features/* and models/common/*.
"""

# No `from __future__ import annotations`: Dagster inspects the context annotation at runtime.
import json
import time

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

from crmlens.clock import data_today, utc_now
from crmlens.warehouse import replace_table, session
from features.labels import population, read_label
from models.common import card, floor, registry
from models.common.evaluations import record_promotion, record_training
from models.common.promotion import decide
from models.common.training import MODELS, Outcome, train
from models.families import FamilySpec
from pipelines.ml.keys import challenger_key, champion_key, training_key
from pipelines.ml.training_sets import latest_holdout, read_training_set, stored_definition
from pipelines.resources import CrmlensResource


def staging_deps(spec: FamilySpec) -> list[AssetKey]:
    """The dbt models a family's features read: staging views, and intermediate tables
    (int_lead_touches) that the transform job must have built first; and the context
    series every family's features join."""
    return [
        *(AssetKey(["staging", f"stg_crm__{t}"]) for t in spec.staging),
        *(AssetKey(["intermediate", m]) for m in spec.intermediate),
        AssetKey(["context", "series"]),
    ]


def training_set_asset(spec: FamilySpec) -> AssetsDefinition:
    """``features/<entity>_training_set``: snapshots with point-in-time features and labels."""
    family = spec.family

    @asset(
        key=training_key(spec),
        group_name="ml",
        deps=staging_deps(spec),
        kinds={"duckdb", "polars"},
        description=f"Training set of {family.name}: snapshots of {family.entity}s with point-in-time "
        f"features and the label '{family.positive_label}'.",
    )
    def training_set(context: AssetExecutionContext, crmlens: CrmlensResource) -> MaterializeResult:
        started = time.perf_counter()
        settings = crmlens.settings()
        with session(settings.warehouse_path) as con:
            today = data_today(con, settings.as_of)
            # The source's label definition, as ingest recorded it from the spec.
            label = read_label(con, spec.name)
            snapshots = spec.features.training_snapshots(con, today, label=label)
            features = spec.features.build(con, snapshots)
            roles = {
                "numeric": features.numeric,
                "categorical": features.categorical,
                "time_exempt": features.time_exempt,
                "today": str(today),
                "population": population(con, spec.name),
                **label.describe(),
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
                "horizon_days": label.horizon_days,
                "label_mode": label.mode,
                "seconds": round(time.perf_counter() - started, 2),
            }
        )

    return training_set


def challenger_asset(spec: FamilySpec) -> AssetsDefinition:
    """``ml/<family>_challenger``: trains, logs the run to MLflow, registers a challenger."""
    family = spec.family

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
            configured, gate_context = stored_definition(con, spec)
        frame = features.frame
        labels, as_of = frame["label"].to_numpy(), frame["as_of"].to_numpy()
        outcome = train(configured.family, features, labels, as_of, context=gate_context)
        # The promotion floor: signal, or the base rate (models.common.floor).
        verdict = floor.verdict(configured.family, outcome, frame, labels)
        logged = registry.log_training(
            settings,
            configured.family,
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
                trained_at=utc_now(),
                verdict=verdict,
            )
            floor.record(
                con,
                family.name,
                verdict,
                mlflow_run_id=logged.run_id,
                version=logged.version,
                decided_at=utc_now(),
            )
        card.log(
            settings, logged.run_id, card.build(configured.family, outcome, verdict, labels, as_of)
        )
        return MaterializeResult(metadata=_challenger_metadata(outcome, logged, verdict))

    return challenger


def _challenger_metadata(
    outcome: Outcome, logged: registry.LoggedRun, verdict: floor.Floor
) -> dict:
    """What the CLI's model table and the Dagster UI show of a training run."""
    meta: dict = {
        "path": verdict.path,
        "trained": outcome.trained,
        "gate": outcome.gate.reason,
        **_clean(verdict.metadata()),
        "mlflow_run_id": logged.run_id,
        "registered_version": logged.version or "none",
    }
    if outcome.trained:
        table = {m: {k: round(v, 4) for k, v in outcome.metrics[m]["test"].items()} for m in MODELS}
        meta["test_metrics"] = MetadataValue.json(table)
        for m in MODELS:
            for metric in ("roc_auc", "pr_auc", "brier", "ece"):
                meta[f"test_{metric}_{m}"] = round(outcome.test_metric(m, metric), 4)
        meta["split"] = MetadataValue.json(outcome.split.describe())
        # The split the figures come from: "time", or "random" when the snapshots share one
        # date (an undated export); its test rows are the held-out predictions scored above.
        meta["split_kind"] = outcome.split.kind
        meta["test_rows"] = len(outcome.split.test)
        meta["selected_model"] = outcome.model.kind
    return meta


def promotion_check(spec: FamilySpec):
    """``<family>_promotion`` (blocking): the challenger beats the champion on one holdout."""
    family = spec.family

    @asset_check(
        asset=challenger_key(spec),
        name=f"{spec.name}_promotion",
        blocking=True,
        description="The challenger clears the promotion floor (its test ROC AUC's bootstrap 95 % "
        "interval excludes 0.5 and it beats the rule and the base rate on log loss or Brier; "
        "otherwise: 'no reliable signal in this data', and the family publishes the base rate) "
        "and beats the champion on the same latest holdout: ROC AUC up by a margin and "
        "calibration (ECE) not worse. Blocks promotion otherwise.",
    )
    def promotion(
        context: AssetCheckExecutionContext, crmlens: CrmlensResource
    ) -> AssetCheckResult:
        settings = crmlens.settings()
        challenger_model = registry.load(settings, family, registry.CHALLENGER)
        champion_model = registry.load(settings, family, registry.CHAMPION)
        holdout, labels = latest_holdout(settings, spec, challenger_model)
        with session(settings.warehouse_path) as con:
            verdict = floor.latest(con, family.name)
        decision = decide(challenger_model, champion_model, holdout, labels, verdict)
        with session(settings.warehouse_path) as con:
            record_promotion(con, family.name, decision.metadata(), utc_now())
        return AssetCheckResult(
            passed=decision.promote,
            metadata=_clean(decision.metadata()),
            description=decision.reason,
        )

    return promotion


def champion_asset(spec: FamilySpec) -> AssetsDefinition:
    """``ml/<family>_champion``: points the alias at a challenger that passed its check."""
    family = spec.family

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

    return champion


def _clean(meta: dict) -> dict:
    return {
        k: ("none" if v is None else round(v, 4) if isinstance(v, float) else v)
        for k, v in meta.items()
    }
