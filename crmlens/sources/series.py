"""Forecast series a spec defines: any dated values, summed into periods and forecast.

A spec's ``series:`` section names, per series set, a select over the spec's file
aliases returning a ``date`` column (DATE or TIMESTAMP), a numeric ``value`` column and,
optionally, segment columns::

    series:
      daily_sales:
        select: select sold_on as date, amount as value, store from sales
        grain: day          # day | week | month | quarter: rows are summed per period
        missing: gap        # gap (default): a period without rows refuses the series;
                            # zero: a period without rows is 0
        segments: [store]   # optional: one series per store

``crmlens forecast --spec FILE`` reads them (:mod:`models.forecasting.spec_series`),
forecasts every series (and segment) and writes ``ml.series_forecast``.

Problems with the section (an unknown alias, a bad name) raise
:class:`~crmlens.sources.spec.SpecError` when the spec is loaded; problems with the rows
(no ``date`` column, a value that is no number, a missing value, a gap, too few periods)
are one line per series, naming the spec, the series and the column.
"""

from __future__ import annotations

from typing import Literal

import duckdb
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from crmlens.sources import spec_checks as checks

DATE_COLUMN = "date"
VALUE_COLUMN = "value"
TOTAL = "all"
# Polars' truncation per grain (weeks start on Monday, as ISO weeks and DuckDB's do).
EVERY = {"day": "1d", "week": "1w", "month": "1mo", "quarter": "1q"}
SEASON = {"day": 7, "week": 13, "month": 3, "quarter": 4}


class SpecSeries(BaseModel):
    """One series set a spec defines (module docstring)."""

    model_config = ConfigDict(extra="forbid")

    select: str = Field(
        description="SQL over the spec's file aliases: `date`, `value`, optional segments."
    )
    grain: Literal["day", "week", "month", "quarter"] = Field(
        description="The period the rows are summed into."
    )
    missing: Literal["gap", "zero"] = Field(
        default="gap",
        description="A period without rows: `gap` refuses the series, `zero` counts it 0.",
    )
    segments: list[str] = Field(
        default_factory=list, description="Columns of the select: one series per value."
    )


def check_spec_series(
    series: dict[str, SpecSeries], aliases: list[str] | None, kind: str
) -> str | None:
    """What is wrong with a spec's ``series:`` section before anything is read, or None."""
    for name, item in series.items():
        where = f"series {name!r}"
        if kind != "files":
            return f"{where}: series are read from files; this spec is {kind}"
        problem = checks.check_identifier(name, "the series name")
        problem = problem or checks.check_select(item.select, aliases)
        for column in item.segments:
            problem = problem or checks.check_identifier(column, "a segment column")
            if column in (DATE_COLUMN, VALUE_COLUMN):
                problem = problem or f"segment column {column!r}: `{column}` is not a segment"
        if problem:
            return f"{where}: {problem}"
    return None


def periods_of(
    where: str, relation: duckdb.DuckDBPyRelation, frame: pl.DataFrame, item: SpecSeries
) -> tuple[pl.DataFrame, str | None]:
    """The select's rows summed per segment and period, gaps filled or refused.

    Args:
        where: the spec and series, the prefix of every message.
        relation: the select (for its DuckDB types).
        frame: its rows.
        item: the series' settings.

    Returns:
        ``segment`` (``all`` without segments), ``period`` (Date), ``value`` (Float64),
        one row per period from the segment's first to the newest period of the set;
        and a note when the newest period was left out as incomplete (rows dated finer
        than the grain that stop before its last day).

    Raises:
        ValueError: the problem in one line, with ``where`` and the column.
    """
    types = dict(zip(relation.columns, (str(t).upper() for t in relation.types), strict=True))
    for column in (DATE_COLUMN, VALUE_COLUMN, *item.segments):
        if column not in types:
            raise ValueError(
                f"{where}: the select returns no `{column}` column (it returns {', '.join(types)})"
            )
    frame = _typed(where, frame, types)
    _refuse_nulls(where, frame)
    segment = (
        pl.concat_str(
            [pl.col(c).cast(pl.String).fill_null("unknown") for c in item.segments], separator="/"
        )
        if item.segments
        else pl.lit(TOTAL)
    )
    sums = (
        frame.select(
            segment=segment,
            period=pl.col(DATE_COLUMN).dt.truncate(EVERY[item.grain]),
            value=pl.col(VALUE_COLUMN),
        )
        .group_by("segment", "period")
        .agg(pl.col("value").sum())
    )
    if sums.is_empty():
        raise ValueError(f"{where}: the select returned no rows")
    sums, note = _drop_incomplete(where, frame[DATE_COLUMN], sums, item.grain)
    return _complete(where, sums, item), note


