"""Point-in-time features of leads, and the lead-scoring training set.

Snapshots are taken at fixed ages of a lead (0, 3, 7, 14, 30, 60, 120 and 240
days after it was created), while it is still open (neither converted nor disqualified
before that moment): the moments a lead score is looked at. Age 0 is the moment
of creation, when only the lead's own fields and any anonymous browsing already
stitched to it are known. The label is "converted within 90 days after the
snapshot", and a snapshot enters a training set only once those 90 days have
passed (its label is observed).

Features, all from rows timed strictly before ``as_of``:

- fit: source, first campaign's channel, the account's industry, size, tier and
  region (or the lead's own company fields), the contact's seniority and title,
  creation month and weekday, the lead's custom attributes (typed as the CRM has
  them: a CRM's custom fields carry much of its signal);
- engagement: events of the lead, or of its contact, by type in the last 7, 30
  and 90 days, days since the last pricing view, demo request, e-mail click, form
  and any event;
- activities: reps' calls, e-mails, meetings… in the last 30 and 90 days, days
  since the last one, hours from creation to the first response;
- age of the lead at the snapshot.

The lead's *current* status is never a feature: it is what happened afterwards.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandera.polars as pa
import polars as pl

from crmlens.contracts import ACTIVITY_TYPES
from features.common import (
    FeatureSet,
    custom_columns,
    event_window_sql,
    fill_counts,
    qualified,
    run,
    split_custom,
)

# Young leads are scored most often; older ones still are, so training covers them too.
SNAPSHOT_AGES_DAYS = (0, 3, 7, 14, 30, 60, 120, 240)
LABEL_HORIZON_DAYS = 90
WINDOWS = (7, 30, 90)
RECENCY_TYPES = ("pricing_view", "demo_request", "email_click", "form_submit")
ACTIVITY_WINDOWS = (30, 90)
CATEGORICAL = [
    "source",
    "campaign_channel",
    "industry",
    "tier",
    "region",
    "seniority",
    "title",
]
BASE_NUMERIC = [
    "lead_age_days",
    "created_month",
    "created_weekday",
    "employee_count",
    "annual_revenue",
    "known_contact",
]
# Columns the fit block may take from the account, else from the lead's custom fields.
_FIT_FROM_ACCOUNT = ("industry", "employee_count")


class LeadFeaturesSchema(pa.DataFrameModel):
    """The lead feature table: one row per (lead, as_of); custom attributes may follow."""

    lead_id: str = pa.Field(nullable=False, description="The lead.")
    as_of: datetime = pa.Field(
        nullable=False, description="Snapshot time; every input is before it."
    )
    lead_age_days: float = pa.Field(ge=0, description="Days since the lead was created.")
    events_total: int = pa.Field(
        ge=0, description="Events of the lead in the 90 days before as_of."
    )
    activities_total: int = pa.Field(ge=0, description="Rep activities on the lead before as_of.")
    days_since_last_event: float = pa.Field(
        nullable=True, ge=0, description="Recency of engagement."
    )
    hours_to_first_response: float = pa.Field(
        nullable=True, ge=0, description="Creation to first rep activity."
    )
    counts: int = pa.Field(
        alias=r"^[a-z_]+_(7|30|90)d$",
        regex=True,
        ge=0,
        description="Event and activity counts per window.",
    )

    class Config:
        strict = False
        unique = ["lead_id", "as_of"]


def training_snapshots(
    con: duckdb.DuckDBPyConnection,
    today: datetime,
    ages: tuple[int, ...] = SNAPSHOT_AGES_DAYS,
    horizon_days: int = LABEL_HORIZON_DAYS,
) -> pl.DataFrame:
    """(lead_id, as_of, snapshot_age_days, label, label_known_at) for every open-lead snapshot
    whose label is observed."""
    age_list = ", ".join(str(a) for a in ages)
    return con.sql(
        f"""
        with ages as (select unnest([{age_list}]) as age),
        snaps as (
            select l.lead_id, l.created_at + to_days(a.age) as as_of, a.age as snapshot_age_days,
                   l.converted_at, l.disqualified_at
            from staging.stg_crm__leads l cross join ages a
        )
        select lead_id, as_of, snapshot_age_days,
               cast(converted_at is not null and converted_at >= as_of
                    and converted_at < as_of + to_days({horizon_days}) as integer) as label,
               -- when the outcome was settled: a conversion or a disqualification inside the
               -- horizon settles it then, otherwise the horizon's end does
               least(
                   case when converted_at < as_of + to_days({horizon_days}) then converted_at end,
                   case when disqualified_at < as_of + to_days({horizon_days}) then disqualified_at end,
                   as_of + to_days({horizon_days})
               ) as label_known_at
        from snaps
        where as_of + to_days({horizon_days}) <= $today
          and (converted_at is null or converted_at >= as_of)
          and (disqualified_at is null or disqualified_at >= as_of)
        order by as_of, lead_id
        """,
        params={"today": today},
    ).pl()


def scoring_population(con: duckdb.DuckDBPyConnection, as_of: datetime) -> pl.DataFrame:
    """The leads open at ``as_of``: the population a daily scoring run scores."""
    return con.sql(
        """
        select lead_id, $as_of as as_of
        from staging.stg_crm__leads
        where created_at < $as_of
          and (converted_at is null or converted_at >= $as_of)
          and (disqualified_at is null or disqualified_at >= $as_of)
          and status not in ('converted', 'disqualified')
        order by lead_id
        """,
        params={"as_of": as_of},
    ).pl()


def build(con: duckdb.DuckDBPyConnection, snapshots: pl.DataFrame) -> FeatureSet:
    """Features of each (lead_id, as_of) snapshot; extra snapshot columns are kept."""
    custom = custom_columns(con, "leads")
    for column in _FIT_FROM_ACCOUNT:
        custom.pop(column, None)  # used through coalesce(account, lead) below
    custom.pop("title", None)
    custom_numeric, custom_categorical = split_custom(custom)
    event_aggs, event_cols = event_window_sql(WINDOWS, RECENCY_TYPES)
    activity_aggs = []
    activity_cols = []
    for activity_type in ACTIVITY_TYPES:
        for days in ACTIVITY_WINDOWS:
            name = f"activity_{activity_type}_{days}d"
            activity_aggs.append(
                f"count(*) filter (where a.activity_type = '{activity_type}' "
                f"and a.occurred_at >= a.as_of - interval {days} day) as {name}"
            )
            activity_cols.append(name)
    lead_custom = custom_columns(con, "leads")
    lead_has = {
        c: f"l.{c}" if c in lead_custom else "null" for c in ("industry", "employee_count", "title")
    }
    sql = f"""
    with snap as (
        select * from _snapshots
    ),
    base as (
        select s.*, l.contact_id, l.account_id, l.created_at, l.source,
               date_diff('second', l.created_at, s.as_of) / 86400.0 as lead_age_days,
               month(l.created_at) as created_month,
               isodow(l.created_at) as created_weekday,
               cast(l.contact_id is not null as integer) as known_contact,
               coalesce(acc.industry, {lead_has["industry"]}) as industry,
               coalesce(acc.employee_count, {lead_has["employee_count"]}) as employee_count,
               acc.annual_revenue, acc.tier, acc.region,
               con.seniority,
               coalesce(con.title, {lead_has["title"]}) as title
               {qualified(custom_numeric + custom_categorical, "l")}
        from snap s
        join staging.stg_crm__leads l using (lead_id)
        left join staging.stg_crm__accounts acc on acc.account_id = l.account_id
        left join staging.stg_crm__contacts con on con.contact_id = l.contact_id
    ),
    lead_events as (
        select b.lead_id, b.as_of, e.event_id, e.event_type, e.occurred_at
        from base b join staging.stg_crm__events e on e.lead_id = b.lead_id
        where e.occurred_at < b.as_of and e.occurred_at >= b.as_of - interval 90 day
        union
        select b.lead_id, b.as_of, e.event_id, e.event_type, e.occurred_at
        from base b join staging.stg_crm__events e on e.contact_id = b.contact_id
        where b.contact_id is not null
          and e.occurred_at < b.as_of and e.occurred_at >= b.as_of - interval 90 day
    ),
    event_features as (
        select e.lead_id, e.as_of,
        {event_aggs}
        from lead_events e
        group by e.lead_id, e.as_of
    ),
    lead_activities as (
        select b.lead_id, b.as_of, b.created_at, a.activity_id, a.activity_type, a.occurred_at, a.user_id
        from base b join staging.stg_crm__activities a on a.lead_id = b.lead_id
        where a.occurred_at < b.as_of
        union
        select b.lead_id, b.as_of, b.created_at, a.activity_id, a.activity_type, a.occurred_at, a.user_id
        from base b join staging.stg_crm__activities a on a.contact_id = b.contact_id
        where b.contact_id is not null and a.occurred_at < b.as_of
    ),
    activity_features as (
        select a.lead_id, a.as_of,
            {", ".join(activity_aggs)},
            count(*) as activities_total,
            min(date_diff('second', a.occurred_at, a.as_of)) / 86400.0 as days_since_last_activity,
            min(date_diff('second', a.created_at, a.occurred_at))
                filter (where a.user_id is not null and a.occurred_at >= a.created_at) / 3600.0
                as hours_to_first_response
        from lead_activities a
        group by a.lead_id, a.as_of
    ),
    memberships as (
        -- two equi-joins, not one join on an OR (which runs as a nested loop)
        select b.lead_id, b.as_of, m.campaign_id, m.enrolled_at
        from base b join staging.stg_crm__campaign_members m
          on m.member_type = 'lead' and m.member_id = b.lead_id
        where m.enrolled_at < b.as_of
        union all
        select b.lead_id, b.as_of, m.campaign_id, m.enrolled_at
        from base b join staging.stg_crm__campaign_members m
          on m.member_type = 'contact' and m.member_id = b.contact_id
        where m.enrolled_at < b.as_of
    ),
    first_campaign as (
        select m.lead_id, m.as_of, arg_min(c.channel, m.enrolled_at) as campaign_channel
        from memberships m
        join staging.stg_crm__campaigns c using (campaign_id)
        group by m.lead_id, m.as_of
    )
    select b.*, fc.campaign_channel,
           ef.* exclude (lead_id, as_of), af.* exclude (lead_id, as_of)
    from base b
    left join event_features ef using (lead_id, as_of)
    left join activity_features af using (lead_id, as_of)
    left join first_campaign fc using (lead_id, as_of)
    order by b.as_of, b.lead_id
    """
    frame = run(con, sql, snapshots)
    counts = [
        c for c in event_cols + activity_cols + ["activities_total"] if not c.startswith("days_")
    ]
    frame = fill_counts(frame, counts).drop("contact_id", "account_id", "created_at")
    numeric = (
        BASE_NUMERIC
        + [c for c in event_cols + activity_cols]
        + ["activities_total", "days_since_last_activity", "hours_to_first_response"]
        + custom_numeric
    )
    categorical = CATEGORICAL + custom_categorical
    LeadFeaturesSchema.validate(frame)
    return FeatureSet(frame=frame, id_column="lead_id", numeric=numeric, categorical=categorical)
