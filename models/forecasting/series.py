"""Revenue series from the warehouse (and from a CSV), as one tidy polars frame.

Every series is ``(metric, grain, segment_type, segment)`` with one row per period::

    metric        bookings      won amount, by the period of closed_at
                  new_pipeline  amount of opportunities created, by created_at (null amounts
                                count 0; an amount set later revises its creation period)
                  mrr           MRR at the end of the month (monthly only: a month-end stock)
                  revenue       billed invoice amounts, by issued_at: the revenue of a source
                                without subscriptions (where there are, MRR measures it)
    grain         month | week (ISO weeks, starting Monday)
    segment_type  total (segment "all") | region (the account's) | team (the owner's) |
                  product_line (bookings and new pipeline only: subscriptions have no line)

Segments of a type partition the total exactly: a deal or account without a region, team
or product line lands in "unknown", so the segment series of a type add up to the total.
A segment type whose every row is "unknown" (a source without regions) adds nothing to the
total and is left out; so is the weekly grain of a metric recorded once a month (every
row on a month's first midnight, as a monthly revenue export is).

Each metric is built from what the source has: bookings and new pipeline from deals, MRR
from subscriptions, revenue from invoices. A source with none of them has no series.

Only complete periods are kept. The period holding the data's "today" (the midnight after
the newest activity, :func:`crmlens.clock.data_today`) is incomplete: it is excluded from
fitting and becomes horizon 1 of the forecast; :class:`SeriesSet` says which period that
is. A first period that starts before the data does is left out as well.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import duckdb
import numpy as np
import polars as pl

from crmlens import sql

METRICS = ("bookings", "new_pipeline", "mrr", "revenue")
GRAINS = ("month", "week")
SEGMENT_TYPES = ("total", "region", "team", "product_line")
TOTAL = "all"
UNKNOWN = "unknown"
RETAIL_METRIC = "retail_sales"

KEY = ("metric", "grain", "segment_type", "segment")
# A series' key and period, as every table of series rows (forecasts, history) starts.
PERIOD_SCHEMA = {**dict.fromkeys(KEY, pl.String), "period": pl.Date}
SCHEMA = {**PERIOD_SCHEMA, "value": pl.Float64}


class SeriesKey(NamedTuple):
    metric: str
    grain: str
    segment_type: str
    segment: str

    def label(self) -> str:
        return f"{self.metric}/{self.grain}/{self.segment_type}={self.segment}"

    def columns(self) -> dict[str, pl.Expr]:
        """The key as the literal columns of a select: ``frame.select(**key.columns(), ...)``.

        Returns:
            ``metric``, ``grain``, ``segment_type`` and ``segment``, in that order.
        """
        return {name: pl.lit(value) for name, value in self._asdict().items()}


# Total bookings by quarter: the deal pipeline's series (blended, scored, published).
QUARTER_BOOKINGS = SeriesKey("bookings", "quarter", "total", TOTAL)


@dataclass
class SeriesSet:
    """Series frame (see :data:`SCHEMA`) and, per grain, the incomplete current period.

    Attributes:
        frame: One row per series and complete period.
        today: The data's today the series were cut at (exclusive).
        current: Grain -> the first period not in the frame (horizon 1 of a forecast).
        partial: Rows for the current, incomplete periods (the actual so far), same schema.
    """

    frame: pl.DataFrame
    today: datetime
    current: dict[str, date]
    partial: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SCHEMA))

    def keys(self) -> list[SeriesKey]:
        rows = self.frame.select(KEY).unique(maintain_order=True).rows()
        return [SeriesKey(*r) for r in rows]

    def values(self, key: SeriesKey) -> tuple[list[date], np.ndarray]:
        """(periods, values) of one series, in period order."""
        part = self.frame.filter(**key._asdict()).sort("period")
        return part["period"].to_list(), part["value"].to_numpy().astype(float)


def period_start(grain: str, day: date | datetime) -> date:
    """The first day of the period (month, or ISO week from Monday) that holds ``day``."""
    d = day.date() if isinstance(day, datetime) else day
    if grain == "month":
        return d.replace(day=1)
    if grain == "week":
        return d - timedelta(days=d.weekday())
    raise ValueError(f"unknown grain {grain!r}; known: {GRAINS}")


def shift(grain: str, start: date, steps: int) -> date:
    """The period ``steps`` periods after the one starting at ``start``."""
    if grain == "week":
        return start + timedelta(weeks=steps)
    months = start.year * 12 + start.month - 1 + steps
    return date(months // 12, months % 12 + 1, 1)


def period_range(grain: str, first: date, stop: date) -> list[date]:
    """Period starts from ``first`` up to (not including) ``stop``."""
    out, current = [], first
    while current < stop:
        out.append(current)
        current = shift(grain, current, 1)
    return out


def _first_complete(grain: str, data_start: datetime | date) -> date:
    start = data_start.date() if isinstance(data_start, datetime) else data_start
    first = period_start(grain, start)
    return first if first >= start else shift(grain, first, 1)


def build_series(
    con: duckdb.DuckDBPyConnection,
    today: datetime,
    *,
    metrics: tuple[str, ...] = METRICS,
    grains: tuple[str, ...] = GRAINS,
) -> SeriesSet:
    """Every metric × grain × segment series of the warehouse's marts, cut at ``today``.

    Args:
        con: A warehouse connection with the marts built.
        today: The data's today (exclusive): events at or after it are ignored, and the
            period holding it is the incomplete current period.
        metrics: Which of :data:`METRICS` to build.
        grains: Which of :data:`GRAINS` to build (MRR is monthly only).

    Returns:
        The series and, per grain, the current (incomplete) period.
    """
    deals = con.sql(
        sql.load("models.forecasting", "series_deals"), params={"unknown": UNKNOWN}
    ).pl()
    deals = deals.filter(pl.col("created_at") < today)
    frames, partial = [], []
    current = {g: period_start(g, today) for g in grains}
    built: set[str] = set()
    for metric in metrics:
        if metric == "revenue" and "mrr" in built:
            continue  # subscriptions measure this source's revenue: MRR
        events, start, dims = _metric_events(con, metric, deals, today)
        if start is None:
            continue
        built.add(metric)
        dims = tuple(d for d in dims if (events[d] != UNKNOWN).any())
        for grain in grains:
            if grain == "week" and (metric == "mrr" or _monthly(events)):
                continue
            first = _first_complete(grain, start)
            periods = period_range(grain, first, shift(grain, current[grain], 1))
            series = _aggregate(events, metric, grain, dims, periods)
            frames.append(series.filter(pl.col("period") < current[grain]))
            partial.append(series.filter(pl.col("period") == current[grain]))
    frame = pl.concat(frames) if frames else pl.DataFrame(schema=SCHEMA)
    part = pl.concat(partial) if partial else pl.DataFrame(schema=SCHEMA)
    return SeriesSet(frame.sort([*KEY, "period"]), today, current, part)


def _metric_events(
    con: duckdb.DuckDBPyConnection, metric: str, deals: pl.DataFrame, today: datetime
) -> tuple[pl.DataFrame, date | datetime | None, tuple[str, ...]]:
    """(events with ``at``, ``value`` and segment columns; where the metric starts, None when
    the source has nothing for it; its segment types)."""
    if metric == "mrr":
        events, start = _mrr_events(con, today)
        return events, start, ("region", "team")
    if metric == "revenue":
        return _invoice_events(con, today)
    stamp = "closed_at" if metric == "bookings" else "created_at"
    rows = deals.filter(pl.col(stamp).is_not_null() & (pl.col(stamp) < today))
    if metric == "bookings":
        rows = rows.filter(pl.col("is_won"))
    events = rows.select(
        at=pl.col(stamp),
        value=pl.col("amount").cast(pl.Float64).fill_null(0.0),
        region="region",
        team="team",
        product_line="product_line",
    )
    start = deals["created_at"].min() if deals.height else None
    return events, start, ("region", "team", "product_line")


def _invoice_events(
    con: duckdb.DuckDBPyConnection, today: datetime
) -> tuple[pl.DataFrame, datetime | None, tuple[str, ...]]:
    rows = con.sql(
        sql.load("models.forecasting", "series_invoices"), params={"unknown": UNKNOWN}
    ).pl()
    rows = rows.filter(pl.col("issued_at") < today)
    events = rows.select(
        at=pl.col("issued_at"),
        value=pl.col("amount").cast(pl.Float64).fill_null(0.0),
        region="region",
        team="team",
    )
    return events, rows["issued_at"].min() if rows.height else None, ("region", "team")


def _monthly(events: pl.DataFrame) -> bool:
    """Whether every event lies on a month's first midnight: a series recorded monthly."""
    if events.is_empty():
        return False
    at = pl.col("at")
    return bool(events.select(((at.dt.day() == 1) & (at == at.dt.truncate("1d"))).all()).item())


