{#- The open pipeline as it stood at the end of every day (UTC), per open stage of the CRM
    (stg_crm__vocabulary, in its order), rebuilt from the stage history: each history row
    holds the deal's stage and amount from its changed_at until the next row (or, for the
    last row, until the deal closed or today). A deal without history counts from its
    creation in its stage (sales_known_history), and a deal without an account counts too:
    on the data's today, the open amount is that of every open deal. -#}

with as_of as (

    select * from {{ ref('int_sales_as_of') }}

),

known_history as (

    {{ sales_known_history(
        ['to_stage', 'to_stage_meaning', 'amount'], ['amount as current_amount', 'closed_at']
    ) }}

),

-- A null amount means "not recorded on this row": carry the last recorded one forward
-- (the running count of recorded amounts numbers the rows each recorded amount covers).
amount_groups as (

    select
        opportunity_id,
        changed_at,
        to_stage,
        to_stage_meaning,
        amount,
        current_amount,
        closed_at,
        count(amount) over (
            partition by opportunity_id
            order by changed_at rows between unbounded preceding and current row
        ) as amount_group
    from known_history

),

states as (

    select
        opportunity_id,
        to_stage as stage,
        to_stage_meaning as stage_meaning,
        coalesce(
            max(amount) over (partition by opportunity_id, amount_group),
            current_amount
        ) as amount,
        changed_at as valid_from,
        coalesce(
            lead(changed_at) over (partition by opportunity_id order by changed_at),
            closed_at
        ) as valid_to
    from amount_groups

),

open_states as (

    select
        opportunity_id,
        stage,
        amount,
        cast(valid_from as date) as first_day,
        cast(valid_to as date) as end_day
    from states
    where stage_meaning = 'open'

),

bounds as (

    select
        cast(min(known_history.changed_at) as date) as first_day,
        min(as_of.as_of_date) as last_day
    from known_history
    cross join as_of

),

days as (

    {{ day_spine('(select first_day from bounds)', '(select last_day from bounds)') }}

),

open_stages as (

    select
        label as stage,
        position as stage_order
    from {{ ref('stg_crm__vocabulary') }}
    where field = 'opportunity_stages' and meaning = 'open'

),

-- Open at the end of the day: entered the state that day or earlier, left it after.
daily as (

    select
        days.day,
        open_states.stage,
        count(*) as open_opportunities,
        sum(coalesce(open_states.amount, 0)) as open_amount
    from days
    inner join open_states
        on days.day >= open_states.first_day
        and (open_states.end_day is null or days.day < open_states.end_day)
    group by days.day, open_states.stage

),

final as (

    select
        days.day,
        open_stages.stage,
        open_stages.stage_order,
        coalesce(daily.open_opportunities, 0) as open_opportunities,
        coalesce(daily.open_amount, 0) as open_amount
    from days
    cross join open_stages
    left join daily
        on days.day = daily.day
        and open_stages.stage = daily.stage

)

select * from final
