"""Monitoring as Dagster asset checks.

On each family's scores (``ml/<entity>_scores``):

- ``<family>_drift`` (blocking): population stability of the score distribution and of
  the model's input features, reference against today's scoring population
  (:mod:`models.common.drift`). The reference is the current model's population on its
  first day in production (``features.<entity>_scoring_reference``, reset when the
  champion changes; see :func:`pipelines.ml.assets.keep_reference` for why not the
  training snapshots). A collapsed score distribution, a score PSI or an
  importance-weighted feature PSI past the block threshold fails the check with ERROR
  severity: the publish step downstream does not run, so the CRM keeps the previous
  scores, and an alert is raised. Past the warn threshold the check fails as a warning.
- ``<family>_calibration``: the champion's predicted probability against the observed
  rate by decile, on the newest snapshots whose labels have matured (the latest
  holdout of the current training set). A warning when the ECE exceeds 0.05.

On ingest:

- ``events_daily_volume`` on ``raw/events``: a day of the last week with fewer than
  half the events of the median day of the four weeks before it (a broken feed, a
  lost file) is a warning.
- ``<table>_freshness`` on every raw table: hours since its newest change, a warning
  past ``freshness_warn_hours``.

Every check records what it measured in ``ops.model_monitoring`` (models) or in its
metadata (ingest), so the dashboards can show drift over time.
"""

# No `from __future__ import annotations`: Dagster inspects the context annotation at runtime.
import json
from datetime import UTC, datetime

import numpy as np
import polars as pl
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    asset_check,
    multi_asset_check,
)

from crmlens import alerts
from crmlens.contracts import TABLES
from crmlens.warehouse import ensure_schemas, session, table_columns, table_exists
from models.common import drift, registry
from models.common.metrics import calibration_by_decile, expected_calibration_error
from models.families import FamilySpec, families
from pipelines.ingest.assets import raw_key
from pipelines.ml.assets import (
    _holdout,
    read_training_set,
    reference_table,
    scores_key,
    scoring_features_table,
)
from pipelines.resources import CrmlensResource

REFERENCE_ROWS = 50_000  # at most this many reference rows are compared
SEED = 7
MAX_ECE = 0.05
VOLUME_RATIO = 0.5

MONITORING_DDL = """
create table if not exists ops.model_monitoring (
    family varchar, kind varchar, checked_at timestamp, run_id varchar,
    model_version varchar, scoring_path varchar, status varchar, value double,
    detail json
)
"""


def _record(con, spec: FamilySpec, kind: str, run_id: str, version, path, status, value, detail):
    ensure_schemas(con)
    con.execute(MONITORING_DDL)
    con.execute(
        "insert into ops.model_monitoring values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            spec.name,
            kind,
            datetime.now(UTC).replace(tzinfo=None),
            run_id,
            version,
            path,
            status,
            value,
            json.dumps(detail, default=str),
        ],
    )


