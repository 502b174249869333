"""Features that stand for time itself, dropped under a time split.

Under a time split the test period lies after everything the model learned from. A
feature that only says *when* a row is (the month a lead was created, a counter that
grows with the calendar) then carries values the training rows never had: a month
seen only in the test, a counter beyond the training range. Trees split on it as if it
meant something, and it dominates on the new period. Two kinds are dropped:

- calendar positions by name (``created_month``, ``signup_year``, ``close_quarter``…);
- any numeric feature that follows the snapshot time itself: a rank correlation with
  ``as_of`` of :data:`MAX_TIME_CORRELATION` or more over the rows the model is fitted on.

Under a random split (all rows share one moment) nothing is dropped: there the calendar
is seasonality, seen on both sides.

Context series a source spec attaches (``ctx_<series>_<column>``, :mod:`features.context`)
are exempt (``exempt``): an economic indicator may trend with time over the data's few
years, yet it is a real measurement known at the snapshot, not a stand-in for the date,
and dropping it would throw away what the spec attached it for. A series whose spec says
``check_time_proxy: true`` is not exempt.
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl

from models.common.splits import Split

CALENDAR = re.compile(r"(^|_)(month|year|quarter|week_of_year|day_of_year|yearmonth)$")
MAX_TIME_CORRELATION = 0.8


def is_calendar(name: str) -> bool:
    """Whether a feature's name says it is a position in the calendar."""
    return bool(CALENDAR.search(name))


def drop_time_proxies(
    split: Split,
    numeric: list[str],
    frame: pl.DataFrame,
    as_of: np.ndarray,
    exempt: list[str] | tuple[str, ...] = (),
) -> tuple[list[str], list[str]]:
    """The numeric features to keep, and the time proxies dropped (module docstring).

    Args:
        split: The split (only a time split drops anything).
        numeric: The numeric features.
        frame: The training set.
        as_of: Each row's snapshot time.
        exempt: Features never dropped (context series, :attr:`FeatureSet.time_exempt`).

    Returns:
        The features kept and those dropped, in their order.
    """
    if split.kind != "time":
        return list(numeric), []
    fitted = np.concatenate([split.train, split.valid])
    when = pl.Series(np.asarray(as_of)[fitted]).cast(pl.Int64).rank().to_numpy()
    dropped = []
    for column in numeric:
        if column not in frame.columns or column in exempt:
            continue
        if is_calendar(column) or _follows(frame[column][fitted], when):
            dropped.append(column)
    return [c for c in numeric if c not in dropped], dropped


def _follows(values: pl.Series, when_rank: np.ndarray) -> bool:
    """Whether a column's rank correlation with the snapshot time is that of a clock."""
    x = values.cast(pl.Float64).to_numpy()
    ok = np.isfinite(x)
    if ok.sum() < 10 or np.nanstd(x[ok]) == 0:
        return False
    rx = pl.Series(x[ok]).rank().to_numpy()
    rt = when_rank[ok]
    if np.std(rt) == 0:
        return False
    return abs(float(np.corrcoef(rx, rt)[0, 1])) >= MAX_TIME_CORRELATION
