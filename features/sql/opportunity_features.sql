-- Point-in-time features of each (opportunity_id, as_of) in _snapshots, from rows before
-- as_of; the snapshot's own columns come first. $open_stages: the CRM's open stages in
-- order (its vocabulary); stage_probability, last, is the stage's default probability.
-- Fragments: the deal's custom attributes, activity counts per type and window.
with snap as (
    select * from _snapshots
),

base as (
    -- the order of these columns is the feature table's
    select  -- noqa: ST06
        s.*,
        o.account_id,
        o.owner_user_id,
        o.created_at,
        o.amount as row_amount,
        o.stage as row_stage,
        o.stage_meaning as row_stage_meaning,
        o.updated_at as row_updated_at,
        o.competitor,
        o.product_line,
        date_diff('second', o.created_at, s.as_of) / 86400.0 as deal_age_days,
        acc.industry,
        acc.tier,
        acc.employee_count
        /* fragment: custom_columns */
    from snap as s
    inner join staging.stg_crm__opportunities as o on s.opportunity_id = o.opportunity_id
    left join staging.stg_crm__accounts as acc on o.account_id = acc.account_id
),

-- Each history row beside its predecessor: lag looks only backwards, so a row
-- before as_of is compared with rows before as_of.
history as (
    select
        h.*,
        -- from_stage is distinct from to_stage (a form sqlfluff cannot parse)
        coalesce(
            h.from_stage <> h.to_stage, (h.from_stage is null) <> (h.to_stage is null)
        ) as stage_change,
        lag(h.amount) over w as prev_amount,
        lag(h.expected_close_date) over w as prev_close_date
    from staging.stg_crm__opportunity_stage_history as h
    window w as (partition by h.opportunity_id order by h.changed_at)
),

deal_history as (
    select
        b.opportunity_id,
        b.as_of,
        -- the last open stage (robust to a deal closed and reopened in the CRM)
        arg_max(h.to_stage, h.changed_at) filter (
            where list_contains($open_stages, h.to_stage)  -- noqa: RF02
        ) as history_stage,
        max(h.changed_at) filter (where h.stage_change) as stage_entered_at,
        count(*) filter (where h.stage_change and h.from_stage is not null) as stage_changes,
        arg_max_null(h.amount, h.changed_at) as history_amount,
        arg_min(h.amount, h.changed_at) filter (where h.amount is not null) as first_amount,
        count(*) filter (
            where h.prev_amount is not null and h.amount is not null
            and h.amount <> h.prev_amount
        ) as amount_changes,
        arg_max_null(h.expected_close_date, h.changed_at) as expected_close_date,
        count(*) filter (where h.expected_close_date > h.prev_close_date) as close_date_pushes
    from base as b
    inner join history as h on b.opportunity_id = h.opportunity_id and b.as_of > h.changed_at
    group by b.opportunity_id, b.as_of
),

-- Stays in a stage: from entering it to the next stage change.
stage_stays as (
    select
        to_stage as stage,  -- noqa: RF04
        changed_at as entered_at,
        lead(changed_at) over (partition by opportunity_id order by changed_at) as left_at
    from history
    where stage_change
),

stage_p75 as (
    select
        d.as_of,
        st.stage,
        quantile_cont(date_diff('second', st.entered_at, st.left_at) / 86400.0, 0.75)
            as stage_p75_days,
        count(*) as stays
    from (select distinct as_of from snap) as d
    inner join stage_stays as st on d.as_of > st.left_at
    group by d.as_of, st.stage
),

deal_activities as (
    select
        b.opportunity_id,
        b.as_of,
        a.activity_type,
        a.occurred_at,
        a.contact_id,
        -- silence before this activity (since the deal opened, for the first one)
        date_diff(
            'second',
            lag(a.occurred_at, 1, b.created_at) over (
                partition by b.opportunity_id, b.as_of
                order by a.occurred_at, a.activity_id
            ),
            a.occurred_at
        ) / 86400.0 as silence_days
    from base as b
    inner join staging.stg_crm__activities as a
        on b.opportunity_id = a.opportunity_id and b.as_of > a.occurred_at
),

