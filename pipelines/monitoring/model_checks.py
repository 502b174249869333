"""Monitoring as Dagster asset checks.

On each family's scores (``ml/<entity>_scores``):

- ``<family>_drift`` (blocking): population stability of the score distribution and of
  the model's input features, reference against today's scoring population
  (:mod:`models.common.drift`). The reference is the current model's population on its
  first day in production (``features.<entity>_scoring_reference``, reset when the
  champion changes; see :func:`pipelines.ml.scoring.keep_reference` for why not the
  training snapshots). A collapsed score distribution, a score PSI or an
  importance-weighted feature PSI past the block threshold fails the check with ERROR
  severity: the publish step downstream does not run, so the CRM keeps the previous
  scores, and an alert is raised. Past the warn threshold the check fails as a warning.
- ``<family>_calibration``: the champion's predicted probability against the observed
  rate by decile, on the newest snapshots whose labels have matured (the latest
  holdout of the current training set). A warning when the ECE exceeds ``calibration_warn_ece``.

Every check records what it measured in ``ops.model_monitoring``
(:mod:`pipelines.monitoring.store`), so the dashboards can show drift over time. The checks
on what ingest loaded live with ingest (:mod:`pipelines.ingest.checks`).
"""

# No `from __future__ import annotations`: Dagster inspects the context annotation at runtime.

import numpy as np
import polars as pl
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    asset_check,
)

from crmlens.warehouse import session, table_exists
from models.common import drift, registry
from models.common.floor import NO_SIGNAL_PATH
from models.common.metrics import calibration_by_decile, expected_calibration_error
from models.families import FamilySpec, families
from pipelines.ml.keys import reference_table, scores_key, scoring_features_table
from pipelines.ml.scoring import RULES_VERSION
from pipelines.ml.training_sets import latest_holdout, newest_labelled
from pipelines.monitoring.alerts import raise_pipeline_alert
from pipelines.monitoring.store import record
from pipelines.resources import CrmlensResource

REFERENCE_ROWS = 50_000  # at most this many reference rows are compared
SEED = 7


def _reference_probability(spec: FamilySpec, model, frame: pl.DataFrame) -> np.ndarray:
    if model is not None:
        return model.predict_proba(frame)
    return np.clip(spec.family.rule_points(frame) / 100.0, 0.0, 1.0)


def _published_base_rate(settings, spec: FamilySpec) -> float | None:
    """The base rate the family publishes on the no-signal path; None on any other path."""
    with session(settings.warehouse_path) as con:
        if not table_exists(con, "ml", spec.scores_table):
            return None
        row = con.execute(
            f"select any_value(scoring_path), any_value(probability) from ml.{spec.scores_table}"
        ).fetchone()
    return float(row[1]) if row and row[0] == NO_SIGNAL_PATH else None


def _drift_check(spec: FamilySpec):
    @asset_check(
        asset=scores_key(spec),
        name=f"{spec.name}_drift",
        blocking=True,
        description="Population stability of the scores and of the features, training set "
        "against today's population. Past the block threshold (or a collapsed score) the "
        "scores are not published and the CRM keeps the previous ones.",
    )
    def _check(context: AssetCheckExecutionContext, crmlens: CrmlensResource) -> AssetCheckResult:
        settings = crmlens.settings()
        thresholds = drift.Thresholds.from_settings(settings)
        champion = registry.load(settings, spec.family, registry.CHAMPION)
        model, version = champion if champion else (None, RULES_VERSION)
        scoring, reference_name = scoring_features_table(spec), reference_table(spec)
        with session(settings.warehouse_path) as con:
            if not table_exists(con, "features", reference_name):
                return AssetCheckResult(passed=True, metadata={"status": "no reference yet"})
            reference = con.sql(f"select * from features.{reference_name}").pl()
            current = con.sql(f"select * from features.{scoring}").pl()
            scores = con.sql(f"select probability, scoring_path from ml.{spec.scores_table}").pl()
        if scores.height and scores["scoring_path"][0] == NO_SIGNAL_PATH:
            # the base rate for everyone is constant by design, not a collapsed model
            return AssetCheckResult(
                passed=True,
                metadata={"status": "no reliable signal: the base rate is published"},
            )
        if reference.is_empty() or scores.is_empty():  # nothing to compare: not a failure
            return AssetCheckResult(
                passed=True,
                metadata={"status": "nothing to compare (no reference or nothing scored)"},
            )
        if reference["reference_run_id"][0] == context.run.run_id:
            return AssetCheckResult(
                passed=True,
                metadata={"status": f"reference set by this run (model {version})"},
            )
        if reference.height > REFERENCE_ROWS:
            reference = reference.sample(REFERENCE_ROWS, seed=SEED)
        numeric, categorical = _feature_columns(spec, reference)
        report = drift.assess(
            reference["probability"].to_numpy(),
            scores["probability"].to_numpy(),
            drift.feature_psi(reference, current, numeric, categorical),
            model.importance() if model is not None else None,
            thresholds,
        )
        meta = report.metadata(thresholds)
        path = "model" if model is not None else "rule_based"
        with session(settings.warehouse_path) as con:
            record(
                con, spec, "drift", context.run.run_id, version, path, report.status,
                report.score_psi, meta,
            )  # fmt: skip
            if report.blocked:
                raise_pipeline_alert(
                    con,
                    settings,
                    kind="scores_blocked",
                    entity_type="model",
                    entity_id=spec.name,
                    title=f"{spec.name} scores not published: drift",
                    detail=meta["reasons"],
                    run_id=context.run.run_id,
                )
        return AssetCheckResult(
            passed=report.status == "ok",
            severity=AssetCheckSeverity.ERROR if report.blocked else AssetCheckSeverity.WARN,
            metadata=meta,
        )

    return _check


