"""Assemble one forecast publication (series → backtest-and-select → reconcile → pipeline
blend) and record it in the warehouse's ml tables. Nothing here publishes to a CRM: the
publish assets copy ``ml.revenue_forecast`` out (:mod:`crmlens.publish`).

Tables (each replaced atomically; the history appended by run id):

    ml.revenue_forecast          the current forecast, one row per series and period ahead
                                 (horizon 1 is the current, incomplete period), in the score
                                 contract: point, 80/95 % intervals, method, fallback_reason,
                                 the chosen method's backtest MASE at that horizon and its
                                 interval coverage; quarter rows of total bookings carry the
                                 commit / most_likely / best_case scenarios
    ml.revenue_forecast_history  every publication (see :mod:`models.forecasting.accuracy`)
    ml.forecast_backtest         series × method × horizon: MASE, sMAPE, MAE, coverage, chosen;
                                 and the quarter-level backtest of the pipeline methods
    ml.pipeline_forecast         quarter × scenario (see :mod:`models.forecasting.pipeline`)
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb
import numpy as np
import polars as pl

from crmlens.clock import utc_now
from crmlens.warehouse import replace_table
from models.forecasting import accuracy, batch, blend, deals, reconcile
from models.forecasting import pipeline as pipe
from models.forecasting.batch import SeriesResult
from models.forecasting.series import (
    GRAINS,
    METRICS,
    PERIOD_SCHEMA,
    QUARTER_BOOKINGS,
    SEGMENT_TYPES,
    TOTAL,
    SeriesKey,
    SeriesSet,
    build_series,
    iter_series,
    shift,
)

TOTAL_BOOKINGS = SeriesKey("bookings", "month", "total", TOTAL)

FORECAST_SCHEMA = {
    **PERIOD_SCHEMA,
    "horizon": pl.Int64,
    "point": pl.Float64,
    "lo80": pl.Float64,
    "hi80": pl.Float64,
    "lo95": pl.Float64,
    "hi95": pl.Float64,
    "base_point": pl.Float64,
    "method": pl.String,
    "seasonal_period": pl.Int64,
    "fallback_reason": pl.String,
    "backtest_mase": pl.Float64,
    "backtest_mase_seasonal_naive": pl.Float64,
    "backtest_coverage80": pl.Float64,
    "backtest_coverage95": pl.Float64,
    "interval_scale80": pl.Float64,
    "interval_scale95": pl.Float64,
    "partial_actual": pl.Float64,
    "commit": pl.Float64,
    "most_likely": pl.Float64,
    "best_case": pl.Float64,
}


@dataclass
class Publication:
    """Everything one publication computed, before it is written."""

    today: datetime
    run_id: str
    published_at: datetime
    forecast: pl.DataFrame
    backtest: pl.DataFrame
    pipeline: pl.DataFrame
    history: pl.DataFrame
    results: list[SeriesResult]
    summary: dict
    series: SeriesSet
    pipeline_info: dict = field(default_factory=dict)

    def result(self, key: SeriesKey) -> SeriesResult | None:
        return next((r for r in self.results if r.key == key), None)


def _none(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _coverage(result: SeriesResult) -> tuple[float | None, float | None]:
    rec = result.selection.records.filter(pl.col("method") == result.selection.method)
    if rec.is_empty():
        return None, None
    inside = rec.select(
        c80=((pl.col("actual") >= pl.col("lo80")) & (pl.col("actual") <= pl.col("hi80"))).mean(),
        c95=((pl.col("actual") >= pl.col("lo95")) & (pl.col("actual") <= pl.col("hi95"))).mean(),
    )
    return float(inside["c80"][0]), float(inside["c95"][0])


def forecast_rows(
    results: list[SeriesResult], series: SeriesSet, *, baseline: bool = False
) -> pl.DataFrame:
    """One row per series and period ahead (the chosen method's, or the baseline's)."""
    partial = {
        (r["metric"], r["grain"], r["segment_type"], r["segment"], r["period"]): r["value"]
        for r in series.partial.iter_rows(named=True)
    }
    rows = []
    for r in results:
        sel = r.selection
        fc = r.baseline if baseline else r.forecast
        method = "seasonal_naive" if baseline else r.method
        mase = sel.mase_by_horizon(method)
        snaive = sel.mase_by_horizon("seasonal_naive")
        c80, c95 = _coverage(r) if not baseline else (None, None)
        first = series.current[r.key.grain]
        for i in range(len(fc.point)):
            period = shift(r.key.grain, first, i)
            rows.append(
                {
                    **r.key._asdict(),
                    "period": period,
                    "horizon": i + 1,
                    "point": float(fc.point[i]),
                    "lo80": float(fc.lo80[i]),
                    "hi80": float(fc.hi80[i]),
                    "lo95": float(fc.lo95[i]),
                    "hi95": float(fc.hi95[i]),
                    "base_point": float(fc.point[i]),
                    "method": method,
                    "seasonal_period": sel.seasonal_period,
                    "fallback_reason": sel.fallback_reason,
                    "backtest_mase": _none(mase.get(i + 1)),
                    "backtest_mase_seasonal_naive": _none(snaive.get(i + 1)),
                    "backtest_coverage80": c80,
                    "backtest_coverage95": c95,
                    "interval_scale80": None if baseline else sel.interval_scale[0],
                    "interval_scale95": None if baseline else sel.interval_scale[1],
                    "partial_actual": partial.get((*r.key, period)) if i == 0 else None,
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            k: v
            for k, v in FORECAST_SCHEMA.items()
            if k not in ("commit", "most_likely", "best_case")
        },
    )


def backtest_rows(results: list[SeriesResult]) -> pl.DataFrame:
    """Series × method × horizon errors, with the chosen method flagged."""
    parts = []
    for r in results:
        if r.selection.scores.is_empty():
            continue
        parts.append(
            r.selection.scores.with_columns(
                metric=pl.lit(r.key.metric),
                grain=pl.lit(r.key.grain),
                segment_type=pl.lit(r.key.segment_type),
                segment=pl.lit(r.key.segment),
                seasonal_period=pl.lit(r.selection.seasonal_period, dtype=pl.Int64),
                fallback_reason=pl.lit(r.selection.fallback_reason, dtype=pl.String),
            )
        )
    columns = [
        "metric", "grain", "segment_type", "segment", "method", "horizon", "mase", "smape",
        "mae", "coverage80", "coverage95", "origins", "chosen", "seasonal_period", "fallback_reason",
    ]  # fmt: skip
    if not parts:  # no series (a source without deals, subscriptions or invoices)
        types = {"horizon": pl.Int64, "origins": pl.Int64, "chosen": pl.Boolean}
        types |= dict.fromkeys(("mase", "smape", "mae", "coverage80", "coverage95"), pl.Float64)
        types["seasonal_period"] = pl.Int64
        return pl.DataFrame(schema={c: types.get(c, pl.String) for c in columns})
    return pl.concat(parts).select(columns).with_columns(pl.col("origins").cast(pl.Int64))


def summarize(results: list[SeriesResult]) -> dict:
    """Headline figures of a publication (for MLflow and the asset metadata)."""
    chosen = Counter(r.method for r in results)
    fallbacks = [r for r in results if r.selection.fallback_reason]
    pairs = []
    for r in results:
        if r.selection.fallback_reason:
            continue
        ours = r.selection.mean_score(r.selection.method)
        base = r.selection.mean_score("seasonal_naive")
        if ours is not None and base is not None:
            pairs.append((ours, base))
    records = [r.selection.records.filter(pl.col("method") == r.selection.method) for r in results]
    pooled = pl.concat([x for x in records if x.height]) if any(x.height for x in records) else None
    out: dict = {
        "series": len(results),
        "chosen_methods": dict(sorted(chosen.items())),
        "fallback_series": len(fallbacks),
        "compared_series": len(pairs),
    }
    if pairs:
        ours, base = np.array(pairs).T
        out |= {
            "median_mase_chosen": float(np.median(ours)),
            "median_mase_seasonal_naive": float(np.median(base)),
            "share_beating_seasonal_naive": float(np.mean(ours < base)),
        }
    if pooled is not None:
        out |= {
            "coverage80_chosen": float(
                ((pooled["actual"] >= pooled["lo80"]) & (pooled["actual"] <= pooled["hi80"])).mean()
            ),
            "coverage95_chosen": float(
                ((pooled["actual"] >= pooled["lo95"]) & (pooled["actual"] <= pooled["hi95"])).mean()
            ),
        }
    return out


def _pipeline(
    con: duckdb.DuckDBPyConnection,
    today: datetime,
    result: SeriesResult,
    series: SeriesSet,
    seed: int,
) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """The quarter table, the pipeline backtest scores and facts, for total monthly bookings."""
    periods, values = result.periods, result.values
    snapshots = deals.snapshot_deals(con, pipe.month_starts(periods[0], today.date()))
    won = deals.won_deals(con)
    records = result.selection.records.filter(pl.col("method") == result.selection.method)
    bt = blend.backtest(snapshots, won, periods, values, records, seed=seed)
    weights = pipe.blend_weights(bt)
    first = series.current["month"]
    forecasts = {
        shift("month", first, i): (
            float(result.forecast.point[i]),
            float(result.forecast.lo80[i]),
            float(result.forecast.hi80[i]),
        )
        for i in range(len(result.forecast.point))
    }
    open_now = deals.open_deals(con, today)
    table, info = blend.quarter_forecast(
        open_now, won, snapshots, today, dict(zip(periods, values.tolist(), strict=True)), forecasts,
        weights, seed=seed,
    )  # fmt: skip
    scores = blend.backtest_scores(bt, weights)
    info |= {
        "weights": {h: w for h, (w, _, _) in weights.items()},
        "backtest_origins": bt["origin"].n_unique(),
    }
    return table, scores, info


def _quarter_rows(
    table: pl.DataFrame, info: dict, scores: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(published quarter rows of total bookings, comparison rows of the other methods)."""
    wide = table.pivot(on="scenario", index=["quarter_start", "horizon"], values="amount")
    coverage = {
        (m, h): c for m, h, c in scores.select("method", "horizon", "coverage80").iter_rows()
    }
    reasons = table.filter(pl.col("scenario") == "blended").select("horizon", "weight_reason")
    published = (
        wide.join(reasons, on="horizon")
        .sort("horizon")
        .select(
            **QUARTER_BOOKINGS.columns(),
            period="quarter_start",
            horizon="horizon",
            point="blended",
            lo80="commit",
            hi80="best_case",
            lo95=pl.Series(info["blend"]["lo95"]),
            hi95=pl.Series(info["blend"]["hi95"]),
            base_point="blended",
            method=pl.lit("blended"),
            seasonal_period=pl.lit(None, dtype=pl.Int64),
            fallback_reason="weight_reason",
            backtest_mase=pl.lit(None, dtype=pl.Float64),
            backtest_mase_seasonal_naive=pl.lit(None, dtype=pl.Float64),
            backtest_coverage80=pl.col("horizon").replace_strict(
                {h: coverage.get(("blended", h)) for h in (1, 2, 3)}, return_dtype=pl.Float64
            ),
            backtest_coverage95=pl.lit(None, dtype=pl.Float64),
            interval_scale80=pl.lit(None, dtype=pl.Float64),
            interval_scale95=pl.lit(None, dtype=pl.Float64),
            partial_actual=pl.lit(None, dtype=pl.Float64),
            commit="commit",
            most_likely="most_likely",
            best_case="best_case",
        )
    )
    methods = ("weighted_pipeline", "probability_weighted", "slippage_adjusted", "statistical")
    others = table.filter(pl.col("scenario").is_in(methods)).select(
        **QUARTER_BOOKINGS.columns(),
        period="quarter_start",
        horizon="horizon",
        point="amount",
        lo80="lo80",
        hi80="hi80",
        base_point="amount",
        method="scenario",
    )
    return published.cast({k: v for k, v in FORECAST_SCHEMA.items()}), others