activity_features as (
    select
        a.opportunity_id,
        a.as_of
        /* fragment: activity_aggregates */,
        count(*) as activities_total,
        min(date_diff('second', a.occurred_at, a.as_of)) / 86400.0 as days_since_last_activity,
        -- contact with the buyer: notes and tasks are internal
        min(date_diff('second', a.occurred_at, a.as_of)) filter (
            where a.activity_type in ('call', 'email', 'meeting', 'demo', 'sms')
        ) / 86400.0 as days_since_last_contact,
        count(distinct a.contact_id) as stakeholders,
        max(a.silence_days) as longest_silence_days,
        -- a gap of 21 days or more with nothing logged is a stall (the deal went quiet)
        count(*) filter (where a.silence_days >= 21) as silences
    from deal_activities as a
    group by a.opportunity_id, a.as_of
),

-- A deal opened by converting a lead: where the lead came from and how engaged it was.
origin as (
    select
        b.opportunity_id,
        b.as_of,
        l.lead_id,
        l.source as lead_source
    from base as b
    inner join staging.stg_crm__leads as l
        on b.opportunity_id = l.converted_opportunity_id and b.as_of > l.converted_at
    qualify row_number() over (
        partition by b.opportunity_id, b.as_of order by l.converted_at, l.lead_id
    ) = 1
),

lead_engagement as (
    select
        og.opportunity_id,
        og.as_of,
        count(*) as lead_events,
        -- the high-intent kinds bunch up before a decision to buy
        count(*) filter (
            where e.event_type in (
                'pricing_view', 'demo_request', 'email_click', 'email_reply', 'form_submit'
            )
        ) as lead_intent_events,
        count(*) filter (where e.occurred_at >= og.as_of - interval 30 day) as lead_events_30d
    from origin as og
    inner join staging.stg_crm__events as e
        on og.lead_id = e.lead_id and og.as_of > e.occurred_at
    group by og.opportunity_id, og.as_of
),

-- Deals closed so far, for the win rates of the owner and of the industry.
closed_deals as (
    select
        o.owner_user_id,
        acc.industry,
        o.closed_at,
        o.is_won
    from staging.stg_crm__opportunities as o
    left join staging.stg_crm__accounts as acc on o.account_id = acc.account_id
    where o.closed_at is not null and o.is_won is not null
),

-- Each closed deal under its owner and under its industry.
closed_by as (
    select
        'owner' as dimension,
        owner_user_id as value,
        closed_at,
        is_won
    from closed_deals
    union all
    select
        'industry' as dimension,
        industry as value,
        closed_at,
        is_won
    from closed_deals
),

record_keys as (
    select distinct
        'owner' as dimension,
        owner_user_id as value,
        as_of
    from base
    union all
    select distinct
        'industry' as dimension,
        industry as value,
        as_of
    from base
),

-- The record of an owner and of an industry before each as_of: deals closed, and the win
-- rate smoothed towards 2 / 8 = 25 %, about a typical B2B win rate.
records as (
    select
        k.dimension,
        k.value,
        k.as_of,
        count(c.closed_at) as closed,
        (2 + count(*) filter (where c.is_won)) / (8 + count(c.closed_at)) as win_rate
    from record_keys as k
    left join closed_by as c
        on k.dimension = c.dimension and k.value = c.value and k.as_of > c.closed_at
    group by k.dimension, k.value, k.as_of
),

customers as (
    select distinct
        d.account_id,
        d.as_of
    from (select distinct
        account_id,
        as_of
    from base) as d
    where
        exists (
            select 1 from staging.stg_crm__opportunities as o
            where o.account_id = d.account_id and o.is_won and o.closed_at < d.as_of
        )
        or exists (
            select 1 from staging.stg_crm__subscriptions as sub
            where
                sub.account_id = d.account_id and sub.started_at < d.as_of
                and (sub.ended_at is null or sub.ended_at >= d.as_of)
        )
),

