"""Context series: dated values beside the CRM's records, joined as of each snapshot.

A spec may attach series of dated values that no CRM record holds but that shape its
outcomes: economic indicators, a campaign calendar, seasonality. Each is a select over
the spec's file aliases returning a ``date`` column (DATE or TIMESTAMP, one row per
date) and one or more value columns (numbers, booleans or text)::

    context:
      economy:
        select: select call_date as date, avg(euribor3m) as euribor3m from bank group by 1
        available_after_days: 30    # a value dated d is known from d + 30 days on

Ingest stores each series in ``context.<series>`` on every run
(:mod:`crmlens.ingest.context`); every model family's features get, per value column,
``ctx_<series>_<column>``: the latest value known at the snapshot's ``as_of``
(:mod:`features.context`). Columns of the select whose names start with ``_`` (lineage)
are not values.

Problems (no ``date`` column, a ``date`` of another type, a date twice) raise
:class:`~crmlens.sources.spec.SpecError` in one line naming the spec, the series and
the column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from crmlens.sources import spec_checks as checks

DATE_COLUMN = "date"
NUMERIC = "numeric"
CATEGORICAL = "categorical"


class ContextSeries(BaseModel):
    """One dated series a spec attaches (module docstring)."""

    model_config = ConfigDict(extra="forbid")

    select: str = Field(
        description="SQL over the spec's file aliases: `date` and one or more value columns."
    )
    available_after_days: int = Field(
        default=0,
        ge=0,
        description="Publication lag: a value dated d is known from d + this many days on.",
    )
    check_time_proxy: bool = Field(
        default=False,
        description="Let a time split drop its columns when they follow the calendar, like "
        "any other feature (default: kept; they are dated indicators, known at the time).",
    )


def check_series(
    context: dict[str, ContextSeries], aliases: list[str] | None, kind: str
) -> str | None:
    """What is wrong with a spec's ``context:`` section before anything is read, or None.

    Args:
        context: the series, by name.
        aliases: the spec's file aliases (None for a postgres spec).
        kind: the spec's kind.

    Returns:
        The problem in words, naming the series.
    """
    for name, series in context.items():
        where = f"context series {name!r}"
        if kind != "files":
            return f"{where}: context series are read from files; this spec is {kind}"
        problem = checks.check_identifier(name, "the series name")
        problem = problem or checks.check_select(series.select, aliases)
        if problem:
            return f"{where}: {problem}"
    return None


@dataclass
class SeriesRows:
    """A series as read: one row per date, and what its value columns are."""

    name: str
    frame: pl.DataFrame  # date, value columns, lineage
    kinds: dict[str, str] = field(default_factory=dict)  # value column -> numeric|categorical
    warnings: list[str] = field(default_factory=list)


def check_rows(
    where: str, relation: duckdb.DuckDBPyRelation, frame: pl.DataFrame, name: str
) -> SeriesRows:
    """Check a series' rows: its ``date``, one row per date, plain value columns.

    Args:
        where: the spec and series, the prefix of every message.
        relation: the select (for its DuckDB types).
        frame: its rows.
        name: the series.

    Returns:
        The rows by date, with the kind of each value column.

    Raises:
        ValueError: the problem in one line, with ``where`` and the column.
    """
    types = dict(zip(relation.columns, (str(t) for t in relation.types), strict=True))
    if DATE_COLUMN not in types:
        raise ValueError(
            f"{where}: the select returns no `date` column (it returns "
            f"{', '.join(types)}); name the column of dates `date`"
        )
    dtype = types[DATE_COLUMN].upper()
    if not dtype.startswith(("DATE", "TIMESTAMP")):
        raise ValueError(
            f"{where}, column 'date': {types[DATE_COLUMN]}, not a DATE or TIMESTAMP; "
            f"cast it in the select (e.g. `strptime(d, '%Y-%m-%d')::date as date`)"
        )
    if frame[DATE_COLUMN].null_count():
        raise ValueError(
            f"{where}, column 'date': {frame[DATE_COLUMN].null_count()} row(s) lack a date"
        )
    repeated = frame[DATE_COLUMN].filter(frame[DATE_COLUMN].is_duplicated()).unique().sort()
    if repeated.len():
        more = f" (and {repeated.len() - 1} more)" if repeated.len() > 1 else ""
        raise ValueError(
            f"{where}, column 'date': {repeated[0]} appears more than once{more}; one row "
            f"per date (aggregate with `group by`)"
        )
    kinds = {}
    for column, ctype in types.items():
        if column == DATE_COLUMN or column.startswith("_"):
            continue
        if not checks.IDENTIFIER.match(column) or column != column.lower():
            raise ValueError(
                f"{where}, column {column!r}: value columns must be snake_case identifiers"
            )
        kinds[column] = _kind(where, column, ctype, frame[column].dtype)
    if not kinds:
        raise ValueError(f"{where}: the select returns `date` and no value column")
    warnings = [f"{where}: the select returned no rows"] if frame.is_empty() else []
    frame = frame.sort(DATE_COLUMN).with_columns(pl.col(DATE_COLUMN).cast(pl.Datetime("us")))
    return SeriesRows(name=name, frame=frame, kinds=kinds, warnings=warnings)


def _kind(where: str, column: str, ctype: str, dtype: pl.DataType) -> str:
    if dtype == pl.String:
        return CATEGORICAL
    if dtype.is_numeric() or dtype == pl.Boolean:
        return NUMERIC
    raise ValueError(
        f"{where}, column {column!r}: {ctype} is no value a model takes; return a number, "
        f"a boolean or text (a date becomes a number of days, e.g. `date_diff(...)`)"
    )