def run(
    con: duckdb.DuckDBPyConnection,
    today: datetime,
    *,
    run_id: str,
    n_jobs: int = 2,
    seed: int = 0,
    metrics: tuple[str, ...] = METRICS,
    grains: tuple[str, ...] = GRAINS,
    segment_types: tuple[str, ...] = SEGMENT_TYPES,
) -> Publication:
    """Compute a publication from the warehouse's marts as of ``today`` (nothing is written).

    Args:
        con: Warehouse connection (read).
        today: The data's today: series end before it, the forecast starts with its period.
        run_id: Identifies the publication in every table.
        n_jobs: Worker processes for backtest-and-select.
        seed: Seeds simulated intervals and the pipeline's Monte Carlo.
        metrics: Metrics to forecast (the pipeline blend needs bookings).
        grains: Grains to forecast (the pipeline blend needs month).
        segment_types: Segment types (``total`` is always included).

    Returns:
        The publication: every table of it, the per-series results and a summary.
    """
    series = build_series(con, today, metrics=metrics, grains=grains)
    keep = {"total", *segment_types}
    items = [(k, p, v) for k, p, v in iter_series(series) if k.segment_type in keep and len(v)]
    results = batch.run_many(items, n_jobs=n_jobs, seed=seed)
    forecast = reconcile.reconcile(forecast_rows(results, series))
    backtest = backtest_rows(results)
    baselines = forecast_rows(results, series, baseline=True)
    summary = summarize(results)
    total = next((r for r in results if r.key == TOTAL_BOOKINGS), None)
    quarter_table = pl.DataFrame()
    info: dict = {}
    quarter_published = pl.DataFrame(schema=FORECAST_SCHEMA)
    quarter_others = pl.DataFrame()
    if total is not None:
        quarter_table, scores, info = _pipeline(con, today, total, series, seed)
        quarter_published, quarter_others = _quarter_rows(quarter_table, info, scores)
        backtest = pl.concat([backtest, _quarter_backtest_rows(scores)], how="vertical_relaxed")
        summary["pipeline"] = {
            "weights": info["weights"],
            "backtest_origins": info["backtest_origins"],
            "quarters": info["quarters"],
        }
    forecast = pl.concat(
        [forecast.with_columns(commit=None, most_likely=None, best_case=None).cast(FORECAST_SCHEMA),
         quarter_published],
        how="vertical",
    )  # fmt: skip
    published_at = utc_now()
    stamp = _stamp(today, run_id, published_at)
    forecast = forecast.with_columns(**stamp)
    unpublished = [baselines, *([quarter_others] if quarter_others.height else [])]
    history = pl.concat(
        [
            forecast.with_columns(is_published=pl.lit(True)),
            *(rows.with_columns(**stamp, is_published=pl.lit(False)) for rows in unpublished),
        ],
        how="diagonal_relaxed",
    )
    if quarter_table.height:
        stamp = {k: stamp[k] for k in ("forecast_origin", "scored_at", "run_id")}
        quarter_table = quarter_table.with_columns(**stamp)
    return Publication(
        today=today,
        run_id=run_id,
        published_at=published_at,
        forecast=forecast,
        backtest=backtest.with_columns(run_id=pl.lit(run_id), scored_at=pl.lit(today)),
        pipeline=quarter_table,
        history=history,
        results=results,
        summary=summary,
        series=series,
        pipeline_info=info,
    )


