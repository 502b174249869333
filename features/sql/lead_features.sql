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

-- The lead's events and its contact's, in the 90 days before as_of (the longest window).
lead_events as (
    select
        b.lead_id,
        b.as_of,
        e.event_id,
        e.event_type,
        e.occurred_at
    from base as b
    inner join staging.stg_crm__events as e on b.lead_id = e.lead_id
    where e.occurred_at < b.as_of and e.occurred_at >= b.as_of - interval 90 day
    union distinct
    select
        b.lead_id,
        b.as_of,
        e.event_id,
        e.event_type,
        e.occurred_at
    from base as b
    inner join staging.stg_crm__events as e on b.contact_id = e.contact_id
    where
        b.contact_id is not null
        and e.occurred_at < b.as_of and e.occurred_at >= b.as_of - interval 90 day
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
        b.lead_id,
        b.as_of,
        a.activity_id,
        a.activity_type,
        a.occurred_at
    from base as b
    inner join staging.stg_crm__activities as a on b.lead_id = a.lead_id
    where a.occurred_at < b.as_of
    union distinct
    select
        b.lead_id,
        b.as_of,
        a.activity_id,
        a.activity_type,
        a.occurred_at
    from base as b
    inner join staging.stg_crm__activities as a on b.contact_id = a.contact_id
    where b.contact_id is not null and a.occurred_at < b.as_of
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

memberships as (
    -- two equi-joins, not one join on an or (which runs as a nested loop)
    select
        b.lead_id,
        b.as_of,
        m.campaign_id,
        m.enrolled_at
    from base as b
    inner join staging.stg_crm__campaign_members as m
        on m.member_type = 'lead' and b.lead_id = m.member_id
    where m.enrolled_at < b.as_of
    union all
    select
        b.lead_id,
        b.as_of,
        m.campaign_id,
        m.enrolled_at
    from base as b
    inner join staging.stg_crm__campaign_members as m
        on m.member_type = 'contact' and b.contact_id = m.member_id
    where m.enrolled_at < b.as_of
),

first_campaign as (
    select
        m.lead_id,
        m.as_of,
        arg_min(c.channel, m.enrolled_at) as campaign_channel
    from memberships as m
    inner join staging.stg_crm__campaigns as c on m.campaign_id = c.campaign_id
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