def _mrr_events(
    con: duckdb.DuckDBPyConnection, today: datetime
) -> tuple[pl.DataFrame, date | None]:
    mrr = con.sql(sql.load("models.forecasting", "series_mrr"), params={"unknown": UNKNOWN}).pl()
    mrr = mrr.filter(pl.col("month") <= period_start("month", today))
    if mrr.is_empty():
        return mrr, None
    events = mrr.select(
        at=pl.col("month").cast(pl.Datetime("us")), value="value", region="region", team="team"
    )
    return events, mrr["month"].min()


def _aggregate(
    events: pl.DataFrame, metric: str, grain: str, dims: tuple[str, ...], periods: list[date]
) -> pl.DataFrame:
    """Sum events per period for the total and each segment type, quiet periods as 0."""
    spine = pl.DataFrame({"period": periods}, schema={"period": pl.Date})
    trunc = "1mo" if grain == "month" else "1w"
    events = events.with_columns(period=pl.col("at").dt.truncate(trunc).cast(pl.Date))
    out = []
    for segment_type in ("total", *dims):
        column = pl.lit(TOTAL) if segment_type == "total" else pl.col(segment_type)
        sums = events.group_by(segment=column, period="period").agg(value=pl.col("value").sum())
        segments = sums.select("segment").unique()
        if segment_type == "total":
            segments = pl.DataFrame({"segment": [TOTAL]})
        grid = segments.join(spine, how="cross")
        filled = grid.join(sums, on=["segment", "period"], how="left").with_columns(
            pl.col("value").fill_null(0.0)
        )
        out.append(
            filled.select(
                metric=pl.lit(metric),
                grain=pl.lit(grain),
                segment_type=pl.lit(segment_type),
                segment="segment",
                period="period",
                value="value",
            )
        )
    return pl.concat(out).cast(SCHEMA)


