-- Point-in-time features of each (lead_id, as_of) in _snapshots, from rows before as_of
-- (staging views, and intermediate.int_lead_touches); the snapshot's columns come first.
-- Fragments: the lead's custom attributes, the lead's own industry/size/title when its CRM
-- keeps them, event and activity counts.
with snap as (
    select * from _snapshots
),

base as (
    -- the order of these columns is the feature table's
    select  -- noqa: ST06
        s.*,
        l.contact_id,
        l.account_id,
        l.created_at,
        l.source,
        date_diff('second', l.created_at, s.as_of) / 86400.0 as lead_age_days,
        month(l.created_at) as created_month,
        isodow(l.created_at) as created_weekday,
        cast(l.contact_id is not null as integer) as known_contact,
        coalesce(acc.industry /* fragment: lead_industry */) as industry,
        coalesce(acc.employee_count /* fragment: lead_employee_count */) as employee_count,
        acc.annual_revenue,
        acc.tier,
        acc.region,
        con.seniority,
        coalesce(con.title /* fragment: lead_title */) as title
        /* fragment: custom_columns */
    from snap as s
    inner join staging.stg_crm__leads as l on s.lead_id = l.lead_id
    left join staging.stg_crm__accounts as acc on l.account_id = acc.account_id
    left join staging.stg_crm__contacts as con on l.contact_id = con.contact_id
),

-- What a lead did and what was done to it: its events, the reps' activities and its
-- campaign memberships, each with the lead or the contact it belongs to.
crm_rows as (
    select
        'event' as kind,
        event_id as row_id,
        event_type as row_type,
        occurred_at,
        lead_id,
        contact_id
    from staging.stg_crm__events
    union all
    select
        'activity' as kind,
        activity_id as row_id,
        activity_type as row_type,
        occurred_at,
        lead_id,
        contact_id
    from staging.stg_crm__activities
    union all
    select
        'membership' as kind,
        campaign_id as row_id,
        null as row_type,
        enrolled_at as occurred_at,
        case when member_type = 'lead' then member_id end as lead_id,
        case when member_type = 'contact' then member_id end as contact_id
    from staging.stg_crm__campaign_members
),

-- What links a row to a lead: the lead's id, or its contact's.
lead_keys as (
    select
        lead_id,
        as_of,
        'lead_id' as key_type,
        lead_id as key_id
    from base
    union all
    select
        lead_id,
        as_of,
        'contact_id' as key_type,
        contact_id as key_id
    from base
    where contact_id is not null
),

-- Each row under each key it has (one join on both keys, not a join on an or, which runs
-- as a nested loop).
keyed_rows as (
    unpivot crm_rows
    on lead_id, contact_id
    into name key_type value key_id
),

-- The rows of each lead before as_of, its own and its contact's (a row of both counts
-- once); events only in the 90 days before as_of (their longest window).
lead_history as (
    select distinct
        k.lead_id,
        k.as_of,
        r.kind,
        r.row_id,
        r.row_type,
        r.occurred_at
    from lead_keys as k
    inner join keyed_rows as r on k.key_type = r.key_type and k.key_id = r.key_id
    where
        r.occurred_at < k.as_of
        and (r.kind <> 'event' or r.occurred_at >= k.as_of - interval 90 day)
),

lead_events as (
    select
        lead_id,
        as_of,
        row_id as event_id,
        row_type as event_type,
        occurred_at
    from lead_history
    where kind = 'event'
),

event_features as (
    select
        e.lead_id,
        e.as_of
        /* fragment: event_aggregates */
    from lead_events as e
    group by e.lead_id, e.as_of
),

lead_activities as (
    select
        lead_id,
        as_of,
        row_id as activity_id,
        row_type as activity_type,
        occurred_at
    from lead_history
    where kind = 'activity'
),

activity_features as (
    select
        a.lead_id,
        a.as_of
        /* fragment: activity_aggregates */,
        count(*) as activities_total,
        min(date_diff('second', a.occurred_at, a.as_of)) / 86400.0 as days_since_last_activity
    from lead_activities as a
    group by a.lead_id, a.as_of
),

first_campaign as (
    select
        m.lead_id,
        m.as_of,
        arg_min(c.channel, m.occurred_at) as campaign_channel
    from lead_history as m
    inner join staging.stg_crm__campaigns as c on m.row_id = c.campaign_id
    where m.kind = 'membership'
    group by m.lead_id, m.as_of
)

select  -- noqa: ST06
    b.*,  -- noqa: AM04
    fc.campaign_channel,
    ef.* exclude (lead_id, as_of),  -- noqa: RF02
    af.* exclude (lead_id, as_of),  -- noqa: RF02
    -- hours from creation to the first activity a rep logged (int_lead_touches defines
    -- it), when that was before as_of
    case
        when lt.first_rep_activity_at < b.as_of
            then date_diff('second', b.created_at, lt.first_rep_activity_at) / 3600.0
    end as hours_to_first_response
from base as b
left join intermediate.int_lead_touches as lt on b.lead_id = lt.lead_id
left join event_features as ef on b.lead_id = ef.lead_id and b.as_of = ef.as_of
left join activity_features as af on b.lead_id = af.lead_id and b.as_of = af.as_of
left join first_campaign as fc on b.lead_id = fc.lead_id and b.as_of = fc.as_of
order by b.as_of, b.lead_id
