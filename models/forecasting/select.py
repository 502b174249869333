"""Choose a method per series by rolling-origin backtest, and forecast with it.

Seasonal period (decided per grain and length, reported with every forecast):

- monthly: 12 when the series has 36 months (two yearly cycles to fit, one to test);
  otherwise 3, the quarter. B2B bookings cycle on quarters (deals pushed to the last
  weeks of the quarter), so a two-year CRM still gets a seasonal model.
- weekly: 13, the quarter in weeks. A yearly season (52) needs more than the two years
  a CRM typically holds plus room to backtest, makes ETS carry 52 seasonal states and the
  airline SARIMAX slow, and the quarter is the cycle weekly bookings actually show.

- daily: 7, the week (a yearly season needs several seasonalities at once).
- quarterly: 4, the year.

Backtest plan per grain: daily forecasts 28 days from the last 12 origins, a week apart;
quarterly forecasts 4 quarters from the last 8 origins; monthly forecasts 9 months (the current and the next two
quarters from any month) from the last 12 origins, one month apart; weekly forecasts 13
weeks from the last 12 origins, 4 weeks apart. The chosen method has the lowest mean
MASE over the horizons (mean MAE if MASE is undefined, e.g. a constant history); ties
go to the simpler method. A method that fails at any origin is out for that series.

Interval calibration: model intervals assume the model is right and its parameters
known, so they tend to be too narrow. For each level, the chosen method's backtest gives
every actual's distance from the point in units of that side of the interval; the
``level``-quantile of those ratios (the conformal quantile, from at least 10 forecasts)
stretches the published interval when it is above 1. Intervals are widened, never
narrowed; the backtest tables report the model's own coverage, and the factors travel
with the forecast (``interval_scale80``, ``interval_scale95``).

Fallback for short series: the model suite needs two seasonal cycles plus two periods
to fit (``2m + 2``, at least 12) and 4 backtest origins after that. A shorter series gets
seasonal naive (naive when it holds less than two seasons), backtested where at least
one origin fits, and a ``fallback_reason`` that says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from models.forecasting import backtest, methods
from models.forecasting.methods import Forecast, ForecastError


@dataclass(frozen=True)
class Policy:
    """How a grain is backtested."""

    horizon: int
    max_origins: int
    step: int
    min_origins: int = 4


POLICIES = {
    "day": Policy(28, 12, 7),
    "week": Policy(13, 12, 4),
    "month": Policy(9, 12, 1),
    "quarter": Policy(4, 8, 1),
}


def seasonal_period(grain: str, n: int) -> int:
    """The seasonal period used for a series of ``n`` periods (see the module docstring)."""
    if grain == "month":
        return 12 if n >= 36 else 3
    if grain == "week":
        return 13
    if grain == "day":
        return 7
    if grain == "quarter":
        return 4
    return 1


def series_problem(y: np.ndarray, grain: str) -> str | None:
    """What makes a series unfit to forecast, in one line (None: nothing).

    Missing values (NaN) are not zeros: the series must say what a gap means before it
    is forecast. Infinite values are refused too, and so is an unknown grain.
    """
    if grain not in POLICIES:
        return f"unknown grain {grain!r} (known: {', '.join(POLICIES)})"
    y = np.asarray(y, dtype=float)
    for what, bad in (("missing values (NaN)", np.isnan(y)), ("infinite values", np.isinf(y))):
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            return (
                f"the series holds {int(bad.sum())} {what}, the first at {grain} {first + 1} "
                f"of {len(y)}: fill the gaps, or say that a missing {grain} is zero, "
                "before forecasting"
            )
    return None


def min_train(m: int) -> int:
    """Periods the model suite needs before the first backtest origin."""
    return max(2 * m + 2, 12)


@dataclass
class Selection:
    """The outcome of backtest-and-select for one series.

    Attributes:
        method: The chosen method.
        seasonal_period: The m every method used.
        fallback_reason: Why the model suite was not tried (short series), else None.
        scores: Method × horizon: mase, smape, mae, coverage80, coverage95, origins, chosen.
        records: Method × origin × horizon backtest forecasts and actuals.
        failed: Method -> why it was left out.
        ranking: Methods in order of preference (chosen first).
    """

    method: str
    seasonal_period: int
    fallback_reason: str | None
    scores: pl.DataFrame
    records: pl.DataFrame
    failed: dict[str, str] = field(default_factory=dict)
    ranking: list[str] = field(default_factory=list)
    interval_scale: tuple[float, float] = (1.0, 1.0)

    def mase_by_horizon(self, method: str | None = None) -> dict[int, float]:
        part = self.scores.filter(pl.col("method") == (method or self.method))
        return {int(h): v for h, v in zip(part["horizon"], part["mase"], strict=True)}

    def mean_score(self, method: str, column: str = "mase") -> float | None:
        part = self.scores.filter(pl.col("method") == method)[column].drop_nulls().drop_nans()
        return float(part.mean()) if len(part) else None


def _fitter(method: str, m: int, seed: int) -> backtest.Fitter:
    def fit(history: np.ndarray, h: int) -> Forecast:
        return methods.forecast(method, history, h, m, seed=seed)

    return fit


def select(
    y: np.ndarray,
    grain: str,
    *,
    candidates: Sequence[str] = methods.ALL,
    policy: Policy | None = None,
    seed: int = 0,
) -> Selection:
    """Backtest every candidate on ``y`` and choose one (or fall back for a short series).

    Args:
        y: The series (complete periods only), oldest first.
        grain: ``day``, ``week``, ``month`` or ``quarter`` (decides the seasonal period
            and the plan).

    Raises:
        ForecastError: the series holds NaN or infinite values (:func:`series_problem`).
        candidates: Methods to try.
        policy: Override the grain's backtest plan.
        seed: Seeds simulated intervals.
    """
    y = np.asarray(y, dtype=float)
    if problem := series_problem(y, grain):
        raise ForecastError(problem)
    policy = policy or POLICIES[grain]
    n = len(y)
    m = seasonal_period(grain, n)
    needed = min_train(m) + policy.min_origins
    fallback_reason = None
    if n < needed:
        fallback = "seasonal_naive" if n >= 2 * m and m > 1 else "naive"
        fallback_reason = (
            f"short series: {n} {grain}s, fewer than the {needed} the model suite needs (two "
            f"seasonal cycles of {m} plus 2 to fit, {policy.min_origins} to backtest); "
            f"{fallback.replace('_', ' ')} used"
        )
        candidates = [fallback]
        train = max(m + 1 if fallback == "seasonal_naive" else 2, 2)
    else:
        train = min_train(m)
    at = backtest.origins(n, min_train=train, max_origins=policy.max_origins, step=policy.step)
    records, failed = [], {}
    for method in candidates:
        reason = methods.unavailable(method, y[: at[0]] if at else y, m)
        if reason:
            failed[method] = reason
            continue
        if not at:
            continue
        try:
            rec = backtest.run(y, _fitter(method, m, seed), m=m, h=policy.horizon, at=at)
        except ForecastError as exc:
            failed[method] = str(exc)
            continue
        records.append(rec.with_columns(method=pl.lit(method)))
    all_records = pl.concat(records) if records else _empty_records()
    scores = backtest.summarize(all_records, by=("method", "horizon")) if records else None
    ranking = _rank(scores, [c for c in candidates if c not in failed])
    if not ranking:  # nothing fitted: the simplest thing that always works
        ranking = ["naive"]
    chosen = ranking[0]
    if scores is None:
        scores = _empty_scores()
    scores = scores.with_columns(chosen=pl.col("method") == chosen)
    scale = interval_scale(all_records.filter(pl.col("method") == chosen))
    return Selection(chosen, m, fallback_reason, scores, all_records, failed, ranking, scale)


MIN_CALIBRATION = 10
MAX_SCALE = 5.0


def _side_ratio(records: pl.DataFrame, lo: str, hi: str) -> np.ndarray:
    """|actual − point| over the width of the interval's side the actual fell on."""
    a, p = records["actual"].to_numpy(), records["point"].to_numpy()
    width = np.where(a >= p, records[hi].to_numpy() - p, p - records[lo].to_numpy())
    miss = np.abs(a - p)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(width > 0, miss / width, np.where(miss > 0, np.inf, 0.0))
    return ratio


