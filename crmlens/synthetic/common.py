"""Shared plumbing of the generator: seeded streams, the clock, sampling helpers.

Time inside the simulation is a float number of days since the first day of
history (``Clock.start``, midnight UTC). It is converted to timestamps only when
tables are written, always by :meth:`Clock.to_seconds` / :meth:`Clock.to_micros`,
so rounding is the same everywhere.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

_EPOCH = datetime(1970, 1, 1)


def stream(seed: int, name: str, *extra: int) -> np.random.Generator:
    """An independent PCG64 generator for one named part of the generator.

    Each stream is seeded by the user's seed and a stable hash of its name (not
    by its position in a spawn order), so adding a column or a table draws from
    its own stream and shifts no other table.

    Args:
        seed: the user's seed.
        name: the part's name (``deals``, ``events_day``...).
        *extra: further integers that key the stream (a day).

    Returns:
        The generator.
    """
    entropy = [seed & 0xFFFFFFFF, seed >> 32, zlib.crc32(name.encode()), *extra]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, elementwise."""
    return 1.0 / (1.0 + np.exp(-x))


def choice(rng: np.random.Generator, pairs: Sequence[tuple[object, float]], n: int) -> np.ndarray:
    """Draw ``n`` indices into ``pairs`` (value, weight) with the given weights.

    Args:
        rng: the stream to draw from.
        pairs: (value, weight) pairs; the weights need not sum to 1.
        n: how many to draw.

    Returns:
        Indices into ``pairs``.
    """
    weights = np.array([w for _, w in pairs], dtype=float)
    return rng.choice(len(pairs), size=n, p=weights / weights.sum())


def calibrate_offset(logits: np.ndarray, target: float) -> float:
    """The constant that, added to ``logits``, makes the mean probability ``target``.

    Used so that headline rates (conversion, win, churn) land in realistic ranges
    at every scale while the *relative* effects stay those of the causal model.

    Args:
        logits: the model's logits.
        target: the mean probability wanted.

    Returns:
        The offset.
    """
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if sigmoid(logits + mid).mean() < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def key_strings(prefix: str, n: int, width: int) -> np.ndarray:
    """Keys ``prefix`` + zero-padded 1-based numbers, as an object array.

    Args:
        prefix: e.g. ``A`` for accounts.
        n: how many keys.
        width: digits of the number.

    Returns:
        ``n`` keys, in order.
    """
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


@dataclass(frozen=True)
class Clock:
    """The history window: ``days`` whole days starting at ``start`` (midnight UTC)."""

    start: date
    end: date

    @classmethod
    def for_years(cls, end: date, years: int) -> Clock:
        """A window of ``years`` years ending on ``end`` (inclusive).

        Args:
            end: the last day of history.
            years: the window's length.

        Returns:
            The clock.
        """
        try:
            first = end.replace(year=end.year - years)
        except ValueError:  # 29 February
            first = end.replace(year=end.year - years, day=28)
        return cls(first + timedelta(days=1), end)

    @property
    def days(self) -> int:
        """Whole days in the window."""
        return (self.end - self.start).days + 1

    @property
    def start_seconds(self) -> int:
        """Seconds from the Unix epoch to the window's first midnight."""
        return int((datetime.combine(self.start, datetime.min.time()) - _EPOCH).total_seconds())

    def to_seconds(self, t: np.ndarray) -> np.ndarray:
        """Simulation days → int64 seconds since the Unix epoch (floored)."""
        return self.start_seconds + np.floor(np.asarray(t, dtype=float) * 86_400.0).astype(np.int64)

    def to_micros(self, t: np.ndarray) -> np.ndarray:
        """Simulation days → int64 microseconds since the Unix epoch (floored)."""
        return self.start_seconds * 1_000_000 + np.floor(
            np.asarray(t, dtype=float) * 86_400_000_000.0
        ).astype(np.int64)

    def day_of(self, d: date) -> int:
        """The simulation day of a calendar date."""
        return (d - self.start).days

    def weekday(self, day_index: np.ndarray) -> np.ndarray:
        """Day of week (Monday 0) of simulation day indices."""
        return (np.asarray(day_index) + self.start.weekday()) % 7

    def quarter_ends(self) -> np.ndarray:
        """Simulation day (float, end of day) of every quarter end in and after the window."""
        out = []
        y, q = self.start.year, (self.start.month - 1) // 3
        while True:
            month = 3 * q + 3
            last = date(y + (month // 12), month % 12 + 1, 1) - timedelta(days=1)
            out.append(self.day_of(last) + 1.0)
            if last > self.end + timedelta(days=400):
                break
            q += 1
            if q == 4:
                y, q = y + 1, 0
        return np.array(out)

    def month_starts(self, before_months: int = 0) -> np.ndarray:
        """Simulation day of the first of each month, from ``before_months`` before the start."""
        y, m = self.start.year, self.start.month - before_months
        while m < 1:
            y, m = y - 1, m + 12
        out = []
        while True:
            d = date(y, m, 1)
            out.append(self.day_of(d))
            if d > self.end:
                break
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return np.array(out, dtype=float)


def day_weights(clock: Clock, growth_per_year: float, weekend: float) -> np.ndarray:
    """Relative volume per day: exponential growth and a weekday/weekend rhythm.

    Args:
        clock: the window.
        growth_per_year: yearly growth (0.3: 30 % more per year).
        weekend: a weekend day's volume relative to a weekday's.

    Returns:
        One weight per day, summing to 1.
    """
    days = np.arange(clock.days)
    w = np.exp(np.log1p(growth_per_year) * days / 365.0)
    w = w * np.where(clock.weekday(days) >= 5, weekend, 1.0)
    return w / w.sum()


def sample_times(
    rng: np.random.Generator, n: int, weights: np.ndarray, business_hours: bool = True
) -> np.ndarray:
    """``n`` times (simulation days) with days drawn by ``weights``, sorted ascending.

    Times of day follow office hours (roughly 08:00-19:00 UTC with a spread) when
    ``business_hours`` is set, else they are uniform over the day.

    Args:
        rng: the stream to draw from.
        n: how many times.
        weights: one weight per day (:func:`day_weights`).
        business_hours: office hours rather than any time of day.

    Returns:
        The times, sorted.
    """
    days = rng.choice(len(weights), size=n, p=weights)
    if business_hours:
        hour = np.clip(rng.normal(13.0, 3.0, n), 0.0, 23.999)
        frac = hour / 24.0
    else:
        frac = rng.random(n)
    return np.sort(days + frac)
