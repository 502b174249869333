"""Checks on what ingest loaded (Dagster asset checks on ``raw/<table>``).

- ``events_daily_volume`` on ``raw/events``: a day of the last week with fewer events than
  ``volume_warn_ratio`` of the median day of the four weeks before it (a broken feed, a
  lost file) is a warning.
- ``<table>_freshness`` on every raw table: hours since its newest change, a warning past
  ``freshness_warn_hours``.
- ``<table>_schema_changes`` on every raw table: the latest load's columns against the
  contract and the load before (a canonical column missing or renamed, a column that
  vanished or appeared) is a warning; the load's other warnings (a header-only file)
  are shown with it.
"""

# No `from __future__ import annotations`: Dagster inspects the context annotation at runtime.
import json

import numpy as np
import polars as pl
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    asset_check,
    multi_asset_check,
)

from crmlens import sql
from crmlens.clock import utc_now
from crmlens.contracts import TABLES
from crmlens.warehouse import session, table_columns, table_exists
from pipelines.ingest.assets import raw_key
from pipelines.resources import CrmlensResource


@asset_check(
    asset=raw_key("events"),
    name="events_daily_volume",
    description="A day of the last week with fewer events than volume_warn_ratio (default "
    "half) of the median day of the four weeks before it (a broken feed, a lost file).",
)
def events_daily_volume(
    context: AssetCheckExecutionContext, crmlens: CrmlensResource
) -> AssetCheckResult:
    settings = crmlens.settings()
    with session(settings.warehouse_path) as con:
        if not table_exists(con, "raw", "events"):
            return AssetCheckResult(passed=True, metadata={"status": "no events yet"})
        days = con.sql(
            """
            with bounds as (select max(occurred_at)::date as last from raw.events)
            select occurred_at::date as day, count(*) as events
            from raw.events, bounds
            where occurred_at >= last - interval 34 day
            group by 1 order by 1
            """
        ).pl()
    flagged, detail = volume_anomalies(days, settings.volume_warn_ratio)
    return AssetCheckResult(
        passed=not flagged,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "low_days": ", ".join(flagged) or "none",
            "last_days": detail,
            "ratio_threshold": settings.volume_warn_ratio,
        },
    )


def volume_anomalies(days: pl.DataFrame, ratio: float) -> tuple[list[str], dict[str, dict]]:
    """Days of the last 7 below ``ratio`` × the median of the 28 days before each.

    Args:
        days: events per day (``day``, ``events``); days without events may be absent.
        ratio: the share of the median below which a day is flagged.

    Returns:
        The flagged days (ISO dates) and, per day of the last week, its count and median.
    """
    if days.is_empty():
        return [], {}
    last = days["day"].max()
    full = pl.DataFrame({"day": pl.date_range(last - pl.duration(days=34), last, eager=True)})
    series = full.join(days, on="day", how="left").fill_null(0).sort("day")
    counts = series["events"].to_list()
    dates = series["day"].to_list()
    flagged, detail = [], {}
    for i in range(len(counts) - 7, len(counts)):
        window = counts[max(0, i - 28) : i]
        if len(window) < 14:
            continue
        median = float(np.median(window))
        detail[str(dates[i])] = {"events": counts[i], "median_28d": median}
        if median >= 20 and counts[i] < ratio * median:
            flagged.append(str(dates[i]))
    return flagged, detail


FRESHNESS_COLUMNS = ("updated_at", "occurred_at", "changed_at", "created_at")


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            f"{table}_freshness",
            asset=raw_key(table),
            description=f"Hours since the newest change in raw.{table}; a warning past "
            "freshness_warn_hours.",
        )
        for table in TABLES
    ],
)
def source_freshness(context: AssetCheckExecutionContext, crmlens: CrmlensResource):
    settings = crmlens.settings()
    now = utc_now()
    with session(settings.warehouse_path) as con:
        for table in TABLES:
            newest, column = None, None
            if table_exists(con, "raw", table):
                columns = table_columns(con, "raw", table)
                column = next((c for c in FRESHNESS_COLUMNS if c in columns), None)
                if column:
                    newest = con.execute(f"select max({column}) from raw.{table}").fetchall()[0][0]
            if newest is None:
                yield AssetCheckResult(
                    asset_key=raw_key(table),
                    check_name=f"{table}_freshness",
                    passed=True,
                    metadata={"status": "empty or no timestamp"},
                )
                continue
            hours = (now - newest).total_seconds() / 3600
            yield AssetCheckResult(
                asset_key=raw_key(table),
                check_name=f"{table}_freshness",
                passed=hours <= settings.freshness_warn_hours,
                severity=AssetCheckSeverity.WARN,
                metadata={
                    "newest": str(newest),
                    "column": column,
                    "hours_old": round(hours, 1),
                    "warn_after_hours": settings.freshness_warn_hours,
                },
            )


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            f"{table}_schema_changes",
            asset=raw_key(table),
            description=f"The columns the latest load of raw.{table} read, against the contract "
            "and the load before: a canonical column missing (unless the spec lists it under "
            "`lacks`), a column that vanished or appeared, a custom attribute widened.",
        )
        for table in TABLES
    ],
)
def schema_changes(context: AssetCheckExecutionContext, crmlens: CrmlensResource):
    settings = crmlens.settings()
    with session(settings.warehouse_path) as con:
        latest = {}
        if table_exists(con, "ops", "ingest_log"):
            rows = con.execute(sql.load("pipelines.ingest", "latest_ingest_loads")).fetchall()
            latest = {r[0]: r[1:] for r in rows}
    for table in TABLES:
        if table not in latest:
            yield AssetCheckResult(
                asset_key=raw_key(table),
                check_name=f"{table}_schema_changes",
                passed=True,
                metadata={"status": "not loaded"},
            )
            continue
        changes, warnings, columns, started = latest[table]
        changes = json.loads(changes) if changes else []
        yield AssetCheckResult(
            asset_key=raw_key(table),
            check_name=f"{table}_schema_changes",
            passed=not changes,
            severity=AssetCheckSeverity.WARN,
            metadata={
                "changes": "; ".join(changes) or "none",
                "load_warnings": "; ".join(json.loads(warnings) if warnings else []) or "none",
                "columns": ", ".join(json.loads(columns)) if columns else "unknown",
                "loaded_at": str(started),
            },
        )


def build_ingest_checks() -> list:
    """The checks on the raw tables."""
    return [events_daily_volume, source_freshness, schema_changes]
