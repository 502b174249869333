"""MLflow: one run per forecast publication in the experiment ``crmlens-forecasting``.

The run records how many series were forecast and which methods won (params), how the
chosen methods did against seasonal naive in the backtest and how often their intervals
held the actuals (metrics), and, as artifacts, the backtest table, the chosen model of
every series, the quarter table and a plot of total monthly bookings with the chosen
method's backtest forecasts and the new forecast, with their 80 % and 95 % intervals.
Nothing is registered: the statistical models are refit on every publication.

MLflow is set up by :mod:`models.common.experiments`, as for the scoring families: the URI
comes from the settings (SQLite by default) and ``import mlflow`` (~8 s) happens only when
a run is logged.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import polars as pl

from crmlens.settings import Settings
from models.common.experiments import experiment_id, mlflow_for
from models.forecasting.assemble import TOTAL_BOOKINGS, Publication

EXPERIMENT = "crmlens-forecasting"


def params(publication: Publication) -> dict[str, Any]:
    """The publication's MLflow params: series counts, origin, run id, methods chosen."""
    s = publication.summary
    out: dict[str, Any] = {
        "series": s["series"],
        "fallback_series": s["fallback_series"],
        "forecast_origin": publication.today.date().isoformat(),
        "crmlens_run_id": publication.run_id,
    }
    out |= {f"chosen_{m}": n for m, n in s["chosen_methods"].items()}
    return out


def metrics(publication: Publication) -> dict[str, float]:
    """The publication's MLflow metrics: backtest MASE and coverage, blend weights, quarters."""
    s = publication.summary
    keys = (
        "median_mase_chosen",
        "median_mase_seasonal_naive",
        "share_beating_seasonal_naive",
        "coverage80_chosen",
        "coverage95_chosen",
    )
    out = {k: float(s[k]) for k in keys if k in s}
    if "median_mase_chosen" in out and out.get("median_mase_seasonal_naive"):
        out["mase_ratio_chosen_to_seasonal_naive"] = (
            out["median_mase_chosen"] / out["median_mase_seasonal_naive"]
        )
    for h, w in s.get("pipeline", {}).get("weights", {}).items():
        out[f"blend_pipeline_weight_q{h}"] = float(w)
    quarters = publication.forecast.filter(pl.col("grain") == "quarter").sort("horizon")
    for row in quarters.iter_rows(named=True):
        out[f"bookings_q{row['horizon']}_most_likely"] = float(row["most_likely"])
    return out


def log_publication(
    settings: Settings,
    publication: Publication,
    *,
    run_name: str | None = None,
    tags: dict | None = None,
) -> str:
    """Log the publication as one MLflow run; returns the MLflow run id."""
    mlflow = mlflow_for(settings)
    experiment = experiment_id(mlflow, settings, EXPERIMENT, "forecasting")
    with mlflow.start_run(experiment_id=experiment, run_name=run_name) as run:
        mlflow.set_tags({"family": "forecasting", **(tags or {})})
        mlflow.log_params(params(publication))
        mlflow.log_metrics(metrics(publication))
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            publication.backtest.write_csv(folder / "backtest.csv")
            chosen_models(publication).write_csv(folder / "chosen_models.csv")
            if publication.pipeline.height:
                publication.pipeline.write_csv(folder / "pipeline_forecast.csv")
            backtest_plot(publication, folder / "backtest_total_bookings.png")
            mlflow.log_artifacts(str(folder))
        return run.info.run_id


def chosen_models(publication: Publication) -> pl.DataFrame:
    """Per series: the chosen method, its season, fallback reason and mean backtest scores."""
    rows = []
    for r in publication.results:
        sel = r.selection
        rows.append(
            {
                "series": r.key.label(),
                "periods": len(r.values),
                "method": r.method,
                "seasonal_period": sel.seasonal_period,
                "fallback_reason": sel.fallback_reason,
                "mase": sel.mean_score(sel.method),
                "mase_seasonal_naive": sel.mean_score("seasonal_naive"),
                "failed": "; ".join(f"{k}: {v}" for k, v in sel.failed.items()) or None,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "series": pl.String,
            "periods": pl.Int64,
            "method": pl.String,
            "seasonal_period": pl.Int64,
            "fallback_reason": pl.String,
            "mase": pl.Float64,
            "mase_seasonal_naive": pl.Float64,
            "failed": pl.String,
        },
    )


def backtest_plot(publication: Publication, path: Path) -> bool:
    """Plot total monthly bookings: actuals, the chosen method's one-step backtest forecasts
    and the new forecast, with 80 % and 95 % intervals.

    Args:
        publication: The publication whose total monthly bookings are plotted.
        path: Where the PNG goes.

    Returns:
        Whether a plot was written (False when the series is absent).
    """
    result = publication.result(TOTAL_BOOKINGS)
    if result is None:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sel = result.selection
    periods = result.periods
    one_step = sel.records.filter((pl.col("method") == sel.method) & (pl.col("horizon") == 1)).sort(
        "origin"
    )
    ahead = publication.forecast.filter(
        (pl.col("metric") == "bookings")
        & (pl.col("grain") == "month")
        & (pl.col("segment_type") == "total")
    ).sort("period")
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.plot(periods, result.values, color="#222", lw=1.6, label="actual bookings")
    if one_step.height:
        at = [periods[o] for o in one_step["origin"]]
        _intervals(ax, at, one_step, "#1f77b4", "backtest")
        ax.plot(
            at,
            one_step["point"],
            color="#1f77b4",
            marker="o",
            ms=3,
            lw=1,
            label=f"backtest 1-step ({sel.method})",
        )
    if ahead.height:
        _intervals(ax, ahead["period"], ahead, "#d62728", "forecast")
        ax.plot(ahead["period"], ahead["point"], color="#d62728", lw=1.6, label="forecast")
    mase = sel.mean_score(sel.method)
    base = sel.mean_score("seasonal_naive")
    title = f"Total monthly bookings: {sel.method} (m={sel.seasonal_period})"
    if mase is not None and base is not None:
        title += f", backtest MASE {mase:.2f} vs seasonal naive {base:.2f}"
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _intervals(ax: Any, at: Any, rows: pl.DataFrame, color: str, label: str) -> None:
    """Shade the 95 % and then the 80 % interval of ``rows`` (lo95/hi95, lo80/hi80)."""
    for level, alpha in ((95, 0.12), (80, 0.25)):
        ax.fill_between(
            at,
            rows[f"lo{level}"],
            rows[f"hi{level}"],
            color=color,
            alpha=alpha,
            label=f"{label} {level} %",
        )
