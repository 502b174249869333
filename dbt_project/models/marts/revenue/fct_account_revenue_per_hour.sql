{#- Per account (every row of dim_accounts): the time reps spent on it (from
    fct_time_per_client), what it brought in, and revenue per hour.

    revenue = won opportunity amounts + invoiced amounts (draft and void invoices
    excluded), as the issue defines it; the two overlap when a won deal is then billed,
    so compare accounts with it rather than reading it as a P&L. revenue_per_hour is null
    for accounts with no logged time. -#}

with accounts as (

    select
        account_id,
        name,
        tier,
        lifecycle
    from {{ ref('dim_accounts') }}

),

time_spent as (

    select
        account_id,
        cast(sum(activities) as {{ dbt.type_bigint() }}) as activities,
        sum(hours) as total_hours,
        sum(cost) as total_cost
    from {{ ref('fct_time_per_client') }}
    group by account_id

),

won as (

    select
        account_id,
        sum(amount) as won_amount
    from {{ ref('stg_crm__opportunities') }}
    where is_won
    group by account_id

),

invoiced as (

    select
        account_id,
        sum(amount) as invoiced_amount
    from {{ ref('stg_crm__invoices') }}
    where {{ rev_is_billed('status') }}
    group by account_id

),

combined as (

    select
        accounts.account_id,
        accounts.name,
        accounts.tier,
        accounts.lifecycle,
        coalesce(time_spent.activities, 0) as activities,
        coalesce(time_spent.total_hours, 0) as total_hours,
        coalesce(time_spent.total_cost, 0) as total_cost,
        coalesce(won.won_amount, 0) as won_amount,
        coalesce(invoiced.invoiced_amount, 0) as invoiced_amount
    from accounts
    left join time_spent
        on accounts.account_id = time_spent.account_id
    left join won
        on accounts.account_id = won.account_id
    left join invoiced
        on accounts.account_id = invoiced.account_id

),

final as (

    select
        account_id,
        name,
        tier,
        lifecycle,
        activities,
        total_hours,
        total_cost,
        won_amount,
        invoiced_amount,
        won_amount + invoiced_amount as revenue,
        {{ rev_ratio('won_amount + invoiced_amount', 'total_hours') }} as revenue_per_hour,
        {{ rev_ratio('total_cost', 'won_amount + invoiced_amount') }} as cost_to_revenue
    from combined

)

select * from final
