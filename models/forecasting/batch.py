"""Backtest-and-select many series, in parallel processes.

Each series is independent, so the work is split into chunks run by joblib's process
pool (loky). Inside a worker every fit runs with single-threaded BLAS
(:func:`models.forecasting.methods.single_threaded`): with more threads than cores the
small statsmodels problems spend their time waiting on each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from models.forecasting import methods, select
from models.forecasting.methods import Forecast
from models.forecasting.series import SeriesKey


@dataclass
class SeriesResult:
    """One series: its selection, the chosen method's forecast and the seasonal-naive baseline."""

    key: SeriesKey
    periods: list[date]
    values: np.ndarray
    selection: select.Selection
    method: str
    forecast: Forecast
    baseline: Forecast


def run_one(key: SeriesKey, periods: list[date], values: np.ndarray, seed: int = 0) -> SeriesResult:
    """Select a method for one series and forecast its grain's horizon with it."""
    h = select.POLICIES[key.grain].horizon
    chosen = select.select(values, key.grain, seed=seed)
    method, forecast = select.forecast(values, chosen, h, seed=seed)
    try:
        baseline = methods.forecast("seasonal_naive", values, h, chosen.seasonal_period)
    except methods.ForecastError:
        baseline = methods.forecast("naive", values, h, 1)
    return SeriesResult(key, list(periods), values, chosen, method, forecast, baseline)


def _chunk(items: Sequence[tuple], seed: int) -> list[SeriesResult]:
    with methods.single_threaded():
        return [run_one(*item, seed=seed) for item in items]


def run_many(
    items: Sequence[tuple[SeriesKey, list[date], np.ndarray]], *, n_jobs: int = 2, seed: int = 0
) -> list[SeriesResult]:
    """:func:`run_one` for every (key, periods, values), in input order.

    Args:
        items: The series.
        n_jobs: Worker processes (1: in this process, no pool).
        seed: Seeds simulated intervals.
    """
    items = list(items)
    if n_jobs <= 1 or len(items) <= 1:
        return _chunk(items, seed)
    from joblib import Parallel, delayed

    # A few chunks per worker: balanced load, little pickling.
    size = max(1, len(items) // (n_jobs * 4))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    done = Parallel(n_jobs=n_jobs, backend="loky")(delayed(_chunk)(c, seed) for c in chunks)
    return [r for part in done for r in part]
