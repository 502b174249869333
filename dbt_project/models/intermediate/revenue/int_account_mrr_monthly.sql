{#- MRR of every account at the end of every month, from the month of its first
    subscription to the month of the revenue data's as-of instant (the newest subscription
    or invoice timestamp), zero months included so churn and reactivation show.

    Month-end rule: a subscription counts in a month when it is active at the month's end,
    started_at <= month end and (ended_at is null or ended_at > month end); with timestamps
    that is started_at < the next month's first instant <= ended_at. A subscription that
    starts and ends inside one month never counts. Trials count like any subscription
    (their mrr is what the CRM says). -#}

with subscriptions as (

    select
        subscription_id,
        account_id,
        coalesce(mrr, 0) as mrr,
        started_at,
        ended_at
    from {{ ref('stg_crm__subscriptions') }}
    where started_at is not null

),

invoices as (

    select
        issued_at,
        paid_at
    from {{ ref('stg_crm__invoices') }}

),

revenue_timestamps as (

    select started_at as happened_at from subscriptions
    union all
    select ended_at as happened_at from subscriptions
    union all
    select issued_at as happened_at from invoices
    union all
    select paid_at as happened_at from invoices

),

bounds as (

    select
        (select min(subscriptions.started_at) from subscriptions) as first_at,
        max(happened_at) as as_of_at
    from revenue_timestamps

),

months as (

    {{ month_spine('(select first_at from bounds)', '(select as_of_at from bounds)') }}

),

account_first_months as (

    select
        account_id,
        cast({{ dbt.date_trunc('month', 'min(started_at)') }} as date) as first_month
    from subscriptions
    group by account_id

),

account_months as (

    select
        account_first_months.account_id,
        months.month,
        {{ rev_month_end('months.month') }} as month_end_at
    from account_first_months
    inner join months
        on account_first_months.first_month <= months.month

),

mrr_at_month_end as (

    select
        account_months.account_id,
        account_months.month,
        account_months.month_end_at,
        {{ rev_money('coalesce(sum(subscriptions.mrr), 0)') }} as mrr,
        count(subscriptions.subscription_id) as active_subscriptions
    from account_months
    left join subscriptions
        on account_months.account_id = subscriptions.account_id
        and {{ rev_active_at(
            'subscriptions.started_at', 'subscriptions.ended_at', 'account_months.month_end_at'
        ) }}
    group by
        account_months.account_id,
        account_months.month,
        account_months.month_end_at

),

final as (

    select
        mrr_at_month_end.account_id,
        mrr_at_month_end.month,
        mrr_at_month_end.month_end_at,
        mrr_at_month_end.mrr,
        mrr_at_month_end.active_subscriptions,
        mrr_at_month_end.month
        = cast({{ dbt.date_trunc('month', 'bounds.as_of_at') }} as date) as is_current_month,
        bounds.as_of_at
    from mrr_at_month_end
    cross join bounds

)

select * from final