joined as (
    -- the order of these columns is the feature table's
    select  -- noqa: ST06
        b.* exclude (row_amount, row_stage, row_stage_meaning, row_updated_at),  -- noqa: RF02
        -- without history before as_of: the deal's stage if it last changed before then,
        -- else the first open stage
        coalesce(
            dh.history_stage,
            case
                when b.row_updated_at < b.as_of and b.row_stage_meaning = 'open'
                    then b.row_stage
            end,
            list_extract($open_stages, 1)  -- noqa: RF02
        ) as stage,  -- noqa: RF04
        coalesce(dh.stage_entered_at, b.created_at) as stage_entered_at,
        coalesce(dh.stage_changes, 0) as stage_changes,
        case when dh.opportunity_id is null then b.row_amount else dh.history_amount end
            as amount,
        dh.first_amount,
        dh.amount_changes,
        dh.close_date_pushes,
        date_diff('second', b.as_of, cast(dh.expected_close_date as timestamp)) / 86400.0
            as days_to_expected_close,
        af.* exclude (opportunity_id, as_of),  -- noqa: RF02
        og.lead_source,
        cast(og.lead_id is not null as bigint) as from_lead,
        le.lead_events,
        le.lead_intent_events,
        le.lead_events_30d,
        cast(cu.account_id is not null as bigint) as already_customer,
        owner_record.win_rate as owner_win_rate,
        owner_record.closed as owner_closed_deals,
        industry_record.win_rate as industry_win_rate
    from base as b
    left join deal_history as dh
        on b.opportunity_id = dh.opportunity_id and b.as_of = dh.as_of
    left join activity_features as af
        on b.opportunity_id = af.opportunity_id and b.as_of = af.as_of
    left join origin as og
        on b.opportunity_id = og.opportunity_id and b.as_of = og.as_of
    left join lead_engagement as le
        on b.opportunity_id = le.opportunity_id and b.as_of = le.as_of
    left join customers as cu on b.account_id = cu.account_id and b.as_of = cu.as_of
    left join records as owner_record
        on owner_record.dimension = 'owner'
        and b.owner_user_id is not distinct from owner_record.value
        and b.as_of = owner_record.as_of
    left join records as industry_record
        on industry_record.dimension = 'industry'
        and b.industry is not distinct from industry_record.value
        and b.as_of = industry_record.as_of
)

select
    j.* exclude (  -- noqa: AM04
        stage_entered_at, first_amount, account_id, owner_user_id, created_at  -- noqa: RF02
    ),
    cast(list_position($open_stages, j.stage) as bigint) as stage_rank,  -- noqa: RF02
    date_diff('second', j.stage_entered_at, j.as_of) / 86400.0 as days_in_stage,
    j.deal_age_days / list_position($open_stages, j.stage) as days_per_stage,  -- noqa: RF02
    case
        when list_position($open_stages, j.stage) > 1  -- noqa: RF02
            then
                date_diff('second', j.created_at, j.stage_entered_at) / 86400.0
                / (list_position($open_stages, j.stage) - 1)  -- noqa: RF02
    end as days_per_past_stage,
    -- fewer finished stays than 5 in a stage and its 75th percentile is not trusted
    case when sp.stays >= 5 then sp.stage_p75_days end as stage_p75_days,
    case
        when sp.stays >= 5 and sp.stage_p75_days > 0
            then date_diff('second', j.stage_entered_at, j.as_of) / 86400.0 / sp.stage_p75_days
    end as stage_time_ratio,
    case
        when j.first_amount > 0
            then round(100.0 * (j.amount - j.first_amount) / j.first_amount, 1)
    end as amount_change_pct,
    coalesce(j.activities_total, 0) * 7.0 / greatest(j.deal_age_days, 7.0)
        as activities_per_week,
    -- the pace while the deal was worked: up to its last activity, leaving out
    -- the silence since (a stall says something else, in days_since_last_activity)
    case
        when j.activities_total > 0
            then
                j.activities_total * 7.0
                / greatest(j.deal_age_days - j.days_since_last_activity, 7.0)
    end as worked_pace_per_week,
    v.probability as stage_probability
from joined as j
left join stage_p75 as sp on j.as_of = sp.as_of and j.stage = sp.stage
left join staging.stg_crm__vocabulary as v
    on v.field = 'opportunity_stages' and j.stage = v.label
order by j.as_of, j.opportunity_id