def _drop_incomplete(
    where: str, dates: pl.Series, sums: pl.DataFrame, grain: str
) -> tuple[pl.DataFrame, str | None]:
    """Leave out the newest period when the rows are finer than the grain and stop early."""
    last = sums["period"].max()
    end = pl.Series([last]).dt.offset_by(EVERY[grain])[0]
    newest = dates.max()
    if dates.n_unique() <= sums["period"].n_unique() or (end - newest).days <= 1:
        return sums, None
    note = (
        f"{where}: the newest {grain} ({last}) holds rows only up to {newest}; left out as "
        "incomplete"
    )
    return sums.filter(pl.col("period") < last), note


def _typed(where: str, frame: pl.DataFrame, types: dict[str, str]) -> pl.DataFrame:
    """``date`` as a Date and ``value`` as a number; text holding them is parsed."""
    dates, values = frame[DATE_COLUMN], frame[VALUE_COLUMN]
    if dates.dtype == pl.String:
        dates = _parsed(where, DATE_COLUMN, dates, dates.str.to_date(strict=False), "a date")
    elif not types[DATE_COLUMN].startswith(("DATE", "TIMESTAMP")):
        raise ValueError(
            f"{where}, column 'date': {types[DATE_COLUMN]}, not a DATE or TIMESTAMP; cast it "
            "in the select (e.g. `strptime(d, '%d/%m/%Y')::date as date`)"
        )
    if values.dtype == pl.String:
        parsed = values.str.strip_chars().cast(pl.Float64, strict=False)
        values = _parsed(where, VALUE_COLUMN, values, parsed, "a number")
    elif not values.dtype.is_numeric():
        raise ValueError(
            f"{where}, column 'value': {types[VALUE_COLUMN]}, not a number; cast it in the select"
        )
    return frame.with_columns(dates.cast(pl.Date), values.cast(pl.Float64))


def _parsed(where: str, column: str, text: pl.Series, parsed: pl.Series, what: str) -> pl.Series:
    bad = parsed.is_null() & text.is_not_null() & (text.str.strip_chars() != "")
    if bad.any():
        raise ValueError(
            f"{where}, column {column!r}: {int(bad.sum())} row(s) hold no {what[2:]}, the "
            f"first {text.filter(bad)[0]!r}; return {what} (cast it in the select)"
        )
    return parsed.alias(column)


def _refuse_nulls(where: str, frame: pl.DataFrame) -> None:
    for column in (DATE_COLUMN, VALUE_COLUMN):
        values = frame[column]
        bad = values.is_null() | (values.is_nan() if values.dtype.is_float() else False)
        if bad.any():
            at = frame.filter(bad)[DATE_COLUMN].drop_nulls().sort()
            first = f", the first on {at[0]}" if column == VALUE_COLUMN and at.len() else ""
            raise ValueError(
                f"{where}, column {column!r}: {int(bad.sum())} row(s) lack a {column} (null "
                f"or NaN){first}; drop them or fill them in the select"
            )


def _complete(where: str, sums: pl.DataFrame, item: SpecSeries) -> pl.DataFrame:
    """Every period from each segment's first to the set's last: filled with 0 or refused."""
    last = sums["period"].max()
    firsts = sums.group_by("segment").agg(first=pl.col("period").min()).sort("segment")
    grid = pl.concat(
        [
            pl.DataFrame(
                {
                    "segment": seg,
                    "period": pl.date_range(first, last, EVERY[item.grain], eager=True),
                }
            )
            for seg, first in firsts.iter_rows()
        ]
    )
    full = grid.join(sums, on=["segment", "period"], how="left").sort("segment", "period")
    missing = full.filter(pl.col("value").is_null())
    if missing.height and item.missing == "gap":
        first = missing.row(0, named=True)
        seg = "" if first["segment"] == TOTAL else f" (segment {first['segment']})"
        raise ValueError(
            f"{where}, column 'date': {missing.height} {item.grain}(s) have no rows, the first "
            f"{first['period']}{seg}; add them, or say `missing: zero` if a {item.grain} "
            "without rows is 0"
        )
    full = full.with_columns(pl.col("value").fill_null(0.0))
    _refuse_short(where, full, item)
    return full


def _refuse_short(where: str, full: pl.DataFrame, item: SpecSeries) -> None:
    need = 2 * SEASON[item.grain]
    counts = full.group_by("segment").len().sort("len", "segment")
    segment, n = counts.row(0)
    if n < need:
        seg = "" if segment == TOTAL else f" (segment {segment})"
        raise ValueError(
            f"{where}: too short{seg}: {n} {item.grain}(s), fewer than the {need} (two seasonal "
            f"cycles of {SEASON[item.grain]}) a forecast needs"
        )