def _reference_probability(spec: FamilySpec, model, frame: pl.DataFrame) -> np.ndarray:
    if model is not None:
        return model.predict_proba(frame)
    return np.clip(spec.family.rule_points(frame) / 100.0, 0.0, 1.0)


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
        model, version = champion if champion else (None, "rules-v1")
        scoring, reference_name = scoring_features_table(spec), reference_table(spec)
        with session(settings.warehouse_path) as con:
            if not table_exists(con, "features", reference_name):
                return AssetCheckResult(passed=True, metadata={"status": "no reference yet"})
            reference = con.sql(f"select * from features.{reference_name}").pl()
            current = con.sql(f"select * from features.{scoring}").pl()
            scores = con.sql(f"select probability from ml.{spec.scores_table}").pl()
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
            _record(
                con, spec, "drift", context.run.run_id, version, path, report.status,
                report.score_psi, meta,
            )  # fmt: skip
            if report.blocked:
                alerts.raise_alert(
                    con,
                    kind="scores_blocked",
                    entity_type="model",
                    entity_id=spec.name,
                    title=f"{spec.name} scores not published: drift",
                    detail=meta["reasons"],
                    run_id=context.run.run_id,
                    url=settings.alert_webhook_url,
                    now=datetime.now(UTC).replace(tzinfo=None),
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
        f"newest snapshots whose labels have matured; a warning past ECE {MAX_ECE}.",
    )
    def _check(context: AssetCheckExecutionContext, crmlens: CrmlensResource) -> AssetCheckResult:
        settings = crmlens.settings()
        champion = registry.load(settings, spec.family, registry.CHAMPION)
        with session(settings.warehouse_path) as con:
            if not table_exists(con, "features", spec.training_table):
                return AssetCheckResult(passed=True, metadata={"status": "no labels yet"})
        model, version = champion if champion else (None, "rules-v1")
        if model is None:
            holdout, labels = _matured_for_rules(settings, spec)
        else:
            holdout, labels = _holdout(settings, spec, model)
        if holdout.is_empty():
            return AssetCheckResult(passed=True, metadata={"status": "no matured labels yet"})
        table = calibration_by_decile(_reference_probability(spec, model, holdout), labels)
        ece = expected_calibration_error(table)
        status = "ok" if ece <= MAX_ECE else "warn"
        meta = {
            "status": status,
            "ece": round(ece, 4),
            "max_ece": MAX_ECE,
            "rows": holdout.height,
            "observed_rate": round(float(np.mean(labels)), 4),
            "scoring_path": "model" if model is not None else "rule_based",
            "deciles": [
                {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
                for row in table.iter_rows(named=True)
            ],
        }
        with session(settings.warehouse_path) as con:
            _record(
                con, spec, "calibration", context.run.run_id, version, meta["scoring_path"],
                status, ece, meta,
            )  # fmt: skip
        return AssetCheckResult(
            passed=status == "ok", severity=AssetCheckSeverity.WARN, metadata=meta
        )

    return _check


def _matured_for_rules(settings, spec: FamilySpec) -> tuple[pl.DataFrame, np.ndarray]:
    """The rule path has no holdout of its own: the newest tenth of the labelled snapshots."""
    with session(settings.warehouse_path) as con:
        frame = read_training_set(con, spec).frame
    if frame.is_empty():
        return frame, np.array([], dtype=int)
    cutoff = frame["as_of"].quantile(0.9)
    newest = frame.filter(pl.col("as_of") >= cutoff)
    return newest, newest["label"].to_numpy()


@asset_check(
    asset=raw_key("events"),
    name="events_daily_volume",
    description="A day of the last week with fewer than half the events of the median day "
    "of the four weeks before it (a broken feed, a lost file).",
)
def events_daily_volume(
    context: AssetCheckExecutionContext, crmlens: CrmlensResource
) -> AssetCheckResult:
    settings = crmlens.settings()
    with session(settings.warehouse_path) as con:
        if not table_exists(con, "raw", "events"):
            return AssetCheckResult(passed=True, metadata={"status": "no events yet"})
        days = con.sql(
            """
            with bounds as (select max(occurred_at)::date as last from raw.events)
            select occurred_at::date as day, count(*) as events
            from raw.events, bounds
            where occurred_at >= last - interval 34 day
            group by 1 order by 1
            """
        ).pl()
    flagged, detail = volume_anomalies(days)
    return AssetCheckResult(
        passed=not flagged,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "low_days": ", ".join(flagged) or "none",
            "last_days": detail,
            "ratio_threshold": VOLUME_RATIO,
        },
    )


def volume_anomalies(days: pl.DataFrame) -> tuple[list[str], dict[str, dict]]:
    """Days of the last 7 (days with no events count as 0) below VOLUME_RATIO × the median
    of the 28 days before them."""
    if days.is_empty():
        return [], {}
    last = days["day"].max()
    full = pl.DataFrame({"day": pl.date_range(last - pl.duration(days=34), last, eager=True)})
    series = full.join(days, on="day", how="left").fill_null(0).sort("day")
    counts = series["events"].to_list()
    dates = series["day"].to_list()
    flagged, detail = [], {}
    for i in range(len(counts) - 7, len(counts)):
        window = counts[max(0, i - 28) : i]
        if len(window) < 14:
            continue
        median = float(np.median(window))
        detail[str(dates[i])] = {"events": counts[i], "median_28d": median}
        if median >= 20 and counts[i] < VOLUME_RATIO * median:
            flagged.append(str(dates[i]))
    return flagged, detail


FRESHNESS_COLUMNS = ("updated_at", "occurred_at", "changed_at", "created_at")


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            f"{table}_freshness",
            asset=raw_key(table),
            description=f"Hours since the newest change in raw.{table}; a warning past "
            "freshness_warn_hours.",
        )
        for table in TABLES
    ],
)
def source_freshness(context: AssetCheckExecutionContext, crmlens: CrmlensResource):
    settings = crmlens.settings()
    now = datetime.now(UTC).replace(tzinfo=None)
    with session(settings.warehouse_path) as con:
        for table in TABLES:
            newest, column = None, None
            if table_exists(con, "raw", table):
                columns = table_columns(con, "raw", table)
                column = next((c for c in FRESHNESS_COLUMNS if c in columns), None)
                if column:
                    newest = con.execute(f"select max({column}) from raw.{table}").fetchall()[0][0]
            if newest is None:
                yield AssetCheckResult(
                    asset_key=raw_key(table),
                    check_name=f"{table}_freshness",
                    passed=True,
                    metadata={"status": "empty or no timestamp"},
                )
                continue
            hours = (now - newest).total_seconds() / 3600
            yield AssetCheckResult(
                asset_key=raw_key(table),
                check_name=f"{table}_freshness",
                passed=hours <= settings.freshness_warn_hours,
                severity=AssetCheckSeverity.WARN,
                metadata={
                    "newest": str(newest),
                    "column": column,
                    "hours_old": round(hours, 1),
                    "warn_after_hours": settings.freshness_warn_hours,
                },
            )


def build_monitoring_checks() -> list:
    checks: list = [events_daily_volume, source_freshness]
    for spec in families():
        checks += [_drift_check(spec), _calibration_check(spec)]
    return checks
