{#- Events per account and day (UTC day of occurred_at), one count per event type. The
    account of an event is its own account_id (product usage, reverse-IP), else its
    contact's account. Incremental by day (see mkt_engagement_days): a run replaces the
    days it processes. event_id is deduplicated within the processed window (the newest
    load wins). -#}

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['account_id', 'day'],
        on_schema_change='fail',
        tags=['daily'],
        pre_hook="{{ mkt_engagement_delete_window() }}"
    )
}}

with events as (

    select
        event_id,
        event_type,
        account_id,
        contact_id,
        occurred_at,
        loaded_day
    from {{ ref('stg_crm__events') }}
    where
        (account_id is not null or contact_id is not null)
        {{ mkt_engagement_filter('occurred_at') }}

),

contacts as (

    select
        contact_id,
        account_id
    from {{ ref('stg_crm__contacts') }}

),

deduplicated as (

    select
        event_id,
        event_type,
        account_id,
        contact_id,
        occurred_at,
        row_number() over (
            partition by event_id
            order by loaded_day desc, occurred_at desc
        ) as version_rank
    from events

),

attributed as (

    select
        deduplicated.event_id,
        deduplicated.event_type,
        coalesce(deduplicated.account_id, contacts.account_id) as account_id,
        cast(deduplicated.occurred_at as date) as day
    from deduplicated
    left join contacts
        on deduplicated.contact_id = contacts.contact_id
    where deduplicated.version_rank = 1

),

final as (

    select
        account_id,
        day,
        {{ mkt_event_type_counts() }}
    from attributed
    where account_id is not null
    group by
        account_id,
        day

)

select * from final
