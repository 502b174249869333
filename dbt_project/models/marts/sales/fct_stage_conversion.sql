{#- Stage-to-stage conversion and velocity, per open stage of the CRM and the month deals
    first entered it: of the deals that entered a stage that month, how many went on to a
    later stage, how many were eventually won or lost, and how long they spent in the
    stage. The stages, their order and the next one are the CRM's own (stg_crm__vocabulary):
    a two-step funnel reads Engaging → Won. -#}

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
        {{ sales_stage_order('stage_position', 'stage_meaning') }} as stage_order
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
        case when opportunities.stage_meaning = 'won' then 1 else 0 end as won,
        case when opportunities.stage_meaning = 'lost' then 1 else 0 end as lost,
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

-- The step after each open stage: the next open stage, or after the last one, the first won
-- stage.
next_stages as (

    select
        label as stage,
        lead(label) over (order by position, label) as next_stage
    from {{ ref('stg_crm__vocabulary') }}
    where field = 'opportunity_stages' and meaning in ('open', 'won')

),

final as (

    select
        aggregated.stage as from_stage,
        next_stages.next_stage as to_stage,
        aggregated.stage_order,
        aggregated.cohort_month,
        aggregated.entered,
        aggregated.advanced,
        aggregated.won,
        aggregated.lost,
        aggregated.still_in_stage,
        {{ sales_ratio('aggregated.advanced', 'aggregated.entered') }} as conversion_rate,
        {{ sales_ratio('aggregated.won', 'aggregated.entered') }} as win_rate,
        aggregated.avg_days_in_stage
    from aggregated
    left join next_stages
        on aggregated.stage = next_stages.stage

)

select * from final