NOT_FEATURES = {
    "as_of", "probability", "model_version", "reference_run_id", "label", "label_known_at",
    "snapshot_age_days",
}  # fmt: skip


def _feature_columns(spec: FamilySpec, frame: pl.DataFrame) -> tuple[list[str], list[str]]:
    numeric, categorical = [], []
    for name, dtype in frame.schema.items():
        if name in NOT_FEATURES or name == spec.family.id_column:
            continue
        if dtype.is_numeric() or dtype == pl.Boolean:
            numeric.append(name)
        elif dtype in (pl.String, pl.Categorical):
            categorical.append(name)
    return numeric, categorical


def _calibration_check(spec: FamilySpec):
    @asset_check(
        asset=scores_key(spec),
        name=f"{spec.name}_calibration",
        description="The champion's probability against the observed rate by decile, on the "
        "newest snapshots whose labels have matured; a warning past calibration_warn_ece.",
    )
    def _check(context: AssetCheckExecutionContext, crmlens: CrmlensResource) -> AssetCheckResult:
        settings = crmlens.settings()
        champion = registry.load(settings, spec.family, registry.CHAMPION)
        with session(settings.warehouse_path) as con:
            if not table_exists(con, "features", spec.training_table):
                return AssetCheckResult(passed=True, metadata={"status": "no labels yet"})
        model, version = champion if champion else (None, RULES_VERSION)
        if model is None:
            holdout, labels = newest_labelled(settings, spec)
        else:
            holdout, labels = latest_holdout(settings, spec, model)
        if holdout.is_empty():
            return AssetCheckResult(passed=True, metadata={"status": "no matured labels yet"})
        base_rate = _published_base_rate(settings, spec) if model is None else None
        probability = (
            _reference_probability(spec, model, holdout)
            if base_rate is None
            else np.full(holdout.height, base_rate)
        )
        table = calibration_by_decile(probability, labels)
        ece = expected_calibration_error(table)
        status = "ok" if ece <= settings.calibration_warn_ece else "warn"
        meta = {
            "status": status,
            "ece": round(ece, 4),
            "max_ece": settings.calibration_warn_ece,
            "rows": holdout.height,
            "observed_rate": round(float(np.mean(labels)), 4),
            "scoring_path": "model"
            if model is not None
            else ("rule_based" if base_rate is None else NO_SIGNAL_PATH),
            "deciles": [
                {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
                for row in table.iter_rows(named=True)
            ],
        }
        with session(settings.warehouse_path) as con:
            record(
                con, spec, "calibration", context.run.run_id, version, meta["scoring_path"],
                status, ece, meta,
            )  # fmt: skip
        return AssetCheckResult(
            passed=status == "ok", severity=AssetCheckSeverity.WARN, metadata=meta
        )

    return _check


def build_model_checks() -> list:
    """The drift and calibration checks of every family's scores."""
    checks: list = []
    for spec in families():
        checks += [_drift_check(spec), _calibration_check(spec)]
    return checks
