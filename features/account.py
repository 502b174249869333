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

The source's spec may set another horizon, or the mode ``one_outcome_per_row`` for a
table of past customers (the telco file): then each customer is one snapshot, all at
one moment — the midnight before the first subscription end on record, when every
row of such a table was still a customer — labelled 1 when it has no subscription live
at the data's today (ended, or a churned status). All rows share one as-of, so the
split is random (:mod:`features.labels`).

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

from crmlens import sql
from crmlens.sources.labels import DEFAULT_HORIZON_DAYS
from features import context
from features.common import (
    FeatureSet,
    custom_columns,
    fill_counts,
    qualified,
    run,
    select,
    split_custom,
)
from features.labels import LabelConfig, read_label

LABEL_HORIZON_DAYS = DEFAULT_HORIZON_DAYS["churn"]
# What counts as usage (logins, feature use) and as an urgent ticket (high, urgent) is in
# features/sql/account_features.sql, beside its use.

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


def training_snapshots(
    con: duckdb.DuckDBPyConnection,
    today: datetime,
    horizon_days: int | None = None,
    label: LabelConfig | None = None,
) -> pl.DataFrame:
    """Every monthly customer snapshot whose label is observed (or, one outcome per row,
    every customer once, with its final outcome).

    See the module docstring for where the snapshots start and why.

    Args:
        con: Warehouse connection (reads the staging views).
        today: The data's today: a snapshot's horizon must have ended by then.
        horizon_days: Days after the snapshot at which the account must still be a
            customer (default: the label definition's).
        label: The label definition (default: the source's, from the warehouse).

    Returns:
        account_id, as_of and label (1: churned), by as_of then account_id.
    """
    label = label or read_label(con, "churn")
    if label.one_outcome_per_row:
        return select(con, "account_final_outcomes", today=today, churned=list(label.statuses))
    horizon = label.horizon_days if horizon_days is None else horizon_days
    return select(con, "account_training_snapshots", today=today, horizon_days=int(horizon))


def scoring_population(con: duckdb.DuckDBPyConnection, as_of: datetime) -> pl.DataFrame:
    """The accounts with a subscription active at ``as_of``: whom a daily churn run scores.

    Args:
        con: Warehouse connection.
        as_of: The scoring moment.

    Returns:
        account_id and as_of, by account_id.
    """
    return select(con, "account_scoring_population", as_of=as_of)


def build(con: duckdb.DuckDBPyConnection, snapshots: pl.DataFrame) -> FeatureSet:
    """Features of each (account_id, as_of) snapshot; extra snapshot columns (label) are kept.

    Args:
        con: Warehouse connection (reads the staging views).
        snapshots: account_id and as_of, and any other columns (a label) to carry along.

    Returns:
        The feature frame (validated by :class:`AccountFeaturesSchema`) and the roles of
        its columns.
    """
    builtin = set(NUMERIC + CATEGORICAL) | {"usage_trend"}
    custom = {
        c: t
        for c, t in custom_columns(con, "accounts").items()
        if c not in builtin and c not in _NEVER and c not in snapshots.columns
    }
    custom_numeric, custom_categorical = split_custom(custom)
    query = sql.fill_fragments(
        sql.load("features", "account_features"),
        custom_columns=qualified(custom_numeric + custom_categorical, "a"),
    )
    frame = run(con, query, snapshots)
    frame = fill_counts(frame, COUNTS + AMOUNTS).with_columns(
        pl.col(c).cast(pl.Float64) for c in ("mrr", "unpaid_amount", "seats", "seats_90d_ago")
    )
    AccountFeaturesSchema.validate(frame)
    features = FeatureSet(
        frame=frame,
        id_column="account_id",
        numeric=NUMERIC + custom_numeric,
        categorical=CATEGORICAL + custom_categorical,
    )
    return context.attach(con, features)
