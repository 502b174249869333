{#- Stage-to-stage conversion and velocity, per open stage and the month deals first
    entered it: of the deals that entered a stage that month, how many went on to a later
    stage, how many were eventually won or lost, and how long they spent in the stage. -#}

with stage_durations as (

    select * from {{ ref('int_opportunities_stage_durations') }}

),

opportunities as (

    select * from {{ ref('stg_crm__opportunities') }}

),

-- The furthest a deal got: from its history, or its current stage if that is further.
stages_reached as (

    select
        opportunity_id,
        stage_order
    from stage_durations

    union all

    select
        opportunity_id,
        {{ sales_stage_order('stage') }} as stage_order
    from opportunities

),

furthest as (

    select
        opportunity_id,
        max(stage_order) as furthest_stage_order
    from stages_reached
    group by opportunity_id

),

-- One row per deal and open stage it entered (over all its visits to that stage).
stage_entries as (

    select
        opportunity_id,
        stage,
        min(stage_order) as stage_order,
        min(entered_at) as first_entered_at,
        sum(days_in_stage) as days_in_stage,
        max(case when exited_at is null then 1 else 0 end) as is_still_in_stage
    from stage_durations
    where not is_closed_stage
    group by opportunity_id, stage

),

entries as (

    select
        stage_entries.stage,
        stage_entries.stage_order,
        cast({{ dbt.date_trunc('month', 'stage_entries.first_entered_at') }} as date)
            as cohort_month,
        case when furthest.furthest_stage_order > stage_entries.stage_order then 1 else 0 end
            as advanced,
        case when opportunities.stage = 'closed_won' then 1 else 0 end as won,
        case when opportunities.stage = 'closed_lost' then 1 else 0 end as lost,
        stage_entries.is_still_in_stage,
        case when stage_entries.is_still_in_stage = 0 then stage_entries.days_in_stage end
            as completed_days_in_stage
    from stage_entries
    inner join furthest
        on stage_entries.opportunity_id = furthest.opportunity_id
    inner join opportunities
        on stage_entries.opportunity_id = opportunities.opportunity_id

),

aggregated as (

    select
        stage,
        stage_order,
        cohort_month,
        count(*) as entered,
        cast(sum(advanced) as {{ dbt.type_bigint() }}) as advanced,
        cast(sum(won) as {{ dbt.type_bigint() }}) as won,
        cast(sum(lost) as {{ dbt.type_bigint() }}) as lost,
        cast(sum(is_still_in_stage) as {{ dbt.type_bigint() }}) as still_in_stage,
        avg(completed_days_in_stage) as avg_days_in_stage
    from entries
    group by stage, stage_order, cohort_month

),

final as (

    select
        stage as from_stage,
        case stage
            {%- set stages = sales_open_stages() + ['closed_won'] %}
            {%- for s in sales_open_stages() %}
                when '{{ s }}' then '{{ stages[loop.index] }}'
            {%- endfor %}
        end as to_stage,
        stage_order,
        cohort_month,
        entered,
        advanced,
        won,
        lost,
        still_in_stage,
        {{ sales_ratio('advanced', 'entered') }} as conversion_rate,
        {{ sales_ratio('won', 'entered') }} as win_rate,
        avg_days_in_stage
    from aggregated

)

select * from final
