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

    {{ mkt_engagement_events(
        ['account_id', 'contact_id'],
        '(account_id is not null or contact_id is not null)'
    ) }}

),

contacts as (

    select
        contact_id,
        account_id
    from {{ ref('stg_crm__contacts') }}

),

attributed as (

    select
        events.event_id,
        events.event_type,
        coalesce(events.account_id, contacts.account_id) as account_id,
        events.occurred_at
    from events
    left join contacts
        on events.contact_id = contacts.contact_id

),

final as (

    {{ mkt_daily_event_counts('account_id', 'attributed') }}

)

select * from final
