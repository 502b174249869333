"""Out-of-sample evaluation of backtest-and-select itself.

The backtest that chooses a method also scores it, so the chosen method's backtest error
flatters it (it won on those very origins). :func:`holdout` keeps the last ``holdout``
origins out of the choice: select (and calibrate the intervals) on the series before
them, then, at each held-out origin, refit the chosen method and seasonal naive on the
data before that origin and forecast ``h`` steps. The figures are what a user would have
seen had the method been chosen then.

The US retail sales README's "seasonal naive sMAPE 3.1 % over the last 24 months" is the
rolling one-step-ahead forecast of each of the last 24 months (fit on everything before
it): ``holdout(y, "month", holdout=24, h=1)`` reproduces it (3.12 %) and puts the chosen
method beside it. (A single 24-month forecast from one origin gives 4.9 % instead.)
"""

from __future__ import annotations

import numpy as np
import polars as pl

from models.forecasting import backtest, methods, select
from models.forecasting.methods import Forecast


def _fitter(method: str, m: int, scale: tuple[float, float] | None, seed: int) -> backtest.Fitter:
    def fit(history: np.ndarray, h: int) -> Forecast:
        result = methods.forecast(method, history, h, m, seed=seed)
        return result.widened(*scale).clipped() if scale else result

    return fit


def holdout(
    y: np.ndarray, grain: str, *, holdout: int, h: int | None = None, seed: int = 0
) -> dict:
    """Choose on the data before the last ``holdout`` origins, then score on them.

    Args:
        y: The series.
        grain: ``day``, ``week``, ``month`` or ``quarter``.
        holdout: Origins kept out of the choice (the last ones, one period apart).
        h: Steps forecast at each held-out origin (default: the grain's horizon).
        seed: Seeds simulated intervals.

    Returns:
        The chosen method, seasonal period and fallback reason, and for the chosen method
        (model and calibrated intervals) and seasonal naive: MASE, sMAPE, MAE and coverage
        pooled over every held-out origin and horizon.
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    h = h or select.POLICIES[grain].horizon
    inner = select.select(y[: n - holdout], grain, seed=seed)
    m = inner.seasonal_period
    at = list(range(n - holdout, n))
    runs = {
        "chosen": _fitter(inner.method, m, None, seed),
        "chosen_calibrated": _fitter(inner.method, m, inner.interval_scale, seed),
        "seasonal_naive": _fitter("seasonal_naive", m, None, seed),
    }
    out: dict = {
        "method": inner.method,
        "seasonal_period": m,
        "fallback_reason": inner.fallback_reason,
        "interval_scale": inner.interval_scale,
        "origins": len(at),
    }
    for name, fit in runs.items():
        records = backtest.run(y, fit, m=m, h=h, at=at)
        scored = backtest.errors(records)
        out[name] = {
            "mase": float(scored["ase"].fill_nan(None).mean() or np.nan),
            "smape": float(scored["sape"].mean()),
            "mae": float(scored["ae"].mean()),
            "coverage80": float(scored["in80"].mean()),
            "coverage95": float(scored["in95"].mean()),
            "forecasts": scored.height,
        }
    return out


def table(evaluations: dict[str, dict]) -> pl.DataFrame:
    """One row per evaluated series: chosen vs seasonal naive, coverage raw and calibrated."""
    rows = []
    for label, ev in evaluations.items():
        rows.append(
            {
                "series": label,
                "method": ev["method"],
                "seasonal_period": ev["seasonal_period"],
                "fallback": ev["fallback_reason"] is not None,
                "mase_chosen": ev["chosen"]["mase"],
                "mase_seasonal_naive": ev["seasonal_naive"]["mase"],
                "smape_chosen": ev["chosen"]["smape"],
                "smape_seasonal_naive": ev["seasonal_naive"]["smape"],
                "coverage80_model": ev["chosen"]["coverage80"],
                "coverage95_model": ev["chosen"]["coverage95"],
                "coverage80_calibrated": ev["chosen_calibrated"]["coverage80"],
                "coverage95_calibrated": ev["chosen_calibrated"]["coverage95"],
                "coverage80_seasonal_naive": ev["seasonal_naive"]["coverage80"],
                "coverage95_seasonal_naive": ev["seasonal_naive"]["coverage95"],
                "forecasts": ev["chosen"]["forecasts"],
            }
        )
    return pl.DataFrame(rows)
