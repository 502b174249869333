"""Forecast assets (group `forecast`):

    ml/revenue_forecast      one publication (a multi-asset, so the three tables and the
    ml/pipeline_forecast     MLflow run always belong to the same computation): series from
    ml/forecast_backtest     the marts → backtest-and-select per series → reconciled segments →
                             pipeline forecast blended with the statistical one; appends the
                             run to ml.revenue_forecast_history and logs it to MLflow
    ml/forecast_accuracy     every published forecast against the actuals known now

The job `forecast` (pipelines/jobs.py) runs them with the publish step on demand, and the
schedule `monthly_forecast` on the 2nd at 06:00 UTC, once the month has closed and the
daily run has loaded its last day. Asset bodies stay thin: the work is in :mod:`models.forecasting`.
"""

# No `from __future__ import annotations`: Dagster inspects the annotations at runtime.
import time

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from crmlens.clock import data_today
from crmlens.warehouse import session
from models.forecasting import accuracy, assemble, series, tracking
from pipelines.resources import CrmlensResource

GROUP = "forecast"
JOB = "forecast"

REVENUE_FORECAST = AssetKey(["ml", "revenue_forecast"])
PIPELINE_FORECAST = AssetKey(["ml", "pipeline_forecast"])
FORECAST_BACKTEST = AssetKey(["ml", "forecast_backtest"])
FORECAST_ACCURACY = AssetKey(["ml", "forecast_accuracy"])

OPPORTUNITIES = AssetKey(["marts", "fct_opportunities"])
REVENUE_MONTHLY = AssetKey(["marts", "fct_revenue_monthly"])
MRR_MONTHLY = AssetKey(["marts", "fct_mrr_monthly"])
OPPORTUNITY_SCORES = AssetKey(["ml", "opportunity_scores"])
# Read as well: segments, account MRR and the close-date history.
SEGMENT_DEPS = [
    AssetKey(["marts", "dim_users"]),
    AssetKey(["marts", "dim_accounts"]),
    AssetKey(["marts", "fct_mrr_movements"]),
]
STAGE_HISTORY = AssetKey(["staging", "stg_crm__opportunity_stage_history"])


class ForecastConfig(Config):
    """What a publication covers. The defaults are the scheduled run."""

    metrics: list[str] = list(series.METRICS)
    grains: list[str] = list(series.GRAINS)
    segment_types: list[str] = list(series.SEGMENT_TYPES)
    n_jobs: int = 2  # worker processes for backtest-and-select (1: in the run's own process)
    log_to_mlflow: bool = True


def _round(value):
    return round(value, 4) if isinstance(value, float) else value


