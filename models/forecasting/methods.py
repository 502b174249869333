"""Forecasting methods: each turns a history into h steps of point + 80 % and 95 % intervals.

    naive                last value; interval sd σ₁·√h (σ₁: RMS of one-step changes)
    seasonal_naive       value one season back; sd σₘ·√(⌊(h−1)/m⌋+1) (σₘ: RMS of m-step changes)
    ets_damped           ETS(A,Ad,N): additive errors, damped additive trend, no season
    ets_additive         ETS(A,Ad,A): damped trend, additive season
    ets_multiplicative   ETS(M,Ad,M): multiplicative errors and season (positive series only;
                         intervals by simulation, seeded)
    sarimax              seasonal: the airline model (0,1,1)(0,1,1)ₘ; otherwise ARIMA(1,1,1)
    theta                statsmodels' Theta method (SES with drift), deseasonalized when seasonal

A method only ever sees the history it is given (the backtest passes a truncated copy).
Intervals are the models' own (normal for additive models); all metrics here are amounts,
so points and bounds are clipped at zero, which never changes whether a non-negative
actual falls inside. ETS starts from statsmodels' heuristic initial states when the
history allows it (10 + 2·⌊m/2⌋ points): estimating m initial seasonal states by
maximum likelihood costs 5-20× more and gains nothing at these lengths.

statsmodels' fits are small matrix problems: multi-threaded BLAS only slows them down
(10-50× on a busy 2-core machine), so callers run them under :func:`single_threaded`.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

Z80 = 1.2815515655446004
Z95 = 1.959963984540054

BASELINES = ("naive", "seasonal_naive")
MODELS = ("ets_damped", "ets_additive", "ets_multiplicative", "sarimax", "theta")
ALL = BASELINES + MODELS
# Simpler first: ties in the backtest go to the earlier method.
COMPLEXITY = {name: i for i, name in enumerate(ALL)}
SEASONAL_MODELS = {"ets_additive", "ets_multiplicative"}


class ForecastError(RuntimeError):
    """A method could not produce a finite forecast for this history."""


@dataclass(frozen=True)
class Forecast:
    """h-step forecast: point and the bounds of the central 80 % and 95 % intervals."""

    point: np.ndarray
    lo80: np.ndarray
    hi80: np.ndarray
    lo95: np.ndarray
    hi95: np.ndarray

    def clipped(self, low: float = 0.0) -> Forecast:
        return Forecast(*(np.maximum(a, low) for a in self.arrays()))

    def widened(self, scale80: float, scale95: float) -> Forecast:
        """Each side of the 80 % (95 %) interval stretched by ``scale80`` (``scale95``) from the
        point; the 95 % interval never ends up inside the 80 % one."""
        p = self.point
        lo80 = p - scale80 * (p - self.lo80)
        hi80 = p + scale80 * (self.hi80 - p)
        lo95 = np.minimum(p - scale95 * (p - self.lo95), lo80)
        hi95 = np.maximum(p + scale95 * (self.hi95 - p), hi80)
        return Forecast(p, lo80, hi80, lo95, hi95)

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.point, self.lo80, self.hi80, self.lo95, self.hi95)

    def sd(self) -> np.ndarray:
        """The standard deviation the 95 % interval implies (for reconciliation weights)."""
        return (self.hi95 - self.lo95) / (2 * Z95)


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """BLAS limited to one thread, and statsmodels' convergence chatter silenced."""
    # scipy loads its own OpenBLAS with its linear algebra: load it before limiting.
    import statsmodels.tsa.exponential_smoothing.ets
    import statsmodels.tsa.statespace.sarimax  # noqa: F401
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _normal(point: np.ndarray, sd: np.ndarray) -> Forecast:
    return Forecast(point, point - Z80 * sd, point + Z80 * sd, point - Z95 * sd, point + Z95 * sd)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2))) if len(x) else 0.0


def naive(y: np.ndarray, h: int, m: int = 1, seed: int = 0) -> Forecast:
    """The last value, with intervals from the spread of one-step changes (a random walk)."""
    steps = np.arange(1, h + 1)
    sigma = _rms(np.diff(y))
    return _normal(np.full(h, y[-1], dtype=float), sigma * np.sqrt(steps))


