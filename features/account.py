"""Point-in-time features of customer accounts, and the churn training set.

A snapshot is a customer account on the first day of a month (``as_of``): an
account with at least one subscription active then (started before ``as_of``,
not ended before it). Its label is 1 when the account has no active
subscription ``horizon`` days later — it cancelled, or its term ran out and was
not renewed — and 0 otherwise. A snapshot enters a training set only once its
horizon has passed (``as_of + horizon <= today``: its label is observed).

Snapshots start where the data starts to show churn: only ``as_of`` dates on or
after (the first recorded subscription end − horizon) are taken. A CRM export
often holds no record of the customers lost before it (they were deleted, or the
CRM was adopted later), so every account in the oldest part of the history
looks retained; snapshots from before the first recorded end would teach the
model that nobody churns. For the telco file (one cross-section: every churn on
2018-01-18, data today 2018-02-02) this yields exactly one snapshot,
2017-11-01, and the shared splitter then splits at random (stratified), because
all snapshots share one date: the published setup. Customers whose
subscription started on or after 2017-11-01 (telco tenure of 3 months or less)
were not customers at that snapshot and are not in it. For the synthetic CRM it
yields monthly snapshots over most of its two years. Snapshots also wait for
the first month with behaviour on record (the first event, ticket or invoice),
where a source has any: before it every usage, support and billing window is
empty because the export had not started, not because the customer was idle.

Features, all from rows timed strictly before ``as_of``:

- contract: MRR of the active subscriptions, the plan of the largest one,
  seats now and 90 days before (change and relative change), tenure since the
  first subscription started, days to the nearest renewal date ahead;
- product usage (``login`` and ``feature_use`` events of the account or of its
  contacts): events in the last 30 days and in days 31–90, the trend
  ``last30 / (days31_90 / 2 + 1)``, logins in the last 30 days, distinct active
  users in the last 30 days and per seat, days since the last login;
- support: tickets in the last 90 days, high or urgent ones, tickets open at
  ``as_of`` (and the urgent among them), average CSAT of tickets resolved in the
  last 180 days, average resolution time over the same tickets;
- billing: invoices due in the last 180 days paid late or still unpaid
  (``late_invoices_180d``), invoices past due and unpaid at ``as_of``, the
  unpaid amount at ``as_of`` (void invoices were never owed and are left out);
- the account's industry, tier, employee count and custom attributes (the
  synthetic CRM's ``nps_score``; all of telco's service and contract fields).

Counts default to 0; recencies, averages and changes without a base stay null.
A subscription's ``status`` and ``cancel_reason``, and the account's
``account_type``, are current state that states the outcome: never features.
Neither is a subscription's ``ended_at`` unless it lies before ``as_of``.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandera.polars as pa
import polars as pl

from features.common import (
    FeatureSet,
    custom_columns,
    fill_counts,
    qualified,
    run,
    split_custom,
)

LABEL_HORIZON_DAYS = 90
USAGE_TYPES = ("login", "feature_use")
URGENT = ("high", "urgent")

COUNTS = [
    "active_subscriptions",
    "usage_30d",
    "usage_31_90d",
    "logins_30d",
    "active_users_30d",
    "tickets_90d",
    "urgent_tickets_90d",
    "open_tickets",
    "open_urgent_tickets",
    "late_invoices_180d",
    "overdue_invoices",
]
AMOUNTS = ["mrr", "unpaid_amount"]
NUMERIC = [
    "mrr",
    "seats",
    "seats_90d_ago",
    "seats_change",
    "seats_change_pct",
    "tenure_days",
    "days_to_renewal",
    "active_subscriptions",
    "usage_30d",
    "usage_31_90d",
    "usage_trend",
    "logins_30d",
    "active_users_30d",
    "active_users_per_seat",
    "days_since_last_login",
    "tickets_90d",
    "urgent_tickets_90d",
    "open_tickets",
    "open_urgent_tickets",
    "avg_csat_180d",
    "avg_resolution_hours_180d",
    "late_invoices_180d",
    "overdue_invoices",
    "unpaid_amount",
    "employee_count",
]
CATEGORICAL = ["plan", "industry", "tier"]
# Account columns that state the outcome or are plumbing, never features.
_NEVER = ("account_type", "crm_import_batch")


class AccountFeaturesSchema(pa.DataFrameModel):
    """The account feature table: one row per (account, as_of); custom attributes may follow."""

    account_id: str = pa.Field(nullable=False, description="The account.")
    as_of: datetime = pa.Field(
        nullable=False, description="Snapshot time; every input is before it."
    )
    mrr: float = pa.Field(ge=0, description="MRR of the subscriptions active at as_of.")
    seats: float = pa.Field(nullable=True, ge=0, description="Seats of the active subscriptions.")
    seats_90d_ago: float = pa.Field(
        nullable=True, ge=0, description="Seats active 90 days before (null: not yet a customer)."
    )
    seats_change: float = pa.Field(nullable=True, description="seats − seats_90d_ago.")
    seats_change_pct: float = pa.Field(
        nullable=True, ge=-100, description="Relative seat change over 90 days, in %."
    )
    plan: str = pa.Field(nullable=True, description="Plan of the largest active subscription.")
    tenure_days: float = pa.Field(
        nullable=True, ge=0, description="Days since the first subscription started."
    )
    days_to_renewal: float = pa.Field(
        nullable=True, ge=0, description="Days to the nearest renewal date on or after as_of."
    )
    usage_trend: float = pa.Field(
        ge=0, description="usage_30d / (usage_31_90d / 2 + 1): below 1 means falling use."
    )
    active_users_per_seat: float = pa.Field(
        nullable=True, ge=0, description="Active users in the last 30 days per seat."
    )
    days_since_last_login: float = pa.Field(
        nullable=True, ge=0, description="Recency of the last login (null: none on record)."
    )
    avg_csat_180d: float = pa.Field(
        nullable=True, ge=1, le=5, description="Average CSAT of tickets resolved in 180 days."
    )
    avg_resolution_hours_180d: float = pa.Field(
        nullable=True, ge=0, description="Average hours to resolve those tickets."
    )
    unpaid_amount: float = pa.Field(ge=0, description="Invoiced and unpaid at as_of.")
    counts: int = pa.Field(
        alias=r"^(active_subscriptions|usage_30d|usage_31_90d|logins_30d|active_users_30d"
        r"|tickets_90d|urgent_tickets_90d|open_tickets|open_urgent_tickets"
        r"|late_invoices_180d|overdue_invoices)$",
        regex=True,
        ge=0,
        description="Counts over their windows (0 when nothing happened).",
    )

    class Config:
        strict = False
        unique = ["account_id", "as_of"]


def _active_at(alias: str, moment: str) -> str:
    """A subscription running at ``moment``: started before it, not ended before it."""
    return (
        f"({alias}.started_at < {moment} and "
        f"({alias}.ended_at is null or {alias}.ended_at >= {moment}))"
    )


def training_snapshots(
    con: duckdb.DuckDBPyConnection,
    today: datetime,
    horizon_days: int = LABEL_HORIZON_DAYS,
) -> pl.DataFrame:
    """(account_id, as_of, label) for every monthly customer snapshot whose label is observed.

    See the module docstring for where the snapshots start and why.
    """
    horizon = f"to_days({int(horizon_days)})"
    return con.sql(
        f"""
        with behaviour as (
            select min(t) as first_record from (
                select min(occurred_at) as t from staging.stg_crm__events
                union all select min(created_at) from staging.stg_crm__tickets
                union all select min(issued_at) from staging.stg_crm__invoices
            )
        ),
        bounds as (
            select greatest(
                       (select min(ended_at) from staging.stg_crm__subscriptions) - {horizon},
                       (select first_record from behaviour)
                   ) as earliest
        ),
        first_month as (
            select case
                       when cast(date_trunc('month', earliest) as timestamp) = earliest
                           then earliest
                       else cast(date_trunc('month', earliest) as timestamp) + interval 1 month
                   end as start
            from bounds
            where earliest is not null
        ),
        months as (
            select cast(unnest(generate_series(
                       start, cast($today as timestamp) - {horizon}, interval 1 month
                   )) as timestamp) as as_of
            from first_month
        ),
        customers as (
            select distinct m.as_of, s.account_id
            from months m
            join staging.stg_crm__subscriptions s on {_active_at("s", "m.as_of")}
        ),
        retained as (
            select distinct c.as_of, c.account_id
            from customers c
            join staging.stg_crm__subscriptions s
              on s.account_id = c.account_id and {_active_at("s", f"c.as_of + {horizon}")}
        )
        select c.account_id, c.as_of, cast(r.account_id is null as integer) as label
        from customers c
        left join retained r using (as_of, account_id)
        order by c.as_of, c.account_id
        """,
        params={"today": today},
    ).pl()


def scoring_population(con: duckdb.DuckDBPyConnection, as_of: datetime) -> pl.DataFrame:
    """The accounts with a subscription active at ``as_of``: whom a daily churn run scores."""
    return con.sql(
        f"""
        select distinct s.account_id, cast($as_of as timestamp) as as_of
        from staging.stg_crm__subscriptions s
        where {_active_at("s", "cast($as_of as timestamp)")}
        order by s.account_id
        """,
        params={"as_of": as_of},
    ).pl()


def build(con: duckdb.DuckDBPyConnection, snapshots: pl.DataFrame) -> FeatureSet:
    """Features of each (account_id, as_of) snapshot; extra snapshot columns (label) are kept."""
    builtin = set(NUMERIC + CATEGORICAL) | {"usage_trend"}
    custom = {
        c: t
        for c, t in custom_columns(con, "accounts").items()
        if c not in builtin and c not in _NEVER and c not in snapshots.columns
    }
    custom_numeric, custom_categorical = split_custom(custom)
    usage_types = ", ".join(f"'{t}'" for t in USAGE_TYPES)
    urgent = ", ".join(f"'{p}'" for p in URGENT)
    sql = f"""
    with snap as (
        select * from _snapshots
    ),
    keys as (
        select distinct account_id, as_of from snap
    ),
    subs as (
        select k.account_id, k.as_of, s.subscription_id, s.plan, s.seats, s.mrr,
               s.started_at, s.renewal_date,
               {_active_at("s", "k.as_of")} as active_now,
               {_active_at("s", "k.as_of - interval 90 day")} as active_before
        from keys k
        join staging.stg_crm__subscriptions s
          on s.account_id = k.account_id and s.started_at < k.as_of
    ),
    subscription_features as (
        select account_id, as_of,
            date_diff('second', min(started_at), as_of) / 86400.0 as tenure_days,
            count(*) filter (where active_now) as active_subscriptions,
            coalesce(sum(mrr) filter (where active_now), 0) as mrr,
            sum(seats) filter (where active_now) as seats,
            sum(seats) filter (where active_before) as seats_90d_ago,
            first(plan order by mrr desc nulls last, seats desc nulls last, subscription_id)
                filter (where active_now) as plan,
            cast(min(date_diff('day', cast(as_of as date), renewal_date))
                filter (where active_now and renewal_date >= cast(as_of as date)) as double)
                as days_to_renewal
        from subs
        group by account_id, as_of
    ),
    account_contacts as (
        select contact_id, account_id from staging.stg_crm__contacts where account_id is not null
    ),
    usage as (
        select k.account_id, k.as_of, e.event_id, e.event_type, e.occurred_at, e.contact_id
        from keys k
        join staging.stg_crm__events e on e.account_id = k.account_id
        where e.event_type in ({usage_types})
          and e.occurred_at < k.as_of and e.occurred_at >= k.as_of - interval 90 day
        union
        select k.account_id, k.as_of, e.event_id, e.event_type, e.occurred_at, e.contact_id
        from keys k
        join account_contacts c on c.account_id = k.account_id
        join staging.stg_crm__events e on e.contact_id = c.contact_id
        where e.event_type in ({usage_types})
          and e.occurred_at < k.as_of and e.occurred_at >= k.as_of - interval 90 day
    ),
    usage_features as (
        select account_id, as_of,
            count(*) filter (where occurred_at >= as_of - interval 30 day) as usage_30d,
            count(*) filter (where occurred_at < as_of - interval 30 day) as usage_31_90d,
            count(*) filter (where event_type = 'login' and occurred_at >= as_of - interval 30 day)
                as logins_30d,
            count(distinct contact_id) filter (where occurred_at >= as_of - interval 30 day)
                as active_users_30d
        from usage
        group by account_id, as_of
    ),
    logins as (
        select account_id, occurred_at
        from staging.stg_crm__events
        where event_type = 'login' and account_id is not null
        union all
        select c.account_id, e.occurred_at
        from staging.stg_crm__events e join account_contacts c using (contact_id)
        where e.event_type = 'login'
    ),
    last_login as (
        select k.account_id, k.as_of,
               date_diff('second', l.occurred_at, k.as_of) / 86400.0 as days_since_last_login
        from keys k
        asof left join logins l on l.account_id = k.account_id and k.as_of > l.occurred_at
    ),
    tickets as (
        select t.ticket_id, coalesce(t.account_id, c.account_id) as account_id, t.priority,
               t.created_at, t.resolved_at, t.csat
        from staging.stg_crm__tickets t
        left join account_contacts c using (contact_id)
    ),
    ticket_features as (
        select k.account_id, k.as_of,
            count(*) filter (where t.created_at >= k.as_of - interval 90 day) as tickets_90d,
            count(*) filter (where t.created_at >= k.as_of - interval 90 day
                             and t.priority in ({urgent})) as urgent_tickets_90d,
            count(*) filter (where t.resolved_at is null or t.resolved_at >= k.as_of)
                as open_tickets,
            count(*) filter (where (t.resolved_at is null or t.resolved_at >= k.as_of)
                             and t.priority in ({urgent})) as open_urgent_tickets,
            avg(t.csat) filter (where t.resolved_at < k.as_of
                                and t.resolved_at >= k.as_of - interval 180 day) as avg_csat_180d,
            avg(date_diff('second', t.created_at, t.resolved_at) / 3600.0)
                filter (where t.resolved_at < k.as_of
                        and t.resolved_at >= k.as_of - interval 180 day)
                as avg_resolution_hours_180d
        from keys k
        join tickets t on t.account_id = k.account_id and t.created_at < k.as_of
        group by k.account_id, k.as_of
    ),
    invoices as (
        select account_id, amount, issued_at, paid_at,
               coalesce(due_at, issued_at + interval 30 day) as due_at
        from staging.stg_crm__invoices
        where status is distinct from 'void'
    ),
    invoice_features as (
        select k.account_id, k.as_of,
            count(*) filter (where i.due_at < k.as_of and i.due_at >= k.as_of - interval 180 day
                             and (i.paid_at is null or i.paid_at > i.due_at))
                as late_invoices_180d,
            count(*) filter (where i.due_at < k.as_of
                             and (i.paid_at is null or i.paid_at >= k.as_of)) as overdue_invoices,
            coalesce(sum(i.amount) filter (where i.paid_at is null or i.paid_at >= k.as_of), 0)
                as unpaid_amount
        from keys k
        join invoices i on i.account_id = k.account_id and i.issued_at < k.as_of
        group by k.account_id, k.as_of
    )
    select s.*,
           sf.* exclude (account_id, as_of),
           cast(sf.seats - sf.seats_90d_ago as double) as seats_change,
           case when sf.seats_90d_ago > 0
                then 100.0 * (sf.seats - sf.seats_90d_ago) / sf.seats_90d_ago end
               as seats_change_pct,
           uf.* exclude (account_id, as_of),
           coalesce(uf.usage_30d, 0) / (coalesce(uf.usage_31_90d, 0) / 2.0 + 1.0) as usage_trend,
           case when sf.seats > 0 then coalesce(uf.active_users_30d, 0) / sf.seats end
               as active_users_per_seat,
           ll.days_since_last_login,
           tf.* exclude (account_id, as_of),
           inv.* exclude (account_id, as_of),
           a.industry, a.tier, a.employee_count
           {qualified(custom_numeric + custom_categorical, "a")}
    from snap s
    left join staging.stg_crm__accounts a using (account_id)
    left join subscription_features sf using (account_id, as_of)
    left join usage_features uf using (account_id, as_of)
    left join last_login ll using (account_id, as_of)
    left join ticket_features tf using (account_id, as_of)
    left join invoice_features inv using (account_id, as_of)
    order by s.as_of, s.account_id
    """
    frame = run(con, sql, snapshots)
    frame = fill_counts(frame, COUNTS + AMOUNTS).with_columns(
        pl.col(c).cast(pl.Float64) for c in ("mrr", "unpaid_amount", "seats", "seats_90d_ago")
    )
    AccountFeaturesSchema.validate(frame)
    return FeatureSet(
        frame=frame,
        id_column="account_id",
        numeric=NUMERIC + custom_numeric,
        categorical=CATEGORICAL + custom_categorical,
    )