@multi_asset(
    name="forecast_publication",
    group_name=GROUP,
    specs=[
        AssetSpec(
            REVENUE_FORECAST,
            deps=[OPPORTUNITIES, REVENUE_MONTHLY, MRR_MONTHLY, *SEGMENT_DEPS],
            kinds={"duckdb", "statsmodels", "mlflow"},
            description="Bookings, MRR and new pipeline by month and week, total and by region, "
            "team and product line: the method chosen per series by rolling-origin backtest, 80/95 % "
            "intervals calibrated on it, segments reconciled to the total; quarter rows of total "
            "bookings with commit / most likely / best case. Appends ml.revenue_forecast_history.",
        ),
        AssetSpec(
            PIPELINE_FORECAST,
            deps=[OPPORTUNITIES, OPPORTUNITY_SCORES, STAGE_HISTORY],
            kinds={"duckdb"},
            description="Current and next two quarters of bookings: weighted pipeline (CRM "
            "roll-up), probability-weighted and slippage-adjusted pipeline (calibrated win "
            "probabilities), the statistical forecast, their backtest-weighted blend, and the "
            "commit / most likely / best case scenarios.",
        ),
        AssetSpec(
            FORECAST_BACKTEST,
            deps=[OPPORTUNITIES, REVENUE_MONTHLY, MRR_MONTHLY],
            kinds={"duckdb"},
            description="Series × method × horizon: MASE, sMAPE, MAE and 80/95 % interval coverage "
            "of the rolling-origin backtest, the chosen method flagged; quarter rows for the "
            "pipeline methods and the blend.",
        ),
    ],
)
def forecast_publication(
    context: AssetExecutionContext, config: ForecastConfig, crmlens: CrmlensResource
):
    started = time.perf_counter()
    settings = crmlens.settings()
    with session(settings.warehouse_path) as con:
        today = data_today(con, settings.as_of)
        pub = assemble.run(
            con,
            today,
            run_id=context.run_id,
            n_jobs=config.n_jobs,
            metrics=tuple(config.metrics),
            grains=tuple(config.grains),
            segment_types=tuple(config.segment_types),
        )
        matches = series.check_against_marts(con, pub.series)
    covered = series.what_was_forecast(pub.series)
    context.log.info(covered)
    computed = time.perf_counter() - started
    mlflow_run_id = None
    if config.log_to_mlflow:
        mlflow_run_id = tracking.log_publication(
            settings, pub, run_name=context.run_id[:8], tags={"dagster_run_id": context.run_id}
        )
    with session(settings.warehouse_path) as con:
        assemble.write(con, pub, mlflow_run_id)
    summary = {k: _round(v) for k, v in pub.summary.items() if not isinstance(v, dict)}
    current = {g: str(p) for g, p in pub.series.current.items()}
    yield MaterializeResult(
        asset_key=REVENUE_FORECAST,
        metadata={
            "rows": pub.forecast.height,
            "series": pub.summary["series"],
            "note": covered,
            "chosen_methods": MetadataValue.json(pub.summary["chosen_methods"]),
            "headline": MetadataValue.json(summary),
            "forecast_origin": str(today),
            "incomplete_current_period": MetadataValue.json(current),
            "matches_revenue_marts": MetadataValue.json(matches),
            "mlflow_run_id": mlflow_run_id or "not logged",
            "compute_seconds": round(computed, 1),
            "n_jobs": config.n_jobs,
        },
    )
    info = pub.pipeline_info
    quarters = {}
    if pub.pipeline.height:
        for row in pub.pipeline.iter_rows(named=True):
            quarters.setdefault(row["quarter"], {})[row["scenario"]] = round(row["amount"], 2)
    yield MaterializeResult(
        asset_key=PIPELINE_FORECAST,
        metadata={
            "rows": pub.pipeline.height,
            "quarters": MetadataValue.json(quarters),
            "blend_pipeline_weights": MetadataValue.json(
                {str(h): round(w, 4) for h, w in info.get("weights", {}).items()}
            ),
            "open_deals": info.get("open_deals", 0),
            "amounts_imputed": info.get("amounts_imputed", 0),
            "probability_sources": MetadataValue.json(info.get("probability_sources", {})),
            "slippage_note": info.get("slippage_note") or "kernels learned",
            "skipped": "" if pub.pipeline.height else "no total monthly bookings in this run",
        },
    )
    chosen = pub.backtest.filter(pub.backtest["chosen"])
    yield MaterializeResult(
        asset_key=FORECAST_BACKTEST,
        metadata={
            "rows": pub.backtest.height,
            "chosen_rows": chosen.height,
            "coverage80_chosen": _round(pub.summary.get("coverage80_chosen")),
            "coverage95_chosen": _round(pub.summary.get("coverage95_chosen")),
            "median_mase_chosen": _round(pub.summary.get("median_mase_chosen")),
            "median_mase_seasonal_naive": _round(pub.summary.get("median_mase_seasonal_naive")),
        },
    )


@asset(
    key=FORECAST_ACCURACY,
    group_name=GROUP,
    deps=[REVENUE_FORECAST, OPPORTUNITIES, REVENUE_MONTHLY, MRR_MONTHLY],
    kinds={"duckdb"},
    description="Every published forecast (ml.revenue_forecast_history) against the actuals of its "
    "period once complete: error, absolute % error and whether the 80/95 % intervals held, by "
    "horizon and method.",
)
def forecast_accuracy(
    context: AssetExecutionContext, crmlens: CrmlensResource
) -> MaterializeResult:
    settings = crmlens.settings()
    with session(settings.warehouse_path) as con:
        today = data_today(con, settings.as_of)
        scored = accuracy.refresh(con, series.build_series(con, today))
    headline = {}
    if scored.height:
        published = accuracy.summary(scored.filter(scored["is_published"]))
        for row in published.filter(published["segment_type"] == "total").iter_rows(named=True):
            key = f"{row['metric']}/{row['grain']}/{row['method']}/h{row['horizon']}"
            headline[key] = {
                k: _round(row[k]) for k in ("forecasts", "mape", "coverage80", "coverage95")
            }
    return MaterializeResult(
        metadata={
            "rows": scored.height,
            "runs_scored": scored["run_id"].n_unique() if scored.height else 0,
            "as_of": str(today),
            "published_totals": MetadataValue.json(headline),
        }
    )


def build_forecast_assets() -> list:
    """The forecast group's assets."""
    return [forecast_publication, forecast_accuracy]