def seasonal_naive(y: np.ndarray, h: int, m: int, seed: int = 0) -> Forecast:
    """The value one season earlier (naive when the history is shorter than a season)."""
    if m <= 1 or len(y) < m:
        return naive(y, h)
    steps = np.arange(h)
    point = y[len(y) - m + steps % m].astype(float)
    sigma = _rms(y[m:] - y[:-m])
    return _normal(point, sigma * np.sqrt(steps // m + 1))


def _ets(y: np.ndarray, h: int, m: int, seed: int, *, error: str, seasonal: str | None) -> Forecast:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    n = len(y)
    season = m if seasonal else None
    heuristic = n >= (10 + 2 * (m // 2) if seasonal else 10)
    model = ETSModel(
        pd.Series(y),  # statsmodels 0.15 needs an index to label the prediction
        error=error,
        trend="add",
        damped_trend=True,
        seasonal=seasonal,
        seasonal_periods=season,
        initialization_method="heuristic" if heuristic else "estimated",
    )
    fitted = model.fit(disp=False)
    prediction = fitted.get_prediction(
        start=n, end=n + h - 1, simulate_repetitions=1000, rng=np.random.default_rng(seed)
    )
    f80 = prediction.summary_frame(alpha=0.2)
    f95 = prediction.summary_frame(alpha=0.05)
    return Forecast(
        f80["mean"].to_numpy(),
        f80["pi_lower"].to_numpy(),
        f80["pi_upper"].to_numpy(),
        f95["pi_lower"].to_numpy(),
        f95["pi_upper"].to_numpy(),
    )


def ets_damped(y: np.ndarray, h: int, m: int = 1, seed: int = 0) -> Forecast:
    """Exponential smoothing with a damped additive trend and no season."""
    return _ets(y, h, m, seed, error="add", seasonal=None)


def ets_additive(y: np.ndarray, h: int, m: int, seed: int = 0) -> Forecast:
    """Exponential smoothing: damped additive trend, additive errors and season of ``m``."""
    return _ets(y, h, m, seed, error="add", seasonal="add")


def ets_multiplicative(y: np.ndarray, h: int, m: int, seed: int = 0) -> Forecast:
    """Exponential smoothing: damped additive trend, multiplicative errors and season of ``m``."""
    return _ets(y, h, m, seed, error="mul", seasonal="mul")


def sarimax(y: np.ndarray, h: int, m: int, seed: int = 0) -> Forecast:
    """ARIMA (statsmodels' SARIMAX): (0,1,1)(0,1,1) of period ``m`` when seasonal, else (1,1,1)."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    if m > 1 and len(y) >= 2 * m + 2:
        model = SARIMAX(y, order=(0, 1, 1), seasonal_order=(0, 1, 1, m), concentrate_scale=True)
    else:
        model = SARIMAX(y, order=(1, 1, 1), concentrate_scale=True)
    fitted = model.fit(disp=False)
    prediction = fitted.get_forecast(h)
    point = np.asarray(prediction.predicted_mean, dtype=float)
    ci80 = np.asarray(prediction.conf_int(alpha=0.2), dtype=float)
    ci95 = np.asarray(prediction.conf_int(alpha=0.05), dtype=float)
    return Forecast(point, ci80[:, 0], ci80[:, 1], ci95[:, 0], ci95[:, 1])


def theta(y: np.ndarray, h: int, m: int, seed: int = 0) -> Forecast:
    """The Theta method (statsmodels), deseasonalised with period ``m`` when seasonal."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    seasonal = m > 1 and len(y) >= 2 * m
    method = "auto" if np.all(y > 0) else "additive"
    fitted = ThetaModel(
        pd.Series(y), period=m if seasonal else 1, deseasonalize=seasonal, method=method
    ).fit()
    point = fitted.forecast(h).to_numpy()
    i80 = fitted.prediction_intervals(h, alpha=0.2).to_numpy()
    i95 = fitted.prediction_intervals(h, alpha=0.05).to_numpy()
    return Forecast(point, i80[:, 0], i80[:, 1], i95[:, 0], i95[:, 1])


FUNCTIONS: dict[str, Callable[..., Forecast]] = {
    "naive": naive,
    "seasonal_naive": seasonal_naive,
    "ets_damped": ets_damped,
    "ets_additive": ets_additive,
    "ets_multiplicative": ets_multiplicative,
    "sarimax": sarimax,
    "theta": theta,
}


def unavailable(method: str, y: np.ndarray, m: int) -> str | None:
    """Why ``method`` cannot fit this history with season ``m``; None when it can."""
    n = len(y)
    if method not in FUNCTIONS:
        return f"unknown method {method!r}"
    if n == 0:
        return "no periods"
    if method != "naive" and n < 2:
        return "fewer than 2 periods"
    if method == "seasonal_naive" and m > 1 and n < m + 1:
        return f"needs one seasonal cycle and a period ({m + 1} periods)"
    if method in SEASONAL_MODELS and (m <= 1 or n < 2 * m + 2):
        return f"needs two seasonal cycles ({2 * m + 2} periods)"
    if method in MODELS and n < 10:
        return "needs 10 periods"
    if method == "ets_multiplicative" and not np.all(y > 0):
        return "multiplicative season needs a positive series"
    if method in MODELS and np.ptp(y) == 0:
        return "constant series"
    return None


def forecast(
    method: str, y: np.ndarray, h: int, m: int, *, seed: int = 0, nonnegative: bool = True
) -> Forecast:
    """Fit ``method`` on the history ``y`` and forecast ``h`` steps.

    Args:
        method: A name in :data:`FUNCTIONS`.
        y: The history (only this: nothing after it exists for the method).
        h: Steps ahead.
        m: Seasonal period (1: none).
        seed: Seeds the simulated intervals of multiplicative ETS.
        nonnegative: Clip points and bounds at zero (amounts).

    Raises:
        ForecastError: The method cannot fit this history or returned non-finite values.
    """
    reason = unavailable(method, y, m)
    if reason:
        raise ForecastError(f"{method}: {reason}")
    try:
        result = FUNCTIONS[method](np.asarray(y, dtype=float), h, m, seed)
    except Exception as exc:
        raise ForecastError(f"{method}: {type(exc).__name__}: {exc}") from exc
    if not all(np.all(np.isfinite(a)) for a in result.arrays()):
        raise ForecastError(f"{method}: non-finite forecast")
    # Keep lo <= point <= hi even where a simulated interval misses its own mean.
    point = result.point
    ordered = Forecast(
        point,
        np.minimum(result.lo80, point),
        np.maximum(result.hi80, point),
        np.minimum(result.lo95, np.minimum(result.lo80, point)),
        np.maximum(result.hi95, np.maximum(result.hi80, point)),
    )
    return ordered.clipped() if nonnegative else ordered
