"""Alerts: what someone should act on today, in ``ops.alerts``, optionally sent to a webhook.

Business alerts are derived after each scoring run from the scores and the marts:

- ``hot_lead_not_contacted``: a lead graded hot (band ``hot``) that nobody has
  answered yet (no first response), created in the last ``hot_lead_days`` days;
- ``deal_at_risk``: an open deal with two or more risk flags, amount at or above the
  median of open deals;
- ``health_fell``: a customer whose churn score rose by ``health_fell_points`` points
  or more since the previous published scores;
- ``activity_gap``: an active rep who owns open deals and logged no activity in the
  last ``activity_gap_days`` days.

The thresholds are settings (:class:`crmlens.settings.Settings`); each rule's query
is a file of ``crmlens/sql/``.

Pipeline failures are added by the jobs' failure hook (``pipeline_failure``).

An alert is identified by its kind, its entity and the day it was raised
(``alert_id``): a rerun on the same day refreshes ``last_seen_at`` and does not raise
it twice; the next day raises it again if it still holds. Delivery is at least once:
alerts not yet delivered are POSTed as one JSON document and marked delivered only when
the receiver answered 2xx.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl

from crmlens import sql
from crmlens.settings import Settings
from crmlens.warehouse import ensure_schemas, table_exists, transaction

COLUMNS = (
    "kind", "severity", "entity_type", "entity_id", "owner_user_id", "title", "detail",
)  # fmt: skip


@dataclass(frozen=True)
class Rule:
    """A business alert: its kind, severity, the tables it reads, and its query."""

    kind: str
    severity: str
    needs: tuple[str, ...]  # tables the query reads
    query: str  # crmlens/sql/<query>.sql: returns the COLUMNS (minus kind, severity)


RULES: tuple[Rule, ...] = (
    Rule(
        "hot_lead_not_contacted",
        "high",
        ("ml.lead_scores", "marts.fct_leads"),
        "alert_hot_lead_not_contacted",
    ),
    Rule(
        "deal_at_risk",
        "medium",
        ("ml.opportunity_scores", "marts.fct_opportunities"),
        "alert_deal_at_risk",
    ),
    Rule(
        "health_fell",
        "high",
        ("ml.churn_scores", "publish.churn_scores_history", "marts.dim_accounts"),
        "alert_health_fell",
    ),
    Rule(
        "activity_gap",
        "medium",
        ("marts.dim_users", "marts.fct_opportunities", "staging.stg_crm__activities"),
        "alert_activity_gap",
    ),
)


def alert_id(kind: str, entity_id: str | None, day: str) -> str:
    """The id of an alert: the same kind, entity and day give the same id.

    Args:
        kind: the rule or pipeline alert kind.
        entity_id: the entity it is about.
        day: the day it was raised (YYYY-MM-DD).

    Returns:
        16 hex digits.
    """
    return hashlib.sha1(f"{kind}|{entity_id}|{day}".encode()).hexdigest()[:16]


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``ops.alerts`` if absent."""
    ensure_schemas(con)
    con.execute(sql.load("crmlens", "alerts_table"))


def _available(con: duckdb.DuckDBPyConnection, rule: Rule) -> bool:
    return all(table_exists(con, *name.split(".")) for name in rule.needs)


def evaluate(
    con: duckdb.DuckDBPyConnection, today: datetime, settings: Settings
) -> tuple[pl.DataFrame, list[str]]:
    """Every business alert that holds at ``today``.

    Args:
        con: a connection to the warehouse.
        today: the data's today (:func:`crmlens.clock.data_today`).
        settings: the thresholds (``hot_lead_days``, ``health_fell_points``,
            ``activity_gap_days``).

    Returns:
        The alerts (the :data:`COLUMNS`) and the kinds of the rules skipped because a
        table they read is missing.
    """
    values = {
        "today": today,
        "hot_lead_days": settings.hot_lead_days,
        "health_fell_points": settings.health_fell_points,
        "activity_gap_days": settings.activity_gap_days,
    }
    frames, skipped = [], []
    for rule in RULES:
        if not _available(con, rule):
            skipped.append(rule.kind)
            continue
        query = sql.load("crmlens", rule.query)
        params = {k: v for k, v in values.items() if f"${k}" in query}
        frame = con.sql(query, params=params or None).pl()
        frame.columns = list(COLUMNS[2:])
        frames.append(
            frame.with_columns(
                pl.lit(rule.kind).alias("kind"), pl.lit(rule.severity).alias("severity")
            ).select(COLUMNS)
        )
    schema = dict.fromkeys(COLUMNS, pl.String)
    alerts = pl.concat(frames) if frames else pl.DataFrame(schema=schema)
    return alerts.cast(schema), skipped


