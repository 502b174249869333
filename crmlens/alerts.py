"""Alerts: what someone should act on today, in ``ops.alerts``, optionally sent to a webhook.

Business alerts are derived after each scoring run from the scores and the marts:

- ``hot_lead_not_contacted``: a lead graded hot (band ``hot``) that nobody has
  answered yet (no first response), created in the last 14 days;
- ``deal_at_risk``: an open deal with two or more risk flags, amount at or above the
  median of open deals;
- ``health_fell``: a customer whose churn score rose by 15 points or more since the
  previous published scores;
- ``activity_gap``: an active rep who owns open deals and logged no activity in the
  last 7 days.

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

from crmlens.warehouse import ensure_schemas, table_exists

ALERTS_DDL = """
create table if not exists ops.alerts (
    alert_id varchar primary key,
    kind varchar not null,
    severity varchar not null,
    entity_type varchar,
    entity_id varchar,
    owner_user_id varchar,
    title varchar not null,
    detail varchar,
    raised_on date not null,
    first_seen_at timestamp not null,
    last_seen_at timestamp not null,
    run_id varchar,
    delivered_at timestamp,
    delivery_error varchar
)
"""

COLUMNS = (
    "kind", "severity", "entity_type", "entity_id", "owner_user_id", "title", "detail",
)  # fmt: skip

HOT_LEAD_DAYS = 14
HEALTH_FELL_POINTS = 15
ACTIVITY_GAP_DAYS = 7


@dataclass(frozen=True)
class Rule:
    kind: str
    severity: str
    needs: tuple[str, ...]  # tables the query reads
    sql: str  # returns the COLUMNS (minus kind, severity); $today is the data's today


RULES: tuple[Rule, ...] = (
    Rule(
        "hot_lead_not_contacted",
        "high",
        ("ml.lead_scores", "marts.fct_leads"),
        f"""
        select 'lead' as entity_type, s.lead_id as entity_id, l.owner_user_id,
               'Hot lead not contacted: ' || coalesce(l.source, 'unknown source')
                   || ', score ' || s.score as title,
               coalesce(s.next_action, '') || ' — created '
                   || strftime(l.created_at, '%Y-%m-%d') as detail
        from ml.lead_scores s
        join marts.fct_leads l using (lead_id)
        where s.band = 'hot' and l.first_response_at is null
          and l.created_at >= $today - interval {HOT_LEAD_DAYS} day
        """,
    ),
    Rule(
        "deal_at_risk",
        "medium",
        ("ml.opportunity_scores", "marts.fct_opportunities"),
        """
        with open_deals as (
            select o.*, s.score, s.risk_flags,
                   median(o.amount) over () as median_amount
            from ml.opportunity_scores s
            join marts.fct_opportunities o using (opportunity_id)
            where o.is_open
        )
        select 'opportunity', opportunity_id, owner_user_id,
               'Deal at risk: ' || coalesce(name, opportunity_id) || ' ('
                   || cast(round(amount) as bigint) || ')',
               'Win probability ' || score || ' %; flags: '
                   || array_to_string(cast(json_extract_string(risk_flags, '$[*]') as varchar[]), ', ')
        from open_deals
        where json_array_length(risk_flags) >= 2 and amount >= median_amount
        """,
    ),
    Rule(
        "health_fell",
        "high",
        ("ml.churn_scores", "publish.churn_scores_history", "marts.dim_accounts"),
        f"""
        with previous_run as (
            select run_id from publish.churn_scores_history
            where run_id not in (select distinct run_id from ml.churn_scores)
            group by run_id order by max(scored_at) desc, run_id desc limit 1
        ),
        previous as (
            select account_id, score from publish.churn_scores_history
            where run_id = (select run_id from previous_run)
        )
        select 'account', s.account_id, a.owner_user_id,
               'Customer health fell: ' || coalesce(a.name, s.account_id),
               'Churn risk ' || p.score || ' → ' || s.score || ' %; '
                   || coalesce(s.next_action, '')
        from ml.churn_scores s
        join previous p using (account_id)
        left join marts.dim_accounts a using (account_id)
        where s.score - p.score >= {HEALTH_FELL_POINTS}
        """,
    ),
    Rule(
        "activity_gap",
        "medium",
        ("marts.dim_users", "marts.fct_opportunities", "staging.stg_crm__activities"),
        f"""
        with owners as (
            select owner_user_id as user_id, count(*) as open_deals
            from marts.fct_opportunities where is_open group by 1
        ),
        recent as (
            select distinct user_id from staging.stg_crm__activities
            where occurred_at >= $today - interval {ACTIVITY_GAP_DAYS} day
              and occurred_at < $today
        )
        select 'user', u.user_id, u.user_id,
               'No activity for {ACTIVITY_GAP_DAYS} days: ' || coalesce(u.name, u.user_id),
               o.open_deals || ' open deals without a logged call, meeting or e-mail'
        from marts.dim_users u
        join owners o using (user_id)
        where u.active and u.user_id not in (select user_id from recent)
        """,
    ),
)


def alert_id(kind: str, entity_id: str | None, day: str) -> str:
    return hashlib.sha1(f"{kind}|{entity_id}|{day}".encode()).hexdigest()[:16]


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    ensure_schemas(con)
    con.execute(ALERTS_DDL)


def _available(con: duckdb.DuckDBPyConnection, rule: Rule) -> bool:
    return all(table_exists(con, *name.split(".")) for name in rule.needs)


def evaluate(con: duckdb.DuckDBPyConnection, today: datetime) -> tuple[pl.DataFrame, list[str]]:
    """Every business alert that holds at ``today``; and the rules skipped (missing tables)."""
    frames, skipped = [], []
    for rule in RULES:
        if not _available(con, rule):
            skipped.append(rule.kind)
            continue
        params = {"today": today} if "$today" in rule.sql else None
        frame = con.sql(rule.sql, params=params).pl()
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
    """Upsert alerts raised on ``day``; returns how many are new."""
    ensure_table(con)
    if alerts.is_empty():
        return 0
    ids = [alert_id(k, e, day) for k, e in zip(alerts["kind"], alerts["entity_id"], strict=True)]
    rows = alerts.with_columns(alert_id=pl.Series(ids)).unique("alert_id", keep="first")
    con.register("_alerts", rows)
    try:
        con.execute("begin transaction")
        new = con.execute(
            "select count(*) from _alerts where alert_id not in (select alert_id from ops.alerts)"
        ).fetchone()[0]
        con.execute(
            """
            insert into ops.alerts
            select alert_id, kind, severity, entity_type, entity_id, owner_user_id, title,
                   detail, cast($day as date), $now, $now, $run_id, null, null
            from _alerts
            on conflict (alert_id) do update set
                last_seen_at = excluded.last_seen_at, detail = excluded.detail,
                run_id = excluded.run_id
            """,
            {"day": day, "now": now, "run_id": run_id},
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
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
    """Record one alert of the pipeline itself (a failed step, held-back scores), dated
    by the wall clock, and deliver what is pending."""
    frame = pl.DataFrame(
        [[kind, severity, entity_type, entity_id, None, title, detail]],
        schema=dict.fromkeys(COLUMNS, pl.String),
        orient="row",
    )
    record(con, frame, day=str(now.date()), run_id=run_id, now=now)
    deliver(con, url, now=now)


@dataclass
class Delivery:
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
    """POST every undelivered alert to ``url`` as ``{"alerts": [...]}``; mark them delivered."""
    result = Delivery()
    if not url or not table_exists(con, "ops", "alerts"):
        return result
    pending = con.sql(
        "select * from ops.alerts where delivered_at is null order by first_seen_at, alert_id"
    ).pl()
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
        con.execute(
            "update ops.alerts set delivered_at = ?, delivery_error = null "
            "where alert_id in (select unnest(?))",
            [now, ids],
        )
        result.sent = len(ids)
    else:
        con.execute(
            "update ops.alerts set delivery_error = ? where alert_id in (select unnest(?))",
            [result.error, ids],
        )
    return result
