{#- Per deal, how its amount and expected close date moved over its history. Null amounts
    and close dates mean "not recorded on this row" and are skipped, so each value is
    compared with the previous value that was recorded. -#}

with known_history as (

    {{ sales_known_history(['amount', 'expected_close_date']) }}

),

amounts as (

    select
        opportunity_id,
        amount,
        lag(amount) over (partition by opportunity_id order by changed_at) as previous_amount,
        first_value(amount) over (
            partition by opportunity_id order by changed_at
            rows between unbounded preceding and unbounded following
        ) as first_amount,
        last_value(amount) over (
            partition by opportunity_id order by changed_at
            rows between unbounded preceding and unbounded following
        ) as last_amount
    from known_history
    where amount is not null

),

amount_changes as (

    select
        opportunity_id,
        cast(
            sum(
                case
                    when previous_amount is not null and amount <> previous_amount then 1 else 0
                end
            ) as {{ dbt.type_bigint() }}
        ) as amount_changes,
        max(first_amount) as first_amount,
        max(last_amount) as last_amount
    from amounts
    group by opportunity_id

),

close_dates as (

    select
        opportunity_id,
        expected_close_date,
        lag(expected_close_date)
            over (partition by opportunity_id order by changed_at)
            as previous_close_date,
        first_value(expected_close_date) over (
            partition by opportunity_id order by changed_at
            rows between unbounded preceding and unbounded following
        ) as first_expected_close_date,
        last_value(expected_close_date) over (
            partition by opportunity_id order by changed_at
            rows between unbounded preceding and unbounded following
        ) as last_expected_close_date
    from known_history
    where expected_close_date is not null

),

close_date_pushes as (

    select
        opportunity_id,
        cast(
            sum(
                case when expected_close_date > previous_close_date then 1 else 0 end
            ) as {{ dbt.type_bigint() }}
        )
            as close_date_pushes,
        max(first_expected_close_date) as first_expected_close_date,
        max(last_expected_close_date) as last_expected_close_date
    from close_dates
    group by opportunity_id

),

history_rows as (

    select
        opportunity_id,
        count(*) as history_rows
    from known_history
    group by opportunity_id

),

final as (

    select
        history_rows.opportunity_id,
        history_rows.history_rows,
        coalesce(close_date_pushes.close_date_pushes, 0) as close_date_pushes,
        close_date_pushes.first_expected_close_date,
        close_date_pushes.last_expected_close_date,
        coalesce(amount_changes.amount_changes, 0) as amount_changes,
        amount_changes.first_amount,
        amount_changes.last_amount,
        case
            when amount_changes.first_amount > 0
                then
                    1
                    - {{ sales_ratio('amount_changes.last_amount', 'amount_changes.first_amount') }}
        end as discount_pct
    from history_rows
    left join close_date_pushes
        on history_rows.opportunity_id = close_date_pushes.opportunity_id
    left join amount_changes
        on history_rows.opportunity_id = amount_changes.opportunity_id

)

select * from final
