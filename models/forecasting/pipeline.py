"""Pipeline forecast of bookings for the current and the next two quarters.

Methods, each per quarter and including what is already closed in the current quarter:

    weighted_pipeline     the classic CRM roll-up: Σ amount × stage probability (the CRM's
                          vocabulary, ``stage_probability``; canonical 10/20/40/60/80 %,
                          :data:`models.deal_scoring.STAGE_PROBABILITY`) in the deal's expected
                          close month; a missing amount counts 0, as in the CRM
    probability_weighted  Σ amount × calibrated win probability (ml.opportunity_scores), in the
                          expected close month
    slippage_adjusted     the same, with each deal's close month spread by the slippage kernel
    statistical           closed months + the statistical forecast of total monthly bookings
    blended               w·slippage_adjusted + (1 − w)·statistical, w from the backtest

and the scenarios managers plan on, from the blended distribution: ``commit`` (a 90 %
chance to book at least this), ``most_likely`` (the blended point), ``best_case`` (a 10 %
chance to book more).

Deals past their expected close date (or without one) count from the current month.
A missing amount is imputed for the probability methods with the median won amount of
the product line over the 12 months before the origin.

Slippage kernel, learned from how close dates moved: at every month start at least six
months before the origin, each open deal's expected close date is read from the stage
history as it stood then; for the deals that were later won (before the origin), the
kernel is the distribution of (close month − expected close month), clipped to −3…+9.
Deals already past their expected date at the snapshot get a second kernel: months from
the snapshot to the close. A kernel with fewer than 30 wins falls back to "no slip".

Distribution: each deal is won with its probability and, if won, closes in a month drawn
from its kernel (independently across deals); 4,000 seeded draws give the pipeline's
quantiles. The statistical quarter's spread comes from its monthly intervals (normal,
months independent). The blended quantiles are the weighted sums of the two methods'
quantiles — exact if the two move together, wider otherwise — so commit and best case
are, if anything, cautious.

Blend weights, per quarter ahead: inverse mean squared error (Bates-Granger) of the two
methods over backtest origins (every month start of the total bookings backtest). At a
past origin the calibrated probabilities of that day were not stored, so the backtest's
pipeline uses each stage's win rate as it was known then (deals open at earlier month
starts that closed before the origin); the weight it earns is therefore, if anything,
too low for the live, calibrated pipeline. Fewer than 3 origins: equal weights, and the
reason says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import polars as pl

from models.deal_scoring import STAGE_PROBABILITY
from models.forecasting.methods import Z80, Z95
from models.forecasting.series import shift

FOLLOW_MONTHS = 6
MIN_WINS = 30
MIN_CLOSED_PER_STAGE = 20
SLIP_CLIP = (-3, 9)
QUARTERS = 3
DRAWS = 4000
MIN_BLEND_ORIGINS = 3

SCENARIOS = {
    "weighted_pipeline": "CRM roll-up: amount × stage probability, by expected close month",
    "probability_weighted": "amount × calibrated win probability, by expected close month",
    "slippage_adjusted": "amount × calibrated win probability, close month spread by past slippage",
    "statistical": "closed months + statistical forecast of total monthly bookings",
    "blended": "backtest-weighted blend of slippage_adjusted and statistical",
    "commit": "90 % likely to book at least this (10th percentile of the blend)",
    "most_likely": "the blended forecast",
    "best_case": "10 % likely to book more (90th percentile of the blend)",
}


def month_index(d: date) -> int:
    """Months since year 0 (to count months between dates)."""
    return d.year * 12 + d.month - 1


def quarter_start(d: date) -> date:
    """The first day of the quarter that holds ``d``."""
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def quarter_label(d: date) -> str:
    """``2026-Q3``."""
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def _as_date(d: date | datetime) -> date:
    return d.date() if isinstance(d, datetime) else d


@dataclass(frozen=True)
class Slippage:
    """Where a deal that is won actually closes, relative to its expected close month.

    Attributes:
        on_time: Slip in months (close month − expected month) -> probability.
        overdue: For deals past their expected date: months after the origin month -> probability.
        wins_on_time: Won deals the on-time kernel was learned from.
        wins_overdue: Won deals the overdue kernel was learned from.
        note: Why a kernel fell back to "no slip", if one did.
    """

    on_time: dict[int, float]
    overdue: dict[int, float]
    wins_on_time: int = 0
    wins_overdue: int = 0
    note: str | None = None

    @classmethod
    def none(cls, note: str | None = None) -> Slippage:
        return cls({0: 1.0}, {0: 1.0}, note=note)

    def months(self, expected_offset: int | None, overdue: bool, horizon: int) -> np.ndarray:
        """P(close in origin month + k) for k < horizon, for a deal that will be won."""
        out = np.zeros(horizon)
        if overdue or expected_offset is None:
            for k, p in self.overdue.items():
                if 0 <= k < horizon:
                    out[k] += p
            return out
        for d, p in self.on_time.items():
            k = max(0, expected_offset + d)
            if k < horizon:
                out[k] += p
        return out


def month_starts(first: date, stop: date) -> list[date]:
    """Month starts after ``first`` (exclusive) up to ``stop`` (inclusive)."""
    out, current = [], shift("month", first.replace(day=1), 1)
    while current <= stop:
        out.append(current)
        current = shift("month", current, 1)
    return out


def _known_before(snapshots: pl.DataFrame, origin: date) -> pl.DataFrame:
    """Snapshots at least FOLLOW_MONTHS before the origin, outcomes settled before it."""
    last = shift("month", origin.replace(day=1), -FOLLOW_MONTHS)
    cutoff = datetime(origin.year, origin.month, origin.day)
    return snapshots.filter(
        (pl.col("snapshot") <= last)
        & pl.col("closed_at").is_not_null()
        & (pl.col("closed_at") < cutoff)
    )


def learn_slippage(snapshots: pl.DataFrame, origin: date) -> Slippage:
    """The slippage kernels, from wins settled before ``origin`` (see the module docstring)."""
    origin = _as_date(origin)
    wins = _known_before(snapshots, origin).filter(pl.col("is_won"))
    if wins.is_empty():
        return Slippage.none(f"no won deals with a close-date history before {origin}")
    lo, hi = SLIP_CLIP
    rows = wins.with_columns(
        snap_m=pl.col("snapshot").dt.year() * 12 + pl.col("snapshot").dt.month() - 1,
        close_m=pl.col("closed_at").dt.year() * 12 + pl.col("closed_at").dt.month() - 1,
        exp_m=pl.col("expected_close_date").dt.year() * 12
        + pl.col("expected_close_date").dt.month()
        - 1,
        overdue=pl.col("expected_close_date").is_null()
        | (pl.col("expected_close_date") < pl.col("snapshot")),
    )
    on_time = rows.filter(~pl.col("overdue")).select(
        d=(pl.col("close_m") - pl.col("exp_m")).clip(lo, hi)
    )["d"]
    overdue = rows.filter(pl.col("overdue")).select(
        d=(pl.col("close_m") - pl.col("snap_m")).clip(0, hi)
    )["d"]
    notes = []
    on_kernel, over_kernel = _kernel(on_time), _kernel(overdue)
    if len(on_time) < MIN_WINS:
        on_kernel = {0: 1.0}
        notes.append(f"on-time kernel: {len(on_time)} wins < {MIN_WINS}, no slip assumed")
    if len(overdue) < MIN_WINS:
        over_kernel = {0: 1.0}
        notes.append(f"overdue kernel: {len(overdue)} wins < {MIN_WINS}, close this month assumed")
    return Slippage(on_kernel, over_kernel, len(on_time), len(overdue), "; ".join(notes) or None)


def _kernel(slips: pl.Series) -> dict[int, float]:
    if len(slips) == 0:
        return {0: 1.0}
    counts = slips.value_counts().sort(slips.name)
    total = counts["count"].sum()
    return {int(k): c / total for k, c in zip(counts[slips.name], counts["count"], strict=True)}


def stage_win_rates(snapshots: pl.DataFrame, origin: date) -> dict[str, float]:
    """Win rate of deals by the stage they were in at a month start, outcomes known at ``origin``.

    Stages with fewer than 20 settled deals keep the CRM's stage probability (the
    snapshots' ``stage_probability``, else the canonical stage's).
    """
    settled = _known_before(snapshots, _as_date(origin))
    rates = {s: p / 100 for s, p in STAGE_PROBABILITY.items()}
    if "stage_probability" in snapshots.columns:
        known = snapshots.select("stage", "stage_probability").drop_nulls().unique("stage")
        rates |= dict(known.iter_rows())
    if settled.is_empty():
        return rates
    by_stage = settled.group_by("stage").agg(
        n=pl.len(), won=pl.col("is_won").cast(pl.Float64).mean()
    )
    for stage, n, won in by_stage.iter_rows():
        if stage is not None and stage in rates and n >= MIN_CLOSED_PER_STAGE:
            rates[stage] = float(won)
    return rates


def impute_amounts(deals: pl.DataFrame, won: pl.DataFrame, origin: date) -> pl.DataFrame:
    """Fill missing amounts with the median won amount of the product line (12 months before
    the origin; all lines' median, else 0, when the line has none). Adds ``amount_imputed``."""
    origin_at = datetime(origin.year, origin.month, origin.day)
    since = shift("month", origin.replace(day=1), -12)
    recent = won.filter(
        (pl.col("closed_at") < origin_at)
        & (pl.col("closed_at") >= datetime(since.year, since.month, 1))
        & pl.col("amount").is_not_null()
    )
    overall = float(recent["amount"].median()) if recent.height else 0.0
    medians = recent.group_by("product_line").agg(median=pl.col("amount").median())
    return (
        deals.join(medians, on="product_line", how="left")
        .with_columns(
            amount_imputed=pl.col("amount").is_null(),
            amount_filled=pl.coalesce("amount", "median", pl.lit(overall)).cast(pl.Float64),
        )
        .drop("median")
    )


def month_matrix(
    deals: pl.DataFrame, origin: date, horizon: int, slippage: Slippage | None
) -> np.ndarray:
    """deals × months: P(a won deal closes in origin month + k). Without a kernel, all of it
    in the expected close month (the origin month for a deal past its date)."""
    kernel = slippage or Slippage.none()
    o = month_index(origin)
    out = np.zeros((deals.height, horizon))
    expected = deals["expected_close_date"].to_list()
    for i, when in enumerate(expected):
        overdue = when is None or when < origin
        offset = None if when is None else month_index(when) - o
        if slippage is None:
            k = 0 if overdue else offset
            if k is not None and k < horizon:
                out[i, k] = 1.0
        else:
            out[i] = kernel.months(offset, overdue, horizon)
    return out


@dataclass
class QuarterPlan:
    """The origin, the three quarters and the months from the origin month to their end."""

    origin: date
    quarters: list[date] = field(default_factory=list)
    months: list[date] = field(default_factory=list)

    @classmethod
    def at(cls, origin: date | datetime) -> QuarterPlan:
        origin = _as_date(origin)
        first = quarter_start(origin)
        quarters = [shift("month", first, 3 * k) for k in range(QUARTERS)]
        end = shift("month", quarters[-1], 3)
        months, current = [], origin.replace(day=1)
        while current < end:
            months.append(current)
            current = shift("month", current, 1)
        return cls(origin, quarters, months)

    def quarter_of_month(self) -> np.ndarray:
        return np.array(
            [(month_index(m) - month_index(self.quarters[0])) // 3 for m in self.months]
        )

    def by_quarter(self, monthly: np.ndarray) -> np.ndarray:
        out = np.zeros(QUARTERS)
        np.add.at(out, self.quarter_of_month(), monthly)
        return out


def simulate(
    values: np.ndarray,
    probability: np.ndarray,
    months: np.ndarray,
    plan: QuarterPlan,
    *,
    draws: int,
    seed: int,
) -> np.ndarray:
    """draws × quarters of won amounts: each deal won with its probability, closing in a month
    drawn from its row of ``months`` (the rest of the row's mass: after the last quarter)."""
    rng = np.random.default_rng(seed)
    quarter = plan.quarter_of_month()
    cum = np.cumsum(months, axis=1)
    out = np.zeros((draws, QUARTERS))
    if len(values) == 0:
        return out
    chunk = max(1, 2_000_000 // max(1, len(values) * months.shape[1]))
    for start in range(0, draws, chunk):
        n = min(chunk, draws - start)
        won = rng.random((n, len(values))) < probability
        u = rng.random((n, len(values)))
        month = (u[:, :, None] > cum[None, :, :]).sum(axis=2)  # == horizon: after the window
        amount = np.where(won, values, 0.0)
        for k in range(months.shape[1]):
            out[start : start + n, quarter[k]] += (amount * (month == k)).sum(axis=1)
    return out


@dataclass(frozen=True)
class PipelineQuarters:
    """Per quarter (arrays of length 3): the pipeline methods and their distribution."""

    closed: np.ndarray
    weighted_pipeline: np.ndarray
    probability_weighted: np.ndarray
    slippage_adjusted: np.ndarray
    quantiles: dict[float, np.ndarray]  # q -> closed + pipeline quantile
    open_deals: int


def pipeline_quarters(
    deals: pl.DataFrame,
    plan: QuarterPlan,
    slippage: Slippage,
    closed_to_date: float,
    *,
    draws: int = DRAWS,
    seed: int = 0,
) -> PipelineQuarters:
    """The pipeline methods for the plan's quarters.

    Args:
        deals: Open deals with ``amount`` (may be null), ``amount_filled``, ``probability``,
            ``stage`` and ``expected_close_date``.
        plan: The origin and its quarters.
        slippage: The kernel learned before the origin.
        closed_to_date: Bookings already won in the current quarter before the origin.
        draws: Monte Carlo draws for the quantiles.
        seed: Seeds the draws.
    """
    horizon = len(plan.months)
    flat = month_matrix(deals, plan.origin, horizon, None)
    slipped = month_matrix(deals, plan.origin, horizon, slippage)
    stage_p = deals["stage"].replace_strict(
        {s: p / 100 for s, p in STAGE_PROBABILITY.items()}, default=0.1, return_dtype=pl.Float64
    )
    if "stage_probability" in deals.columns:
        stage_p = deals["stage_probability"].cast(pl.Float64).fill_null(stage_p)
    raw = deals["amount"].cast(pl.Float64).fill_null(0.0).to_numpy()
    value = deals["amount_filled"].to_numpy()
    p = deals["probability"].cast(pl.Float64).to_numpy()
    closed = np.array([closed_to_date, 0.0, 0.0])
    sims = simulate(value, p, slipped, plan, draws=draws, seed=seed)
    qs = {q: closed + np.quantile(sims, q, axis=0) for q in (0.025, 0.1, 0.5, 0.9, 0.975)}
    return PipelineQuarters(
        closed=closed,
        weighted_pipeline=closed + plan.by_quarter((raw * stage_p.to_numpy()) @ flat),
        probability_weighted=closed + plan.by_quarter((value * p) @ flat),
        slippage_adjusted=closed + plan.by_quarter((value * p) @ slipped),
        quantiles=qs,
        open_deals=deals.height,
    )


def statistical_quarters(
    plan: QuarterPlan,
    actual: dict[date, float],
    forecast: dict[date, tuple[float, float, float]],
    *,
    strict: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """(point, sd) per quarter: complete months' actuals + monthly forecasts (point, lo80, hi80).

    Months of a quarter before the origin month are actuals; from the origin month on,
    forecasts. The quarter's sd treats the months' errors as independent. A quarter with
    a month missing from ``forecast`` raises (``strict``) or is NaN.
    """
    point, var = np.zeros(QUARTERS), np.zeros(QUARTERS)
    for k, first in enumerate(plan.quarters):
        for i in range(3):
            month = shift("month", first, i)
            if month < plan.origin.replace(day=1):
                point[k] += actual.get(month, 0.0)
            elif month in forecast:
                f, lo, hi = forecast[month]
                point[k] += f
                var[k] += ((hi - lo) / (2 * Z80)) ** 2
            elif strict:
                raise KeyError(f"no statistical forecast for {month}")
            else:
                point[k] = var[k] = np.nan
    return point, np.sqrt(var)


def blend_weights(errors: pl.DataFrame) -> dict[int, tuple[float, int, str | None]]:
    """Per quarter ahead (horizon 1-3): (pipeline weight, origins, reason if defaulted).

    ``errors`` has horizon, pipeline (slippage-adjusted) and statistical quarter forecasts,
    and the actual, one row per backtest origin and horizon.
    """
    out = {}
    for h in range(1, QUARTERS + 1):
        rows = errors.filter(pl.col("horizon") == h) if errors.height else errors
        n = rows.height
        if n < MIN_BLEND_ORIGINS:
            out[h] = (0.5, n, f"{n} backtest origins < {MIN_BLEND_ORIGINS}: equal weights")
            continue
        mse_pipe = float(((rows["actual"] - rows["slippage_adjusted"]) ** 2).mean())
        mse_stat = float(((rows["actual"] - rows["statistical"]) ** 2).mean())
        if mse_pipe + mse_stat == 0:
            out[h] = (0.5, n, "both methods exact in the backtest: equal weights")
            continue
        out[h] = (mse_stat / (mse_pipe + mse_stat), n, None)
    return out


def combine(
    pipe: PipelineQuarters,
    stat_point: np.ndarray,
    stat_sd: np.ndarray,
    weights: dict[int, tuple[float, int, str | None]],
) -> dict[str, np.ndarray]:
    """Blend and scenarios per quarter (see the module docstring)."""
    w = np.array([weights[h][0] for h in range(1, QUARTERS + 1)])

    def stat_q(z: float) -> np.ndarray:
        return np.maximum(stat_point + z * stat_sd, pipe.closed)

    blended = w * pipe.slippage_adjusted + (1 - w) * stat_point
    lo80 = w * pipe.quantiles[0.1] + (1 - w) * stat_q(-Z80)
    hi80 = w * pipe.quantiles[0.9] + (1 - w) * stat_q(Z80)
    lo95 = w * pipe.quantiles[0.025] + (1 - w) * stat_q(-Z95)
    hi95 = w * pipe.quantiles[0.975] + (1 - w) * stat_q(Z95)
    return {
        "blended": blended,
        "commit": np.minimum(lo80, blended),
        "most_likely": blended,
        "best_case": np.maximum(hi80, blended),
        "lo95": np.minimum(lo95, lo80),
        "hi95": np.maximum(hi95, hi80),
        "weight": w,
    }


def with_probability(deals: pl.DataFrame, rates: dict[str, float]) -> pl.DataFrame:
    """Fill missing probabilities with the stage's win rate; say which source each row used."""
    fallback = deals["stage"].replace_strict(
        rates, default=min(rates.values(), default=0.0), return_dtype=pl.Float64
    )
    if "probability" not in deals.columns:
        deals = deals.with_columns(probability=pl.lit(None, dtype=pl.Float64))
    return deals.with_columns(
        probability_source=pl.when(pl.col("probability").is_null())
        .then(pl.lit("stage_win_rate"))
        .otherwise(pl.lit("calibrated_model")),
        probability=pl.coalesce(pl.col("probability"), fallback),
    )


def closed_between(won: pl.DataFrame, start: date, end: datetime) -> float:
    """Won amounts (missing ones as 0) closed from ``start`` (inclusive) to ``end``."""
    begin = datetime(start.year, start.month, start.day)
    part = won.filter((pl.col("closed_at") >= begin) & (pl.col("closed_at") < end))
    return float(part["amount"].fill_null(0.0).sum())
