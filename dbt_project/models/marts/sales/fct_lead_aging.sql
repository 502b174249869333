{#- Every open lead (neither converted nor disqualified) as of the data's "today": how old
    it is, how long since it was last touched, and whether its follow-up slipped. -#}

with leads as (

    select * from {{ ref('fct_leads') }}

),

lead_touches as (

    select * from {{ ref('int_lead_touches') }}

),

as_of as (

    select * from {{ ref('int_sales_as_of') }}

),

open_leads as (

    select
        leads.lead_id,
        leads.owner_user_id,
        leads.source,
        leads.status,
        leads.created_at,
        leads.last_touch_at,
        leads.first_response_at,
        lead_touches.open_overdue_tasks,
        as_of.as_of_at,
        as_of.as_of_date,
        cast(floor({{ days_between('leads.created_at', 'as_of.as_of_at') }}) as integer)
            as age_days,
        cast(floor({{ days_between('leads.last_touch_at', 'as_of.as_of_at') }}) as integer)
            as days_since_last_touch,
        {{ dbt.dateadd('day', 2, 'leads.created_at') }} as follow_up_due_at
    from leads
    inner join lead_touches
        on leads.lead_id = lead_touches.lead_id
    cross join as_of
    where
        leads.status not in ('converted', 'disqualified')
        and not leads.is_converted

),

final as (

    select
        lead_id,
        owner_user_id,
        source,
        status,
        created_at,
        as_of_date,
        age_days,
        case
            when age_days <= 7 then '0-7'
            when age_days <= 30 then '8-30'
            when age_days <= 90 then '31-90'
            else '90+'
        end as age_bucket,
        last_touch_at,
        days_since_last_touch,
        first_response_at,
        open_overdue_tasks,
        open_overdue_tasks > 0
        or (first_response_at is null and follow_up_due_at <= as_of_at)
        or coalesce(first_response_at > follow_up_due_at, false) as missed_follow_up
    from open_leads

)

select * from final
