"""Context series joined to every family's features, as of each snapshot.

A source spec may attach dated series (economic indicators, a campaign calendar,
seasonality; :mod:`crmlens.sources.context`), which ingest stores in
``context.<series>``. :func:`attach` gives every feature frame, per value column,
``ctx_<series>_<column>``: the value of the newest row whose ``available_at`` (its date
plus the spec's publication lag) is at or before the snapshot's ``as_of`` — a DuckDB
ASOF LEFT JOIN, so a value dated after a snapshot (or published after it) never reaches
it, and a snapshot older than the series gets nulls. Numbers and booleans are numeric
features, text categorical. Every builder ends with it, so training sets and scoring
populations get the same columns; a source without context series gets none.

Time proxies: a time split drops numeric features that follow the calendar
(:mod:`models.common.time_proxies`). Context columns are exempt by default
(:attr:`FeatureSet.time_exempt`): an indicator like an interest rate may trend with time
over a few years, yet it is a real, dated measurement known at the snapshot, the very
signal a spec attaches it for, not a stand-in for the date. A series whose spec says
``check_time_proxy: true`` faces the rule like any other feature.
"""

from __future__ import annotations

import dataclasses
import json

import duckdb
import polars as pl

from crmlens import sql
from crmlens.warehouse import quote_ident, table_exists
from features.common import FeatureSet, select_list

PREFIX = "ctx_"


def series_catalog(con: duckdb.DuckDBPyConnection) -> list[tuple[str, dict[str, str], bool]]:
    """The stored context series: name, value column -> numeric|categorical, and whether
    the time-proxy rule applies to them (none when ingest stored none)."""
    if not table_exists(con, "ops", "context_series"):
        return []
    rows = con.execute(sql.load("features", "context_catalog")).fetchall()
    return [(name, json.loads(columns), bool(check)) for name, columns, check in rows]


def attach(con: duckdb.DuckDBPyConnection, features: FeatureSet) -> FeatureSet:
    """``features`` with every context column joined as of each row's ``as_of``.

    Args:
        con: Warehouse connection.
        features: A builder's features; its frame has ``as_of``.

    Returns:
        The features with ``ctx_<series>_<column>`` columns appended (module docstring),
        or unchanged when the source has no context series.
    """
    catalog = series_catalog(con)
    if not catalog:
        return features
    frame = features.frame
    keys = frame.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("_row"), "as_of")
    keys = keys.with_columns(pl.col("as_of").cast(pl.Datetime("us")))
    numeric, categorical = list(features.numeric), list(features.categorical)
    exempt = list(features.time_exempt)
    for name, kinds, check in catalog:
        named = {column: f"{PREFIX}{name}_{column}" for column in kinds}
        values = select_list([f"c.{quote_ident(c)} as {quote_ident(n)}" for c, n in named.items()])
        joined = _join(con, keys, name, values).drop("_row", "_available_at")
        frame = frame.with_columns(joined.get_columns())
        for column, kind in kinds.items():
            if kind == "categorical":
                categorical.append(named[column])
                continue
            numeric.append(named[column])
            if not check:
                exempt.append(named[column])
    return dataclasses.replace(
        features, frame=frame, numeric=numeric, categorical=categorical, time_exempt=exempt
    )


def _join(
    con: duckdb.DuckDBPyConnection, keys: pl.DataFrame, series: str, values: str
) -> pl.DataFrame:
    """One series as of each key, in the keys' order."""
    stored = con.table(f"context.{quote_ident(series)}").pl()
    query = sql.fill_fragments(sql.load("features", "context_asof"), values=values)
    con.register("_context_keys", keys)
    con.register("_context_series", stored)
    try:
        return con.sql(query).pl()
    finally:
        con.unregister("_context_keys")
        con.unregister("_context_series")