def record(
    con: duckdb.DuckDBPyConnection,
    alerts: pl.DataFrame,
    *,
    day: str,
    run_id: str | None,
    now: datetime,
) -> int:
    """Upsert alerts raised on ``day``, in one transaction.

    Args:
        con: a read-write connection to the warehouse.
        alerts: the alerts (the :data:`COLUMNS`).
        day: the day they were raised (YYYY-MM-DD), part of their id.
        run_id: the run that raised them.
        now: when they were seen.

    Returns:
        How many were not raised before that day.
    """
    ensure_table(con)
    if alerts.is_empty():
        return 0
    ids = [alert_id(k, e, day) for k, e in zip(alerts["kind"], alerts["entity_id"], strict=True)]
    rows = alerts.with_columns(alert_id=pl.Series(ids)).unique("alert_id", keep="first")
    con.register("_alerts", rows)
    try:
        with transaction(con):
            new = con.execute(sql.load("crmlens", "alerts_count_new")).fetchone()[0]
            con.execute(
                sql.load("crmlens", "alerts_upsert"), {"day": day, "now": now, "run_id": run_id}
            )
    finally:
        con.unregister("_alerts")
    return int(new)


def raise_alert(
    con: duckdb.DuckDBPyConnection,
    *,
    kind: str,
    entity_type: str,
    entity_id: str,
    title: str,
    detail: str,
    run_id: str | None,
    url: str | None,
    now: datetime,
    severity: str = "high",
) -> None:
    """Record one alert of the pipeline itself (a failed step, held-back scores).

    The alert is dated by the wall clock (``now``), and what is pending is delivered
    to ``url`` at once.

    Args:
        con: a read-write connection to the warehouse.
        kind: the alert kind (``pipeline_failure``, ``scores_blocked``...).
        entity_type: what the alert is about (``step``, ``score_table``...).
        entity_id: which one.
        title: one line for a person.
        detail: what happened.
        run_id: the run that raised it.
        url: the webhook, if any.
        now: the wall clock.
        severity: ``high`` unless said otherwise.
    """
    frame = pl.DataFrame(
        [[kind, severity, entity_type, entity_id, None, title, detail]],
        schema=dict.fromkeys(COLUMNS, pl.String),
        orient="row",
    )
    record(con, frame, day=str(now.date()), run_id=run_id, now=now)
    deliver(con, url, now=now)


@dataclass
class Delivery:
    """What one delivery did: alerts sent, POST attempts, and the last error."""

    sent: int = 0
    attempts: int = 0
    error: str | None = None


def deliver(
    con: duckdb.DuckDBPyConnection,
    url: str | None,
    *,
    now: datetime,
    max_attempts: int = 3,
    backoff_seconds: float = 0.5,
    timeout: float = 10.0,
) -> Delivery:
    """POST every undelivered alert to ``url`` as ``{"alerts": [...]}``; mark them delivered.

    Args:
        con: a read-write connection to the warehouse.
        url: the webhook; nothing is sent without one.
        now: recorded as the delivery time.
        max_attempts: POSTs before giving up (the alerts stay pending for the next run).
        backoff_seconds: the wait after the first failed attempt, doubled after each.
        timeout: seconds per attempt.

    Returns:
        How many were sent, the attempts made, and the error if none succeeded.
    """
    result = Delivery()
    if not url or not table_exists(con, "ops", "alerts"):
        return result
    pending = con.sql(sql.load("crmlens", "alerts_pending")).pl()
    if pending.is_empty():
        return result
    body = json.dumps(
        {"source": "crmlens", "alerts": pending.drop("delivered_at", "delivery_error").to_dicts()},
        default=str,
    ).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    for attempt in range(1, max_attempts + 1):
        result.attempts = attempt
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if 200 <= response.status < 300:
                    result.error = None
                    break
                result.error = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            result.error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        if attempt < max_attempts:
            time.sleep(backoff_seconds * 2 ** (attempt - 1))
    ids = pending["alert_id"].to_list()
    if result.error is None:
        con.execute(sql.load("crmlens", "alerts_mark_delivered"), {"delivered_at": now, "ids": ids})
        result.sent = len(ids)
    else:
        con.execute(sql.load("crmlens", "alerts_mark_failed"), {"error": result.error, "ids": ids})
    return result