def load_retail(path: str | Path) -> SeriesSet:
    """The US retail sales CSV (``ds, y`` monthly) as a one-series :class:`SeriesSet`.

    The file ends with a complete month, so the current period is the month after it.
    """
    raw = pl.read_csv(path, try_parse_dates=True)
    frame = raw.select(
        metric=pl.lit(RETAIL_METRIC),
        grain=pl.lit("month"),
        segment_type=pl.lit("total"),
        segment=pl.lit(TOTAL),
        period=pl.col("ds").cast(pl.Date),
        value=pl.col("y").cast(pl.Float64),
    ).sort("period")
    nxt = shift("month", frame["period"].max(), 1)
    today = datetime(nxt.year, nxt.month, nxt.day)
    return SeriesSet(frame, today, {"month": nxt})


_SOURCES = {
    "bookings": "won deals",
    "new_pipeline": "deals",
    "mrr": "subscriptions",
    "revenue": "invoices",
}


def what_was_forecast(series: SeriesSet) -> str:
    """One line on what a publication forecasts, from what the source has.

    Args:
        series: the publication's series.

    Returns:
        ``forecast: bookings (won deals), mrr (subscriptions)``, or, when the source has
        none of them, ``nothing to forecast: ...``.
    """
    metrics = series.frame["metric"].unique(maintain_order=True).to_list()
    if not metrics:
        return "nothing to forecast: the source has no won deals, subscriptions or invoices"
    return "forecast: " + ", ".join(f"{m} ({_SOURCES.get(m, 'series')})" for m in metrics)


def iter_series(series: SeriesSet) -> Iterator[tuple[SeriesKey, list[date], np.ndarray]]:
    """(key, periods, values) for every series, in a stable order."""
    for key, part in series.frame.group_by(KEY, maintain_order=True):
        part = part.sort("period")
        yield SeriesKey(*key), part["period"].to_list(), part["value"].to_numpy().astype(float)


def check_against_marts(con: duckdb.DuckDBPyConnection, series: SeriesSet) -> dict[str, bool]:
    """Do total monthly bookings, MRR and revenue match the revenue marts
    (``fct_revenue_monthly``: bookings and invoiced; ``fct_mrr_monthly``)?

    The series are built from deal and account rows (so they can be segmented); the revenue
    marts are the totals finance reads. Each metric present is checked on its complete months.
    """
    marts = {
        "bookings": "mart_bookings_monthly",
        "mrr": "mart_mrr_monthly",
        "revenue": "mart_invoiced_monthly",
    }
    out = {}
    for metric, query in marts.items():
        ours = series.frame.filter(
            (pl.col("metric") == metric)
            & (pl.col("grain") == "month")
            & (pl.col("segment") == TOTAL)
        )
        if ours.is_empty():
            continue
        mart = con.sql(sql.load("models.forecasting", query)).pl()
        joined = ours.join(mart, on="period", how="left")
        gap = (joined["value"] - joined["mart"].fill_null(0.0)).abs()
        out[metric] = bool((gap <= 0.01 + 1e-9 * joined["value"].abs()).all())
    return out
