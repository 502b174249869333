{#- One row per account the CRM knows: every loaded account, plus an "inferred" row
    (is_inferred, attributes null) for each account id that subscriptions, invoices,
    opportunities, contacts, leads or activities reference but ingest did not load (its
    row was quarantined), so that facts keyed by account always find their account. Deals
    without an account (staging's `unknown_account`) find one explicit "Unknown account"
    row, so every total by account counts them.

    lifecycle: 'customer' with a subscription active at the revenue data's as-of instant,
    'former_customer' with subscriptions but none active, 'prospect' without any.
    current_mrr is the MRR of the as-of month in int_account_mrr_monthly (the same
    month-end rule), current_arr = 12 x current_mrr. customer_since is the start of the
    current unbroken run of subscriptions (a renewal starting when the previous one ends
    continues the run; any gap starts a new one). The CRM's custom attributes follow the
    canonical and derived columns. -#}

{%- set canonical = [
    'account_id', 'name', 'domain', 'industry', 'employee_count', 'annual_revenue',
    'country', 'region', 'parent_account_id', 'owner_user_id', 'account_type', 'tier',
    'created_at', 'updated_at', 'domain_normalized'
] %}

with accounts as (

    select * from {{ ref('stg_crm__accounts') }}

),

users as (

    select
        user_id,
        name
    from {{ ref('stg_crm__users') }}

),

subscriptions as (

    select
        subscription_id,
        account_id,
        started_at,
        ended_at
    from {{ ref('stg_crm__subscriptions') }}
    where started_at is not null

),

account_mrr as (

    select
        account_id,
        mrr,
        active_subscriptions
    from {{ ref('int_account_mrr_monthly') }}
    where is_current_month

),

opportunities as (

    select
        account_id,
        stage_meaning,
        amount,
        is_won
    from {{ ref('stg_crm__opportunities') }}

),

referenced_accounts as (

    select account_id from subscriptions
    union
    select account_id from {{ ref('stg_crm__invoices') }}
    union
    select account_id from opportunities
    union
    select account_id from {{ ref('stg_crm__contacts') }}
    union
    select account_id from {{ ref('stg_crm__leads') }}
    union
    select account_id from {{ ref('stg_crm__activities') }}

),

account_keys as (

    select
        account_id,
        false as is_inferred
    from accounts
    union all
    select
        referenced_accounts.account_id,
        true as is_inferred
    from referenced_accounts
    left join accounts
        on referenced_accounts.account_id = accounts.account_id
    where
        referenced_accounts.account_id is not null
        and accounts.account_id is null

),

subscription_runs as (

    select
        subscription_id,
        account_id,
        started_at,
        ended_at,
        max(coalesce(ended_at, {{ rev_far_future() }})) over (
            partition by account_id
            order by started_at, subscription_id
            rows between unbounded preceding and 1 preceding
        ) as previous_end_at
    from subscriptions

),

subscription_run_starts as (

    select
        account_id,
        max(started_at) as current_run_started_at
    from subscription_runs
    where previous_end_at is null or started_at > previous_end_at
    group by account_id

),

subscription_summary as (

    select
        account_id,
        min(started_at) as first_subscription_at,
        max(ended_at) as last_subscription_ended_at,
        count(*) as subscriptions
    from subscriptions
    group by account_id

),

opportunity_summary as (

    select
        account_id,
        count(case when stage_meaning = 'open' then 1 end) as open_opportunities,
        sum(case when stage_meaning = 'open' then amount end) as open_pipeline_amount,
        count(case when is_won then 1 end) as won_opportunities,
        sum(case when is_won then amount end) as won_amount
    from opportunities
    group by account_id

),

final as (

    select
        account_keys.account_id,
        case
            when account_keys.account_id = 'unknown_account' and accounts.account_id is null
                then 'Unknown account'
            else accounts.name
        end as name,
        accounts.domain,
        accounts.domain_normalized,
        accounts.industry,
        accounts.employee_count,
        accounts.annual_revenue,
        accounts.country,
        accounts.region,
        accounts.parent_account_id,
        accounts.owner_user_id,
        users.name as owner_name,
        accounts.account_type,
        accounts.tier,
        accounts.created_at,
        accounts.updated_at,
        account_keys.is_inferred,
        case
            when coalesce(account_mrr.active_subscriptions, 0) > 0 then 'customer'
            when subscription_summary.account_id is not null then 'former_customer'
            else 'prospect'
        end as lifecycle,
        coalesce(account_mrr.mrr, {{ rev_money('0') }}) as current_mrr,
        12 * coalesce(account_mrr.mrr, {{ rev_money('0') }}) as current_arr,
        coalesce(account_mrr.active_subscriptions, 0) as active_subscriptions,
        coalesce(subscription_summary.subscriptions, 0) as subscriptions,
        subscription_summary.first_subscription_at,
        case
            when coalesce(account_mrr.active_subscriptions, 0) > 0
                then subscription_run_starts.current_run_started_at
        end as customer_since,
        case
            when coalesce(account_mrr.active_subscriptions, 0) = 0
                then subscription_summary.last_subscription_ended_at
        end as churned_at,
        coalesce(opportunity_summary.open_opportunities, 0) as open_opportunities,
        coalesce(opportunity_summary.open_pipeline_amount, 0) as open_pipeline_amount,
        coalesce(opportunity_summary.won_opportunities, 0) as won_opportunities,
        coalesce(opportunity_summary.won_amount, 0) as won_amount
        {{ custom_attributes(ref('stg_crm__accounts'), canonical, 'accounts.') }}  -- noqa: LT02, LT05
    from account_keys
    left join accounts
        on account_keys.account_id = accounts.account_id
    left join users
        on accounts.owner_user_id = users.user_id
    left join account_mrr
        on account_keys.account_id = account_mrr.account_id
    left join subscription_summary
        on account_keys.account_id = subscription_summary.account_id
    left join subscription_run_starts
        on account_keys.account_id = subscription_run_starts.account_id
    left join opportunity_summary
        on account_keys.account_id = opportunity_summary.account_id

)

select * from final
