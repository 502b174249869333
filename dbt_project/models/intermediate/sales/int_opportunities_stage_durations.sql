{#- One row per stage visit of a deal: a maximal run of history rows with the same to_stage.
    Rows that only change the amount or the close date (from_stage = to_stage) stay inside
    the visit; going back to a stage starts a new visit. Stages are the CRM's own: what each
    means (open, won, lost) and its position come from the vocabulary (staging). -#}

with opportunities as (

    select * from {{ ref('stg_crm__opportunities') }}

),

as_of as (

    select * from {{ ref('int_sales_as_of') }}

),

known_history as (

    {{ sales_known_history(['to_stage', 'to_stage_meaning', 'to_stage_position']) }}

),

flagged as (

    select
        opportunity_id,
        changed_at,
        to_stage,
        to_stage_meaning,
        to_stage_position,
        case
            when
                lag(to_stage) over (partition by opportunity_id order by changed_at) = to_stage
                then 0
            else 1
        end as starts_visit
    from known_history

),

numbered as (

    select
        opportunity_id,
        changed_at,
        to_stage,
        to_stage_meaning,
        to_stage_position,
        cast(sum(starts_visit) over (
            partition by opportunity_id
            order by changed_at rows between unbounded preceding and current row
        ) as {{ dbt.type_int() }}) as stage_visit_number
    from flagged

),

visits as (

    select
        opportunity_id,
        stage_visit_number,
        min(to_stage) as stage,
        min(to_stage_meaning) as stage_meaning,
        min(to_stage_position) as stage_position,
        min(changed_at) as entered_at
    from numbered
    group by opportunity_id, stage_visit_number

),

with_next as (

    select
        opportunity_id,
        stage_visit_number,
        stage,
        stage_meaning,
        stage_position,
        entered_at,
        lead(entered_at)
            over (partition by opportunity_id order by stage_visit_number)
            as next_entered_at,
        lead(stage) over (partition by opportunity_id order by stage_visit_number) as next_stage
    from visits

),

final as (

    select
        with_next.opportunity_id,
        with_next.stage_visit_number,
        with_next.stage,
        with_next.stage_meaning,
        {{ sales_stage_order('with_next.stage_position', 'with_next.stage_meaning') }}
            as stage_order,
        with_next.stage_meaning <> 'open' as is_closed_stage,
        with_next.entered_at,
        -- A deal closed in the CRM whose closing history row is missing left its last
        -- open stage when it closed.
        case
            when with_next.next_entered_at is not null then with_next.next_entered_at
            when
                with_next.stage_meaning = 'open'
                and opportunities.closed_at >= with_next.entered_at
                then opportunities.closed_at
        end as exited_at,
        with_next.next_stage,
        with_next.next_entered_at is null as is_last_visit,
        as_of.as_of_at
    from with_next
    inner join opportunities
        on with_next.opportunity_id = opportunities.opportunity_id
    cross join as_of

)

select
    opportunity_id,
    stage_visit_number,
    stage,
    stage_meaning,
    stage_order,
    is_closed_stage,
    entered_at,
    exited_at,
    next_stage,
    is_last_visit,
    case
        when is_closed_stage then null
        else {{ days_between('entered_at', 'coalesce(exited_at, as_of_at)') }}
    end as days_in_stage
from final
