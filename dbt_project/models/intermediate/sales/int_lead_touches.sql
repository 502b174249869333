{#- Per lead, its touches: the activities and events linked to it (by lead_id, or by the
    contact_id of the lead) before it converted, or all of them while it has not. -#}

with leads as (

    select * from {{ ref('stg_crm__leads') }}

),

as_of as (

    select * from {{ ref('int_sales_as_of') }}

),

lead_activities as (

    {{ sales_lead_links(
        ref('stg_crm__activities'),
        ['activity_id', 'activity_type', 'user_id', 'occurred_at', 'due_at', 'completed_at']
    ) }}

),

lead_events as (

    {{ sales_lead_links(ref('stg_crm__events'), ['event_id', 'event_type', 'occurred_at']) }}

),

all_touches as (

    select
        lead_activities.lead_id,
        'activity' as touch_kind,
        lead_activities.activity_id as touch_id,
        lead_activities.occurred_at as touch_at,
        {{ sales_activity_touch_channel('lead_activities.activity_type') }} as touch_channel,
        0 as is_high_intent
    from lead_activities

    union all

    select
        lead_events.lead_id,
        'event' as touch_kind,
        lead_events.event_id as touch_id,
        lead_events.occurred_at as touch_at,
        {{ sales_event_touch_channel('lead_events.event_type') }} as touch_channel,
        case
            when lead_events.event_type in ('form_submit', 'demo_request', 'pricing_view') then 1
            else 0
        end as is_high_intent
    from lead_events

),

-- The touches before the lead converted (all of them while it has not).
touches as (

    select
        all_touches.lead_id,
        all_touches.touch_kind,
        all_touches.touch_id,
        all_touches.touch_at,
        all_touches.touch_channel,
        all_touches.is_high_intent
    from all_touches
    inner join leads
        on all_touches.lead_id = leads.lead_id
    where leads.converted_at is null or all_touches.touch_at < leads.converted_at

),

ranked_touches as (

    select
        lead_id,
        touch_at,
        touch_channel,
        row_number()
            over (partition by lead_id order by touch_at, touch_kind, touch_id)
            as rank_from_first,
        row_number()
            over (partition by lead_id order by touch_at desc, touch_kind desc, touch_id desc)
            as rank_from_last
    from touches

),

touch_counts as (

    select
        lead_id,
        min(touch_at) as first_touch_at,
        max(touch_at) as last_touch_at,
        cast(sum(case when touch_kind = 'activity' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as activities_before_conversion,
        cast(sum(case when touch_kind = 'event' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as events_before_conversion,
        cast(sum(is_high_intent) as {{ dbt.type_bigint() }}) as high_intent_events_before_conversion
    from touches
    group by lead_id

),

first_touches as (

    select
        lead_id,
        touch_channel as first_touch_channel
    from ranked_touches
    where rank_from_first = 1

),

last_touches as (

    select
        lead_id,
        touch_channel as last_touch_channel
    from ranked_touches
    where rank_from_last = 1

),

-- Activities a rep logged on the lead from its creation on; not limited to before
-- conversion. A response is outreach that reaches the person (tasks and notes are
-- bookkeeping). The first rep activity, tasks and notes included, is what the lead-scoring
-- feature hours_to_first_response counts to (features/sql/lead_features.sql reads it, as
-- of each snapshot).
rep_activities as (

    select
        lead_activities.lead_id,
        min(
            case
                when lead_activities.activity_type in ('call', 'email', 'sms', 'meeting', 'demo')
                    then lead_activities.occurred_at
            end
        ) as first_response_at,
        min(lead_activities.occurred_at) as first_rep_activity_at
    from lead_activities
    inner join leads
        on lead_activities.lead_id = leads.lead_id
    where
        lead_activities.user_id is not null
        and lead_activities.occurred_at >= leads.created_at
    group by lead_activities.lead_id

),

overdue_tasks as (

    select
        lead_activities.lead_id,
        count(*) as open_overdue_tasks
    from lead_activities
    cross join as_of
    where
        lead_activities.activity_type = 'task'
        and lead_activities.completed_at is null
        and lead_activities.due_at < as_of.as_of_at
    group by lead_activities.lead_id

),

final as (

    select
        leads.lead_id,
        touch_counts.first_touch_at,
        touch_counts.last_touch_at,
        first_touches.first_touch_channel,
        last_touches.last_touch_channel,
        coalesce(touch_counts.activities_before_conversion, 0) as activities_before_conversion,
        coalesce(touch_counts.events_before_conversion, 0) as events_before_conversion,
        coalesce(touch_counts.high_intent_events_before_conversion, 0)
            as high_intent_events_before_conversion,
        rep_activities.first_response_at,
        coalesce(overdue_tasks.open_overdue_tasks, 0) as open_overdue_tasks,
        rep_activities.first_rep_activity_at
    from leads
    left join touch_counts
        on leads.lead_id = touch_counts.lead_id
    left join first_touches
        on leads.lead_id = first_touches.lead_id
    left join last_touches
        on leads.lead_id = last_touches.lead_id
    left join rep_activities
        on leads.lead_id = rep_activities.lead_id
    left join overdue_tasks
        on leads.lead_id = overdue_tasks.lead_id

)

select * from final