def _quarter_backtest_rows(scores: pl.DataFrame) -> pl.DataFrame:
    """The pipeline methods' quarter backtest scores as ``ml.forecast_backtest`` rows."""
    return scores.select(
        **QUARTER_BOOKINGS.columns(),
        method="method",
        horizon="horizon",
        mase=pl.lit(None, dtype=pl.Float64),
        smape="smape",
        mae="mae",
        coverage80="coverage80",
        coverage95=pl.lit(None, dtype=pl.Float64),
        origins=pl.col("origins").cast(pl.Int64),
        chosen=pl.col("method") == "blended",
        seasonal_period=pl.lit(None, dtype=pl.Int64),
        fallback_reason=pl.lit(None, dtype=pl.String),
    )


def _stamp(today: datetime, run_id: str, published_at: datetime) -> dict[str, pl.Expr]:
    """The columns every row of a publication carries: its origin, validity and run."""
    valid_until = datetime.combine(
        shift("month", today.date().replace(day=1), 1), datetime.min.time()
    )
    return {
        "forecast_origin": pl.lit(today),
        "scored_at": pl.lit(today),
        "valid_until": pl.lit(valid_until + timedelta(days=1)),
        "published_at": pl.lit(published_at),
        "run_id": pl.lit(run_id),
    }


def write(
    con: duckdb.DuckDBPyConnection, publication: Publication, mlflow_run_id: str | None = None
) -> None:
    """Write the publication's tables (each atomically) and append it to the history.

    Args:
        con: Warehouse connection (written).
        publication: What :func:`run` computed.
        mlflow_run_id: The MLflow run that logged it, stamped on every row.
    """
    tag = {"mlflow_run_id": pl.lit(mlflow_run_id, dtype=pl.String)}
    replace_table(
        con,
        "ml",
        "revenue_forecast",
        publication.forecast.with_columns(**tag),
        comment="Current revenue forecast: point, 80/95 % intervals, method, backtest accuracy.",
    )
    replace_table(con, "ml", "forecast_backtest", publication.backtest.with_columns(**tag))
    if publication.pipeline.height:
        replace_table(con, "ml", "pipeline_forecast", publication.pipeline.with_columns(**tag))
    accuracy.append_history(con, publication.history.with_columns(**tag))
