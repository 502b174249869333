"""Rolling-origin backtest: at each origin, fit on the periods before it, forecast h ahead.

An origin ``o`` is an index into the series: the fitter receives ``y[:o]`` (a fresh copy,
the only argument carrying data) and the actuals ``y[o:o+h]`` are read afterwards by this
module alone, so a method cannot see a value at or after its origin however it is written.

Errors by horizon (1…h), each averaged over the origins that have an actual at that horizon:

    MASE        |actual − point| / scale, where scale is the mean absolute m-step change of
                the history before the origin (the in-sample seasonal naive error; lag 1
                when the history is shorter than m + 1); the same scale for every method
    sMAPE       200·|actual − point| / (|actual| + |point|), 0 when both are 0 (percent)
    MAE         |actual − point|
    coverage80  share of actuals inside the 80 % interval (95 % likewise)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import polars as pl

from models.forecasting.methods import Forecast

Fitter = Callable[[np.ndarray, int], Forecast]

RECORD_SCHEMA = {
    "origin": pl.Int64,
    "horizon": pl.Int64,
    "actual": pl.Float64,
    "point": pl.Float64,
    "lo80": pl.Float64,
    "hi80": pl.Float64,
    "lo95": pl.Float64,
    "hi95": pl.Float64,
    "scale": pl.Float64,
}


def origins(n: int, *, min_train: int, max_origins: int, step: int = 1) -> list[int]:
    """The last ``max_origins`` origins, ``step`` apart, each with ``min_train`` periods before it
    and at least one actual after it."""
    found = list(range(n - 1, min_train - 1, -step))[:max_origins]
    return sorted(found)


def mase_scale(history: np.ndarray, m: int) -> float:
    """Mean absolute m-step change of the history (lag 1 if too short); NaN when it is 0."""
    lag = m if len(history) > m else 1
    if len(history) <= lag:
        return float("nan")
    scale = float(np.mean(np.abs(history[lag:] - history[:-lag])))
    return scale if scale > 0 else float("nan")


def run(y: np.ndarray, fit: Fitter, *, m: int, h: int, at: Sequence[int]) -> pl.DataFrame:
    """Backtest one method on one series.

    Args:
        y: The whole series, oldest first.
        fit: ``fit(history, h) -> Forecast``; receives only the periods before the origin.
        m: Seasonal period (for the MASE scale).
        h: Steps forecast at each origin.
        at: Origins (indices into ``y``); each must be ≥ 1 and < len(y).

    Returns:
        One row per origin and horizon that has an actual (see :data:`RECORD_SCHEMA`).

    Raises:
        ForecastError: The method failed at an origin (the caller decides what that means).
    """
    rows: list[tuple] = []
    for o in at:
        history = np.array(y[:o], dtype=float, copy=True)
        forecast = fit(history, h)
        scale = mase_scale(history, m)
        actual = y[o : o + h]
        for k, value in enumerate(actual):
            rows.append(
                (
                    o,
                    k + 1,
                    float(value),
                    *(float(a[k]) for a in forecast.arrays()),
                    scale,
                )
            )
    return pl.DataFrame(rows, schema=RECORD_SCHEMA, orient="row")


def errors(records: pl.DataFrame) -> pl.DataFrame:
    """Per-record absolute, scaled and symmetric-percentage errors and interval hits."""
    err = (pl.col("actual") - pl.col("point")).abs()
    denom = pl.col("actual").abs() + pl.col("point").abs()
    return records.with_columns(
        ae=err,
        ase=err / pl.col("scale"),
        sape=pl.when(denom > 0).then(200 * err / denom).otherwise(0.0),
        in80=(pl.col("actual") >= pl.col("lo80")) & (pl.col("actual") <= pl.col("hi80")),
        in95=(pl.col("actual") >= pl.col("lo95")) & (pl.col("actual") <= pl.col("hi95")),
    )


def summarize(records: pl.DataFrame, by: Sequence[str] = ("horizon",)) -> pl.DataFrame:
    """MASE, sMAPE, MAE and interval coverage per group (by horizon by default)."""
    scored = errors(records)
    return (
        scored.group_by(list(by))
        .agg(
            mase=pl.col("ase").fill_nan(None).mean(),
            smape=pl.col("sape").mean(),
            mae=pl.col("ae").mean(),
            coverage80=pl.col("in80").mean(),
            coverage95=pl.col("in95").mean(),
            origins=pl.len(),
        )
        .sort(list(by))
    )
