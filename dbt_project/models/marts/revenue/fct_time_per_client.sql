{#- Time reps spend on each client: per account, rep, activity type and month (of
    occurred_at), the number of activities, the hours logged (duration_minutes / 60; an
    activity without a duration counts as an activity with no time) and their cost at the
    rep's hourly_cost.

    The account of an activity is its own account_id, else its opportunity's account,
    else its contact's, else its lead's (a converted lead's). Activities with no account
    by any path (work on unconverted leads) or no rep are not client time and are left
    out. -#}

with activities as (

    select
        activity_id,
        activity_type,
        account_id,
        contact_id,
        lead_id,
        opportunity_id,
        user_id,
        occurred_at,
        duration_minutes
    from {{ ref('stg_crm__activities') }}
    where user_id is not null

),

opportunities as (

    select
        opportunity_id,
        account_id
    from {{ ref('stg_crm__opportunities') }}

),

contacts as (

    select
        contact_id,
        account_id
    from {{ ref('stg_crm__contacts') }}

),

leads as (

    select
        lead_id,
        account_id
    from {{ ref('stg_crm__leads') }}

),

users as (

    select
        user_id,
        hourly_cost
    from {{ ref('stg_crm__users') }}

),

client_activities as (

    select
        activities.activity_id,
        activities.activity_type,
        coalesce(
            activities.account_id,
            opportunities.account_id,
            contacts.account_id,
            leads.account_id
        ) as account_id,
        activities.user_id,
        cast({{ dbt.date_trunc('month', 'activities.occurred_at') }} as date) as month,
        activities.duration_minutes
    from activities
    left join opportunities
        on activities.opportunity_id = opportunities.opportunity_id
    left join contacts
        on activities.contact_id = contacts.contact_id
    left join leads
        on activities.lead_id = leads.lead_id

),

monthly as (

    select
        account_id,
        user_id,
        activity_type,
        month,
        count(*) as activities,
        count(duration_minutes) as timed_activities,
        coalesce(sum(duration_minutes), 0) / 60.0 as hours
    from client_activities
    where account_id is not null
    group by
        account_id,
        user_id,
        activity_type,
        month

),

final as (

    select
        monthly.account_id,
        monthly.user_id,
        monthly.activity_type,
        monthly.month,
        monthly.activities,
        monthly.timed_activities,
        monthly.hours,
        users.hourly_cost,
        monthly.hours * users.hourly_cost as cost
    from monthly
    left join users
        on monthly.user_id = users.user_id

)

select * from final