def interval_scale(records: pl.DataFrame) -> tuple[float, float]:
    """Factors (1 to 5) that stretch the 80 % and 95 % intervals to their backtest coverage."""
    if records.height < MIN_CALIBRATION:
        return 1.0, 1.0
    out = []
    for lo, hi, level in (("lo80", "hi80", 0.8), ("lo95", "hi95", 0.95)):
        q = float(np.quantile(_side_ratio(records, lo, hi), level, method="higher"))
        out.append(min(max(q, 1.0), MAX_SCALE))
    return out[0], out[1]


def _rank(scores: pl.DataFrame | None, fitted: list[str]) -> list[str]:
    if scores is None or scores.is_empty():
        return fitted
    means = scores.group_by("method").agg(
        mase=pl.col("mase").drop_nans().mean(), mae=pl.col("mae").mean()
    )
    use_mase = means["mase"].null_count() == 0
    key = {
        row["method"]: (row["mase"] if use_mase else row["mae"])
        for row in means.iter_rows(named=True)
    }
    return sorted((m for m in fitted if m in key), key=lambda m: (key[m], methods.COMPLEXITY[m]))


def forecast(y: np.ndarray, selection: Selection, h: int, *, seed: int = 0) -> tuple[str, Forecast]:
    """Refit the chosen method on the whole series and forecast ``h`` steps, with its
    intervals calibrated on the backtest.

    If the chosen method fails on the full history, the next in the ranking is used
    (and returned, with its model intervals), down to naive.
    """
    y = np.asarray(y, dtype=float)
    for method in [*selection.ranking, "naive"]:
        try:
            result = methods.forecast(method, y, h, selection.seasonal_period, seed=seed)
        except ForecastError:
            continue
        if method == selection.method:
            result = result.widened(*selection.interval_scale).clipped()
        return method, result
    raise ForecastError("no method could forecast this series")  # naive never fails on n >= 2


def _empty_records() -> pl.DataFrame:
    return pl.DataFrame(schema={**backtest.RECORD_SCHEMA, "method": pl.String})


def _empty_scores() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "method": pl.String,
            "horizon": pl.Int64,
            "mase": pl.Float64,
            "smape": pl.Float64,
            "mae": pl.Float64,
            "coverage80": pl.Float64,
            "coverage95": pl.Float64,
            "origins": pl.UInt32,
        }
    )
