{#- Per rep and calendar month: deals closed and won, activity, and how fast new leads
    were answered. A month appears for a rep when they closed a deal, logged an activity
    or were assigned a lead in it. -#}

with users as (

    select * from {{ ref('dim_users') }}

),

opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

leads as (

    select * from {{ ref('fct_leads') }}

),

activities as (

    select * from {{ ref('stg_crm__activities') }}

),

closed_deals as (

    select
        owner_user_id as user_id,
        cast({{ dbt.date_trunc('month', 'closed_at') }} as date) as month,
        count(*) as opportunities_closed,
        cast(sum(case when is_won then 1 else 0 end) as {{ dbt.type_bigint() }}) as won,
        sum(case when is_won then coalesce(amount, 0) else 0 end) as won_amount,
        avg(case when is_won then cycle_days end) as avg_cycle_days
    from opportunities
    where
        is_closed
        and closed_at is not null
        and owner_user_id is not null
    group by owner_user_id, cast({{ dbt.date_trunc('month', 'closed_at') }} as date)

),

rep_activities as (

    select
        users.user_id,
        cast({{ dbt.date_trunc('month', 'activities.occurred_at') }} as date) as month,
        count(*) as activities,
        count(distinct cast(activities.occurred_at as date)) as active_days
    from activities
    inner join users
        on activities.user_id = users.user_id
    group by users.user_id, cast({{ dbt.date_trunc('month', 'activities.occurred_at') }} as date)

),

assigned_leads as (

    select
        owner_user_id as user_id,
        cohort_month as month,
        count(*) as leads_assigned,
        {{ sales_median('hours_to_first_response') }} as median_hours_to_first_response
    from leads
    where owner_user_id is not null
    group by owner_user_id, cohort_month

),

rep_months as (

    select
        user_id,
        month
    from closed_deals
    union
    select
        user_id,
        month
    from rep_activities
    union
    select
        user_id,
        month
    from assigned_leads

),

final as (

    select
        rep_months.user_id,
        rep_months.month,
        coalesce(closed_deals.opportunities_closed, 0) as opportunities_closed,
        coalesce(closed_deals.won, 0) as won,
        coalesce(closed_deals.won_amount, 0) as won_amount,
        {{ sales_ratio('closed_deals.won', 'closed_deals.opportunities_closed') }} as win_rate,
        closed_deals.avg_cycle_days,
        coalesce(rep_activities.activities, 0) as activities,
        coalesce(rep_activities.active_days, 0) as active_days,
        {{ sales_ratio('rep_activities.activities', 'rep_activities.active_days') }}
            as activities_per_active_day,
        coalesce(assigned_leads.leads_assigned, 0) as leads_assigned,
        assigned_leads.median_hours_to_first_response
    from rep_months
    left join closed_deals
        on rep_months.user_id = closed_deals.user_id
        and rep_months.month = closed_deals.month
    left join rep_activities
        on rep_months.user_id = rep_activities.user_id
        and rep_months.month = rep_activities.month
    left join assigned_leads
        on rep_months.user_id = assigned_leads.user_id
        and rep_months.month = assigned_leads.month

)

select * from final
