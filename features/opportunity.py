"""Point-in-time features of opportunities (deals), and the deal-win training set.

Snapshots are taken every 14 days at midnight across the history: every deal
open at that moment (created before it, not closed before it) is one snapshot.
The label is "won" (1) or "lost" (0) for the deals that closed within 180 days
after the snapshot, settled when the deal closed (``label_known_at``); deals
still open at the end of the horizon are left out (their outcome is not
observed), and a snapshot is taken only once its 180 days have passed.

Features, all from rows timed strictly before ``as_of``:

- where the deal stands: its stage (the last open ``to_stage`` of the stage
  history), the stage's rank, the deal's age, days in the current stage, stage
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
the amount when a deal has no stage history before ``as_of``. The account's
firmographics and the lead's source are their current values (slow to change).
The account's custom fields are not used: they are current values, some of them
only filled in after a purchase (a survey score), and would leak.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandera.polars as pa
import polars as pl

from crmlens.contracts import ACTIVITY_TYPES, OPEN_STAGES
from features.common import FeatureSet, custom_columns, fill_counts, qualified, run, split_custom

SNAPSHOT_EVERY_DAYS = 14
LABEL_HORIZON_DAYS = 180
ACTIVITY_WINDOWS = (14, 30)
# Activities in which someone from the team talks to the buyer (notes and tasks are internal).
CONTACT_TYPES = ("call", "email", "meeting", "demo", "sms")
# A gap this long with nothing logged is a stall (the deal went quiet, then resumed).
SILENCE_DAYS = 21
# Fewer finished stays than this in a stage and its 75th percentile is not trusted (null).
MIN_STAGE_STAYS = 5
# The owner's win rate is smoothed towards 2 / 8 = 25 %, about a typical B2B win rate.
WIN_RATE_PRIOR_WON = 2
WIN_RATE_PRIOR_CLOSED = 8

# Engagement a converted lead showed; the high-intent kinds bunch up before a decision to buy.
INTENT_EVENTS = ("pricing_view", "demo_request", "email_click", "email_reply", "form_submit")

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
    stage: str = pa.Field(isin=list(OPEN_STAGES), description="Stage the history knew at as_of.")
    stage_rank: int = pa.Field(
        ge=1, le=len(OPEN_STAGES), description="1 prospecting … 5 negotiation."
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
    horizon_days: int = LABEL_HORIZON_DAYS,
) -> pl.DataFrame:
    """(opportunity_id, as_of, label, label_known_at) for every open-deal snapshot whose
    outcome is observed.

    ``as_of`` runs every ``every_days`` days at midnight from the day after the
    first deal was opened; label 1 = won, 0 = lost, within ``horizon_days``; the
    label is settled when the deal closed (``label_known_at``).
    """
    return con.sql(
        f"""
        with bounds as (
            select date_trunc('day', min(created_at)) + interval 1 day as first_as_of
            from staging.stg_crm__opportunities
        ),
        dates as (
            select unnest(generate_series(
                first_as_of,
                cast($today as timestamp) - to_days({horizon_days}),
                to_days({every_days})
            )) as as_of
            from bounds
        )
        select o.opportunity_id, d.as_of, cast(o.is_won as integer) as label,
               o.closed_at as label_known_at
        from dates d
        join staging.stg_crm__opportunities o
          on o.created_at < d.as_of and (o.closed_at is null or o.closed_at >= d.as_of)
        where o.closed_at < d.as_of + to_days({horizon_days})
          and o.is_won is not null
        order by d.as_of, o.opportunity_id
        """,
        params={"today": today},
    ).pl()


def scoring_population(con: duckdb.DuckDBPyConnection, as_of: datetime) -> pl.DataFrame:
    """The deals open at ``as_of``: the population a daily scoring run scores."""
    return con.sql(
        """
        select opportunity_id, cast($as_of as timestamp) as as_of
        from staging.stg_crm__opportunities
        where created_at < $as_of
          and (closed_at is null or closed_at >= $as_of)
          and stage not in ('closed_won', 'closed_lost')
        order by opportunity_id
        """,
        params={"as_of": as_of},
    ).pl()


def build(con: duckdb.DuckDBPyConnection, snapshots: pl.DataFrame) -> FeatureSet:
    """Features of each (opportunity_id, as_of) snapshot; extra snapshot columns are kept.

    The stage, amount and expected close date are read from the stage history as
    it stood before ``as_of``: the opportunities row holds their *final* values
    (an amount discounted in negotiation, a close date equal to the day it
    closed), which would leak the outcome. Only a deal with no history row
    before ``as_of`` (a CRM that keeps no stage history) falls back to the row's
    amount, and its stage is then taken to be prospecting. The competitor is the
    row's current value, assumed known from creation (CRMs ask for it up front).
    """
    custom_numeric, custom_categorical = split_custom(custom_columns(con, "opportunities"))
    intent_events = ", ".join(f"'{t}'" for t in INTENT_EVENTS)
    stages = "[" + ", ".join(f"'{s}'" for s in OPEN_STAGES) + "]"
    open_stages = "(" + ", ".join(f"'{s}'" for s in OPEN_STAGES) + ")"
    contact_types = ", ".join(f"'{t}'" for t in CONTACT_TYPES)
    activity_aggs = [
        f"count(*) filter (where a.activity_type = '{t}' "
        f"and a.occurred_at >= a.as_of - interval {d} day) as activity_{t}_{d}d"
        for t in ACTIVITY_TYPES
        for d in ACTIVITY_WINDOWS
    ]
    activity_aggs += [
        f"count(*) filter (where a.occurred_at >= a.as_of - interval {d} day) as activities_{d}d"
        for d in ACTIVITY_WINDOWS
    ]
    sql = f"""
    with snap as (
        select * from _snapshots
    ),
    base as (
        select s.*, o.account_id, o.owner_user_id, o.created_at,
               o.amount as row_amount, o.competitor, o.product_line,
               date_diff('second', o.created_at, s.as_of) / 86400.0 as deal_age_days,
               acc.industry, acc.tier, acc.employee_count
               {qualified(custom_numeric + custom_categorical, "o")}
        from snap s
        join staging.stg_crm__opportunities o using (opportunity_id)
        left join staging.stg_crm__accounts acc on acc.account_id = o.account_id
    ),
    -- Each history row beside its predecessor: lag looks only backwards, so a row
    -- before as_of is compared with rows before as_of.
    history as (
        select h.*,
               h.from_stage is distinct from h.to_stage as stage_change,
               lag(h.amount) over w as prev_amount,
               lag(h.expected_close_date) over w as prev_close_date
        from staging.stg_crm__opportunity_stage_history h
        window w as (partition by h.opportunity_id order by h.changed_at)
    ),
    deal_history as (
        select b.opportunity_id, b.as_of,
               -- the last open stage (robust to a deal closed and reopened in the CRM)
               arg_max(h.to_stage, h.changed_at) filter (where h.to_stage in {open_stages})
                   as history_stage,
               max(h.changed_at) filter (where h.stage_change) as stage_entered_at,
               count(*) filter (where h.stage_change and h.from_stage is not null) as stage_changes,
               arg_max_null(h.amount, h.changed_at) as history_amount,
               arg_min(h.amount, h.changed_at) filter (where h.amount is not null) as first_amount,
               count(*) filter (where h.prev_amount is not null and h.amount is not null
                                  and h.amount <> h.prev_amount) as amount_changes,
               arg_max_null(h.expected_close_date, h.changed_at) as expected_close_date,
               count(*) filter (where h.expected_close_date > h.prev_close_date) as close_date_pushes
        from base b
        join history h on h.opportunity_id = b.opportunity_id and h.changed_at < b.as_of
        group by b.opportunity_id, b.as_of
    ),
    -- Stays in a stage: from entering it to the next stage change.
    stage_stays as (
        select to_stage as stage, changed_at as entered_at,
               lead(changed_at) over (partition by opportunity_id order by changed_at) as left_at
        from history
        where stage_change
    ),
    stage_p75 as (
        select d.as_of, st.stage,
               quantile_cont(date_diff('second', st.entered_at, st.left_at) / 86400.0, 0.75)
                   as stage_p75_days,
               count(*) as stays
        from (select distinct as_of from snap) d
        join stage_stays st on st.left_at < d.as_of
        group by d.as_of, st.stage
    ),
    deal_activities as (
        select b.opportunity_id, b.as_of, a.activity_type, a.occurred_at, a.contact_id,
               -- silence before this activity (since the deal opened, for the first one)
               date_diff('second',
                         lag(a.occurred_at, 1, b.created_at) over (
                             partition by b.opportunity_id, b.as_of
                             order by a.occurred_at, a.activity_id),
                         a.occurred_at) / 86400.0 as silence_days
        from base b
        join staging.stg_crm__activities a
          on a.opportunity_id = b.opportunity_id and a.occurred_at < b.as_of
    ),
    activity_features as (
        select a.opportunity_id, a.as_of,
               {", ".join(activity_aggs)},
               count(*) as activities_total,
               min(date_diff('second', a.occurred_at, a.as_of)) / 86400.0 as days_since_last_activity,
               min(date_diff('second', a.occurred_at, a.as_of))
                   filter (where a.activity_type in ({contact_types})) / 86400.0
                   as days_since_last_contact,
               count(distinct a.contact_id) as stakeholders,
               max(a.silence_days) as longest_silence_days,
               count(*) filter (where a.silence_days >= {SILENCE_DAYS}) as silences
        from deal_activities a
        group by a.opportunity_id, a.as_of
    ),
    -- A deal opened by converting a lead: where the lead came from and how engaged it was.
    origin as (
        select b.opportunity_id, b.as_of, l.lead_id, l.source as lead_source
        from base b
        join staging.stg_crm__leads l
          on l.converted_opportunity_id = b.opportunity_id and l.converted_at < b.as_of
        qualify row_number() over (
            partition by b.opportunity_id, b.as_of order by l.converted_at, l.lead_id
        ) = 1
    ),
    lead_engagement as (
        select og.opportunity_id, og.as_of,
               count(*) as lead_events,
               count(*) filter (where e.event_type in ({intent_events})) as lead_intent_events,
               count(*) filter (where e.occurred_at >= og.as_of - interval 30 day) as lead_events_30d
        from origin og
        join staging.stg_crm__events e on e.lead_id = og.lead_id and e.occurred_at < og.as_of
        group by og.opportunity_id, og.as_of
    ),
    -- Deals closed so far, for the win rates of the owner and of the industry.
    closed_deals as (
        select o.owner_user_id, acc.industry, o.closed_at, o.is_won
        from staging.stg_crm__opportunities o
        left join staging.stg_crm__accounts acc using (account_id)
        where o.closed_at is not null and o.is_won is not null
    ),
    {_win_record_sql("owner_user_id")},
    {_win_record_sql("industry")},
    customers as (
        select distinct d.account_id, d.as_of
        from (select distinct account_id, as_of from base) d
        where exists (
                select 1 from staging.stg_crm__opportunities o
                where o.account_id = d.account_id and o.is_won and o.closed_at < d.as_of
              )
           or exists (
                select 1 from staging.stg_crm__subscriptions sub
                where sub.account_id = d.account_id and sub.started_at < d.as_of
                  and (sub.ended_at is null or sub.ended_at >= d.as_of)
              )
    ),
    joined as (
        select b.* exclude (row_amount),
               coalesce(dh.history_stage, 'prospecting') as stage,
               coalesce(dh.stage_entered_at, b.created_at) as stage_entered_at,
               coalesce(dh.stage_changes, 0) as stage_changes,
               case when dh.opportunity_id is null then b.row_amount else dh.history_amount end
                   as amount,
               dh.first_amount,
               dh.amount_changes,
               dh.close_date_pushes,
               date_diff('second', b.as_of, cast(dh.expected_close_date as timestamp)) / 86400.0
                   as days_to_expected_close,
               af.* exclude (opportunity_id, as_of),
               og.lead_source,
               cast(og.lead_id is not null as bigint) as from_lead,
               le.lead_events, le.lead_intent_events, le.lead_events_30d,
               cast(cu.account_id is not null as bigint) as already_customer,
               {_smoothed("owner_user_id")} as owner_win_rate,
               owner_user_id_record.closed as owner_closed_deals,
               {_smoothed("industry")} as industry_win_rate
        from base b
        left join deal_history dh using (opportunity_id, as_of)
        left join activity_features af using (opportunity_id, as_of)
        left join origin og using (opportunity_id, as_of)
        left join lead_engagement le using (opportunity_id, as_of)
        left join customers cu on cu.account_id = b.account_id and cu.as_of = b.as_of
        left join owner_user_id_record using (owner_user_id, as_of)
        left join industry_record using (industry, as_of)
    )
    select j.* exclude (stage_entered_at, first_amount, account_id, owner_user_id, created_at),
           cast(list_position({stages}, j.stage) as bigint) as stage_rank,
           date_diff('second', j.stage_entered_at, j.as_of) / 86400.0 as days_in_stage,
           j.deal_age_days / list_position({stages}, j.stage) as days_per_stage,
           case when list_position({stages}, j.stage) > 1
                then date_diff('second', j.created_at, j.stage_entered_at) / 86400.0
                     / (list_position({stages}, j.stage) - 1)
           end as days_per_past_stage,
           case when sp.stays >= {MIN_STAGE_STAYS} then sp.stage_p75_days end as stage_p75_days,
           case when sp.stays >= {MIN_STAGE_STAYS} and sp.stage_p75_days > 0
                then date_diff('second', j.stage_entered_at, j.as_of) / 86400.0 / sp.stage_p75_days
           end as stage_time_ratio,
           case when j.first_amount > 0
                then round(100.0 * (j.amount - j.first_amount) / j.first_amount, 1)
           end as amount_change_pct,
           coalesce(j.activities_total, 0) * 7.0 / greatest(j.deal_age_days, 7.0)
               as activities_per_week,
           -- the pace while the deal was worked: up to its last activity, leaving out
           -- the silence since (a stall says something else, in days_since_last_activity)
           case when j.activities_total > 0
                then j.activities_total * 7.0
                     / greatest(j.deal_age_days - j.days_since_last_activity, 7.0)
           end as worked_pace_per_week
    from joined j
    left join stage_p75 sp on sp.as_of = j.as_of and sp.stage = j.stage
    order by j.as_of, j.opportunity_id
    """
    frame = fill_counts(run(con, sql, snapshots), COUNTS)
    frame = frame.with_columns(pl.col(c).cast(pl.Int64) for c in COUNTS if c in frame.columns)
    OpportunityFeaturesSchema.validate(frame)
    return FeatureSet(
        frame=frame,
        id_column="opportunity_id",
        numeric=BASE_NUMERIC + ACTIVITY_COLUMNS + custom_numeric,
        categorical=CATEGORICAL + custom_categorical,
    )


def _win_record_sql(key: str) -> str:
    """CTE ``<key>_record``: deals closed, and won, before each as_of, per value of ``key``."""
    return f"""{key}_record as (
        select d.{key}, d.as_of,
               count(*) as closed,
               count(*) filter (where c.is_won) as won
        from (select distinct {key}, as_of from base) d
        join closed_deals c on c.{key} = d.{key} and c.closed_at < d.as_of
        group by d.{key}, d.as_of
    )"""


def _smoothed(key: str) -> str:
    """(won + 2) / (closed + 8): a win rate pulled towards 25 % while the record is short."""
    return (
        f"({WIN_RATE_PRIOR_WON} + coalesce({key}_record.won, 0)) "
        f"/ ({WIN_RATE_PRIOR_CLOSED} + coalesce({key}_record.closed, 0))"
    )
