"""Checks a pandera field cannot say by itself: "not in the future", "a finite number",
"an end after its start".

"Not in the future" compares with the clock in :func:`validation_clock`, so tests
and replays can pin "now"; every load pins it around the contract's run.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import datetime, timedelta

import pandera.polars as pa
import polars as pl
from pandera.api.extensions import register_check_method

from crmlens.clock import utc_now
from crmlens.settings import Settings

_clock: contextvars.ContextVar[tuple[datetime, timedelta] | None] = contextvars.ContextVar(
    "crmlens_validation_clock", default=None
)
# The setting's default: checks run outside a load (tests, notebooks) use it too.
DEFAULT_FUTURE_TOLERANCE = timedelta(hours=Settings.model_fields["future_tolerance_hours"].default)


@contextlib.contextmanager
def validation_clock(
    now: datetime | None = None, tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE
) -> Iterator[None]:
    """Pin the 'now' (naive UTC) and the clock-skew tolerance used by future checks.

    Args:
        now: the moment that counts as now; the wall clock when absent.
        tolerance: how far past ``now`` a timestamp may lie.

    Yields:
        Nothing; the clock holds inside the ``with`` block.
    """
    now = now or utc_now()
    token = _clock.set((now, tolerance))
    try:
        yield
    finally:
        _clock.reset(token)


def latest_allowed_timestamp() -> datetime:
    """The latest timestamp a contract accepts: now plus the tolerance."""
    pinned = _clock.get()
    if pinned is None:
        return utc_now() + DEFAULT_FUTURE_TOLERANCE
    now, tolerance = pinned
    return now + tolerance


def not_in_future(data: pa.PolarsData) -> pl.LazyFrame:
    """Vectorized check: the value is null or no later than now plus the tolerance."""
    limit = latest_allowed_timestamp()
    col = pl.col(data.key)
    if data.lazyframe.collect_schema()[data.key] == pl.Date:
        return data.lazyframe.select(col.is_null() | (col <= pl.lit(limit.date())))
    return data.lazyframe.select(col.is_null() | (col <= pl.lit(limit)))


# Registered so that fields can say `not_in_future=()`. Guarded: pandera's registry
# is process-wide and refuses a second registration (module reloads in notebooks).
if "not_in_future" not in pa.Check.REGISTERED_CUSTOM_CHECKS:
    register_check_method(not_in_future)


def finite(data: pa.PolarsData) -> pl.LazyFrame:
    """Vectorized check: the value is null or a finite number (not inf, -inf or NaN).

    Range checks alone let them through: inf is >= 0, and polars orders NaN above all.
    """
    col = pl.col(data.key)
    return data.lazyframe.select(col.is_null() | col.is_finite())


if "finite" not in pa.Check.REGISTERED_CUSTOM_CHECKS:
    register_check_method(finite)


def ends_after(data: pa.PolarsData, start: str, end: str) -> pl.LazyFrame:
    """Dataframe check: ``end`` is not before ``start`` (either may be null).

    Args:
        data: what pandera hands a dataframe check.
        start: the column of the start.
        end: the column of the end.

    Returns:
        One boolean per row: whether it passes.
    """
    s, e = pl.col(start), pl.col(end)
    return data.lazyframe.select((s.is_null() | e.is_null() | (e >= s)).alias("ok"))
