{#- One row per deal: what it is, where it stands, how long it took, and how it moved. The
    stage is the CRM's own label; whether the deal is open, won or lost is what the stage
    means (stg_crm__vocabulary). Days per stage are rows in int_opportunities_stage_durations;
    the days_in_<stage> columns are those of the canonical stages (0 for a CRM without them). -#}

with opportunities as (

    select * from {{ ref('stg_crm__opportunities') }}

),

users as (

    select * from {{ ref('dim_users') }}

),

activities as (

    select * from {{ ref('stg_crm__activities') }}

),

stage_durations as (

    select * from {{ ref('int_opportunities_stage_durations') }}

),

history_changes as (

    select * from {{ ref('int_opportunities_history_changes') }}

),

as_of as (

    select * from {{ ref('int_sales_as_of') }}

),

stage_days as (

    select
        opportunity_id
        {%- for stage in sales_canonical_open_stages() %}
            ,
            sum(case when stage = '{{ stage }}' then days_in_stage else 0 end)
                as days_in_{{ stage }}
    
        {%- endfor %}
    from stage_durations
    group by opportunity_id

),

current_visits as (

    select
        opportunity_id,
        stage,
        days_in_stage
    from stage_durations
    where is_last_visit

),

opportunity_activities as (

    select
        opportunity_id,
        count(*) as activities_count,
        count(distinct contact_id) as stakeholders_engaged,
        max(occurred_at) as last_activity_at
    from activities
    where opportunity_id is not null
    group by opportunity_id

),

final as (

    select
        opportunities.opportunity_id,
        opportunities.account_id,
        users.user_id as owner_user_id,
        opportunities.name,
        opportunities.stage,
        opportunities.stage_meaning,
        opportunities.stage_position,
        opportunities.stage_probability,
        opportunities.stage_meaning = 'open' as is_open,
        opportunities.stage_meaning = 'won' as is_won,
        opportunities.stage_meaning <> 'open' as is_closed,
        opportunities.amount,
        opportunities.currency,
        opportunities.product_line,
        opportunities.competitor,
        opportunities.forecast_category,
        opportunities.lost_reason,
        opportunities.created_at,
        opportunities.closed_at,
        opportunities.expected_close_date,
        case
            when opportunities.stage_meaning <> 'open'
                then {{ days_between('opportunities.created_at', 'opportunities.closed_at') }}
            else {{ days_between('opportunities.created_at', 'as_of.as_of_at') }}
        end as cycle_days,
        {%- for stage in sales_canonical_open_stages() %}
            stage_days.days_in_{{ stage }},
        {%- endfor %}
        case
            when
                opportunities.stage_meaning = 'open'
                and current_visits.stage = opportunities.stage
                then current_visits.days_in_stage
        end as current_stage_days,
        coalesce(history_changes.close_date_pushes, 0) as close_date_pushes,
        coalesce(history_changes.amount_changes, 0) as amount_changes,
        history_changes.discount_pct,
        coalesce(opportunity_activities.stakeholders_engaged, 0) as stakeholders_engaged,
        coalesce(opportunity_activities.activities_count, 0) as activities_count,
        opportunity_activities.last_activity_at,
        {{ days_between('opportunity_activities.last_activity_at', 'as_of.as_of_at') }}
            as days_since_last_activity
    from opportunities
    cross join as_of
    left join users
        on opportunities.owner_user_id = users.user_id
    left join stage_days
        on opportunities.opportunity_id = stage_days.opportunity_id
    left join current_visits
        on opportunities.opportunity_id = current_visits.opportunity_id
    left join history_changes
        on opportunities.opportunity_id = history_changes.opportunity_id
    left join opportunity_activities
        on opportunities.opportunity_id = opportunity_activities.opportunity_id

)

select * from final
