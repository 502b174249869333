"""Forecast the series a source spec defines (``series:``, :mod:`crmlens.sources.series`).

Each series set is read from the spec's files, summed into periods of its grain and
checked (a gap, a missing value or too few periods refuses that set in one line); every
segment is one series, backtested and forecast with :func:`models.forecasting.batch.run_many`.
The forecasts go to ``ml.series_forecast`` (one row per series, segment and future
period), published as the score table ``series_forecast``. A run replaces the rows of
the sets it forecast and leaves the others.

``crmlens forecast --spec FILE`` and the assets ``forecast/series_<name>`` both call
:func:`forecast_spec`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

import duckdb
import numpy as np
import polars as pl

from crmlens.clock import utc_now
from crmlens.sources.files import read_select
from crmlens.sources.series import periods_of
from crmlens.sources.spec import SourceSpec, SpecError
from crmlens.warehouse import ensure_schemas, quote_ident, transaction
from models.forecasting import batch, select
from models.forecasting.series import SeriesKey

TABLE = "ml.series_forecast"
SCHEMA = {
    "series": pl.String,
    "segment": pl.String,
    "period": pl.Date,
    "grain": pl.String,
    "horizon": pl.Int64,
    "point": pl.Float64,
    "lo80": pl.Float64,
    "hi80": pl.Float64,
    "lo95": pl.Float64,
    "hi95": pl.Float64,
    "method": pl.String,
    "fallback_reason": pl.String,
    "backtest_mase": pl.Float64,
    "seasonal_naive_mase": pl.Float64,
    "forecast_origin": pl.Date,
    "scored_at": pl.Datetime("us", "UTC"),
    "run_id": pl.String,
}
# Offset of one period per grain (polars durations; a quarter is three months).
STEP = {"day": (1, "d"), "week": (1, "w"), "month": (1, "mo"), "quarter": (3, "mo")}


@dataclass
class SpecForecast:
    """What a forecast of a spec's series made: results, rows, and the sets refused."""

    results: list[batch.SeriesResult] = field(default_factory=list)
    frame: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SCHEMA))
    problems: dict[str, str] = field(default_factory=dict)  # series -> one line
    notes: list[str] = field(default_factory=list)  # what a user should know


def read_spec_series(
    con: duckdb.DuckDBPyConnection, spec: SourceSpec, name: str, notes: list[str] | None = None
) -> list[tuple[SeriesKey, list[date], np.ndarray]]:
    """One series set of a spec, per segment: (key, periods, values); ``notes`` gains
    what a user should know (an incomplete newest period left out).

    Raises:
        SpecError: in one line, naming the spec, the series and the column at fault.
    """
    if name not in spec.series:
        known = ", ".join(spec.series) or "none"
        raise SpecError(f"{spec.where()}: no series {name!r} (the spec's series: {known})")
    item = spec.series[name]
    where = f"{spec.where()}, series {name!r}"
    read = read_select(con, spec, item.select, where)
    try:
        frame = read.collect()
        if frame is None:
            reasons = "; ".join(f"{b.source_file}: {b.reason}" for b in read.bad_files)
            raise SpecError(f"{where}: no readable file ({reasons})")
        periods, note = periods_of(where, read.relation, frame, item)
    except ValueError as exc:
        raise SpecError(str(exc).splitlines()[0]) from None
    finally:
        for view in read.views:
            con.execute(f"drop view if exists {quote_ident(view)}")
    if note and notes is not None:
        notes.append(note)
    out = []
    for (segment,), part in periods.group_by(["segment"], maintain_order=True):
        key = SeriesKey(name, item.grain, "/".join(item.segments) or "total", segment)
        values = part["value"].to_numpy().astype(float)
        if problem := select.series_problem(values, item.grain):
            raise SpecError(f"{where}: {problem}")
        out.append((key, part["period"].to_list(), values))
    return out


def forecast_spec(
    spec: SourceSpec, names: list[str] | None = None, *, n_jobs: int = 2, run_id: str | None = None
) -> SpecForecast:
    """Read, check and forecast a spec's series sets (every one when ``names`` is None).

    A set that cannot be read or forecast is left out with its one-line reason
    (``problems``); the others are forecast.
    """
    out, items = SpecForecast(), []
    with duckdb.connect() as con:
        for name in names or list(spec.series):
            try:
                items += read_spec_series(con, spec, name, out.notes)
            except SpecError as exc:
                out.problems[name] = str(exc)
    if not items:
        return out
    out.results = batch.run_many(items, n_jobs=n_jobs)
    out.frame = forecast_rows(out.results, run_id or uuid.uuid4().hex)
    return out


def forecast_rows(results: list[batch.SeriesResult], run_id: str) -> pl.DataFrame:
    """The rows of ``ml.series_forecast`` for the results (see :data:`SCHEMA`)."""
    frames, now = [], utc_now()
    for r in results:
        f, h = r.forecast, len(r.forecast.point)
        amount, unit = STEP[r.key.grain]
        last = r.periods[-1]
        periods = pl.Series([last] * h).dt.offset_by(
            pl.Series([f"{amount * i}{unit}" for i in range(1, h + 1)])
        )
        baseline = r.selection.mean_score("seasonal_naive")
        frames.append(
            pl.DataFrame(
                {
                    "series": r.key.metric,
                    "segment": r.key.segment,
                    "period": periods,
                    "grain": r.key.grain,
                    "horizon": list(range(1, h + 1)),
                    "point": f.point,
                    "lo80": f.lo80,
                    "hi80": f.hi80,
                    "lo95": f.lo95,
                    "hi95": f.hi95,
                    "method": r.method,
                    "fallback_reason": r.selection.fallback_reason,
                    "backtest_mase": r.selection.mean_score(r.method),
                    "seasonal_naive_mase": baseline,
                    "forecast_origin": last,
                    "scored_at": now,
                    "run_id": run_id,
                },
                schema=SCHEMA,
            )
        )
    return pl.concat(frames) if frames else pl.DataFrame(schema=SCHEMA)


def write(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, names: list[str]) -> int:
    """Replace the rows of the series ``names`` in ``ml.series_forecast`` with ``frame``."""
    ensure_schemas(con)
    con.register("_series_forecast", frame)
    try:
        with transaction(con):
            con.execute(f"create table if not exists {TABLE} as from _series_forecast limit 0")
            con.execute(
                f"delete from {TABLE} where series in (select unnest($names))", {"names": names}
            )
            con.execute(f"insert into {TABLE} by name from _series_forecast")
    finally:
        con.unregister("_series_forecast")
    return frame.height
