"""Point-in-time features of opportunities (deals), and the deal-win training set.

Snapshots are taken every 14 days at midnight across the history: every deal
open at that moment (created before it, not closed before it) is one snapshot.
The label is "won" (1) or "lost" (0) for the deals that closed within 180 days
after the snapshot, settled when the deal closed (``label_known_at``); deals
still open at the end of the horizon are left out (their outcome is not
observed), and a snapshot is taken only once its 180 days have passed. The
source's spec may set another horizon, or the mode ``one_outcome_per_row`` for a
table of past deals: then each deal is one snapshot at its creation, labelled won
or lost, and a deal still open at the data's today does not train
(:mod:`features.labels`).

Features, all from rows timed strictly before ``as_of``:

- where the deal stands: its stage (the last open ``to_stage`` of the stage
  history; the CRM's own labels), the stage's rank among the CRM's open stages (its
  vocabulary), the deal's age, days in the current stage, stage
  changes so far, days per stage (overall and before the current one), and the
  75th percentile of the days deals that already left this stage spent in it
  (the "stuck" threshold of the risk flag) with the deal's own ratio to it;
- money: the amount as the history knew it, how often it changed, the change in
  per cent since the first known amount (a cut in negotiation is a discount);
- timing: days to the expected close date the history knew (negative: overdue),
  and how often that date was pushed;
- cadence: the team's calls, e-mails, meetings, demos… on the deal in the last
  14 and 30 days and in total, per week of the deal's life and per week while it
  was worked, days since the last activity and since the last contact with the
  buyer, the longest silence and how many silences of 21 days or more, and how
  many people from the buyer took part (distinct contacts of those activities);
- origin: whether the deal came from a converted lead, the lead's source, and
  how engaged the lead was (its events, the high-intent ones, the last 30 days);
- the deal: competitor, product line, the opportunity's custom attributes;
- the account: industry, tier, size, and whether it was already a customer (a
  deal won, or a subscription running, before ``as_of``);
- track records, from deals closed before ``as_of``: the owner's win rate and
  how many deals they closed, and the industry's win rate, both smoothed towards
  25 % (``(won + 2) / (closed + 8)``).

What the opportunities row says *now* (stage, amount, expected close date,
forecast category, lost reason) is what happened afterwards and is never used,
with two documented exceptions: the competitor (assumed known from creation) and
the amount when a deal has no stage history before ``as_of``; its stage is then the
row's when the row last changed before ``as_of``. The stage's default probability
(``stage_probability``, from the vocabulary) rides along for the rule-based score; it is
not a model feature. The account's
firmographics and the lead's source are their current values (slow to change).
The account's custom fields are not used: they are current values, some of them
only filled in after a purchase (a survey score), and would leak.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandera.polars as pa
import polars as pl

from crmlens import sql
from crmlens.contracts import ACTIVITY_TYPES
from crmlens.sources.labels import DEFAULT_HORIZON_DAYS
from features import context
from features.common import (
    FeatureSet,
    counts_per_type_and_window,
    custom_columns,
    fill_counts,
    qualified,
    run,
    select,
    select_list,
    split_custom,
)
from features.labels import LabelConfig, read_label

SNAPSHOT_EVERY_DAYS = 14
LABEL_HORIZON_DAYS = DEFAULT_HORIZON_DAYS["deal_scoring"]
ACTIVITY_WINDOWS = (14, 30)
# The other constants of the features (the activities that are contact with the buyer, the
# length of a silence, the stays a stage's percentile needs, the win-rate prior, the
# high-intent events) are in features/sql/opportunity_features.sql, beside their use.

CATEGORICAL = ["stage", "competitor", "product_line", "industry", "tier", "lead_source"]
BASE_NUMERIC = [
    "stage_rank",
    "deal_age_days",
    "days_in_stage",
    "stage_changes",
    "days_per_stage",
    "stage_p75_days",
    "stage_time_ratio",
    "amount",
    "amount_changes",
    "amount_change_pct",
    "days_to_expected_close",
    "close_date_pushes",
    "activities_14d",
    "activities_30d",
    "activities_total",
    "activities_per_week",
    "worked_pace_per_week",
    "longest_silence_days",
    "silences",
    "days_since_last_activity",
    "days_since_last_contact",
    "stakeholders",
    "employee_count",
    "already_customer",
    "owner_win_rate",
    "owner_closed_deals",
    "industry_win_rate",
    "from_lead",
    "lead_events",
    "lead_intent_events",
    "lead_events_30d",
    "days_per_past_stage",
]
ACTIVITY_COLUMNS = [f"activity_{t}_{d}d" for t in ACTIVITY_TYPES for d in ACTIVITY_WINDOWS]
COUNTS = [
    *ACTIVITY_COLUMNS,
    "activities_14d",
    "activities_30d",
    "activities_total",
    "stakeholders",
    "silences",
    "stage_changes",
    "amount_changes",
    "close_date_pushes",
    "owner_closed_deals",
    "lead_events",
    "lead_intent_events",
    "lead_events_30d",
]


class OpportunityFeaturesSchema(pa.DataFrameModel):
    """The opportunity feature table: one row per (opportunity, as_of); custom attributes may follow."""

    opportunity_id: str = pa.Field(nullable=False, description="The deal.")
    as_of: datetime = pa.Field(
        nullable=False, description="Snapshot time; every input is before it."
    )
    stage: str = pa.Field(description="Open stage the history knew at as_of (the CRM's label).")
    stage_rank: int = pa.Field(
        ge=1, description="Position among the CRM's open stages (1 prospecting … 5 negotiation)."
    )
    stage_probability: float = pa.Field(
        nullable=True, ge=0, le=1, description="The stage's default probability (vocabulary)."
    )
    deal_age_days: float = pa.Field(ge=0, description="Days since the deal was opened.")
    days_in_stage: float = pa.Field(ge=0, description="Days since it entered its current stage.")
    stage_p75_days: float = pa.Field(
        nullable=True,
        ge=0,
        description="75th percentile of the days deals that left this stage before as_of spent in it.",
    )
    amount: float = pa.Field(nullable=True, ge=0, description="Amount the history knew at as_of.")
    amount_change_pct: float = pa.Field(
        nullable=True, description="Change in per cent since the first known amount."
    )
    days_to_expected_close: float = pa.Field(
        nullable=True, description="Days to the expected close date known at as_of (<0: overdue)."
    )
    days_since_last_activity: float = pa.Field(
        nullable=True, ge=0, description="Recency of the team's work on the deal."
    )
    days_since_last_contact: float = pa.Field(
        nullable=True, ge=0, description="Recency of a call, e-mail, meeting, demo or SMS."
    )
    already_customer: int = pa.Field(isin=[0, 1], description="Account bought before as_of.")
    owner_win_rate: float = pa.Field(
        gt=0, lt=1, description="Owner's smoothed win rate on deals closed before as_of."
    )
    counts: int = pa.Field(
        alias=r"^(activit[a-z_]+_(14|30)d|activities_total|stakeholders|silences|stage_changes"
        r"|amount_changes|close_date_pushes|owner_closed_deals|lead_[a-z_]*events(_30d)?)$",
        regex=True,
        ge=0,
        description="Counts of activities, people, changes and the owner's closed deals.",
    )

    class Config:
        strict = False
        unique = ["opportunity_id", "as_of"]


def training_snapshots(
    con: duckdb.DuckDBPyConnection,
    today: datetime,
    every_days: int = SNAPSHOT_EVERY_DAYS,
    horizon_days: int | None = None,
    label: LabelConfig | None = None,
) -> pl.DataFrame:
    """Every open-deal snapshot whose outcome is observed (or, one outcome per row, every
    deal closed by ``today``, at its creation).

    ``as_of`` runs every ``every_days`` days at midnight from the day after the
    first deal was opened; label 1 = won, 0 = lost, within ``horizon_days``; the
    label is settled when the deal closed (``label_known_at``).

    Args:
        con: Warehouse connection (reads the staging views).
        today: The data's today: a snapshot's horizon must have ended by then.
        every_days: Days between snapshot dates.
        horizon_days: Days after the snapshot in which the deal must close (default: the
            label definition's).
        label: The label definition (default: the source's, from the warehouse).

    Returns:
        opportunity_id, as_of, label and label_known_at, by as_of then opportunity_id.
    """
    label = label or read_label(con, "deal_scoring")
    if label.one_outcome_per_row:
        return select(con, "opportunity_final_outcomes", today=today)
    return select(
        con,
        "opportunity_training_snapshots",
        today=today,
        every_days=every_days,
        horizon_days=label.horizon_days if horizon_days is None else horizon_days,
    )


def scoring_population(con: duckdb.DuckDBPyConnection, as_of: datetime) -> pl.DataFrame:
    """The deals open at ``as_of``: the population a daily scoring run scores.

    Args:
        con: Warehouse connection.
        as_of: The scoring moment.

    Returns:
        opportunity_id and as_of, by opportunity_id.
    """
    return select(con, "opportunity_scoring_population", as_of=as_of)


def build(con: duckdb.DuckDBPyConnection, snapshots: pl.DataFrame) -> FeatureSet:
    """Features of each (opportunity_id, as_of) snapshot; extra snapshot columns are kept.

    The stage, amount and expected close date are read from the stage history as
    it stood before ``as_of``: the opportunities row holds their *final* values
    (an amount discounted in negotiation, a close date equal to the day it
    closed), which would leak the outcome. Only a deal with no history row
    before ``as_of`` (a CRM that keeps no stage history) falls back to the row's
    amount, and its stage is then the row's if the row last changed before ``as_of``,
    else the CRM's first open stage. The competitor is the
    row's current value, assumed known from creation (CRMs ask for it up front).

    Args:
        con: Warehouse connection (reads the staging views).
        snapshots: opportunity_id and as_of, and any other columns (a label) to carry along.

    Returns:
        The feature frame (validated by :class:`OpportunityFeaturesSchema`) and the roles
        of its columns.
    """
    custom_numeric, custom_categorical = split_custom(custom_columns(con, "opportunities"))
    query = sql.fill_fragments(
        sql.load("features", "opportunity_features"),
        custom_columns=qualified(custom_numeric + custom_categorical, "o"),
        activity_aggregates=_activity_counts(),
    )
    frame = run(con, query, snapshots, {"open_stages": open_stages(con)})
    frame = fill_counts(frame, COUNTS)
    frame = frame.with_columns(pl.col(c).cast(pl.Int64) for c in COUNTS if c in frame.columns)
    OpportunityFeaturesSchema.validate(frame)
    features = FeatureSet(
        frame=frame,
        id_column="opportunity_id",
        numeric=BASE_NUMERIC + ACTIVITY_COLUMNS + custom_numeric,
        categorical=CATEGORICAL + custom_categorical,
    )
    return context.attach(con, features)


def open_stages(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The CRM's open stages in the order deals move through them (its vocabulary).

    Args:
        con: Warehouse connection (reads staging.stg_crm__vocabulary).

    Returns:
        The open stage labels, first to last.
    """
    return [
        label for (label,) in con.sql(sql.load("features", "opportunity_open_stages")).fetchall()
    ]


def _activity_counts() -> str:
    """The select-list fragment of the activity counts: per type and window, then per window."""
    exprs, _ = counts_per_type_and_window(
        "a", "activity_type", ACTIVITY_TYPES, ACTIVITY_WINDOWS, prefix="activity_"
    )
    exprs += [
        f"count(*) filter (where a.occurred_at >= a.as_of - interval {d} day) as activities_{d}d"
        for d in ACTIVITY_WINDOWS
    ]
    return select_list(exprs)
