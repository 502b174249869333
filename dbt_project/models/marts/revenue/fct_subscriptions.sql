{#- Every subscription, and whether it is live (active or past due): what the renewal and
    churn-risk lists read. -#}

with subscriptions as (

    select * from {{ ref('stg_crm__subscriptions') }}

),

final as (

    select
        subscriptions.subscription_id,
        subscriptions.account_id,
        subscriptions.plan,
        subscriptions.seats,
        subscriptions.mrr,
        subscriptions.started_at,
        subscriptions.renewal_date,
        subscriptions.ended_at,
        subscriptions.status,
        subscriptions.cancel_reason,
        coalesce(subscriptions.status in ('active', 'past_due'), false) as is_live
    from subscriptions

)

select * from final
