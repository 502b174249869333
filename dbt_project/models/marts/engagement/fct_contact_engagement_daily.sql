{#- Events per contact and day (UTC day of occurred_at), one count per event type.
    Incremental by day (see mkt_engagement_days): a run replaces the days it processes.
    event_id is deduplicated within the processed window (the newest load wins). -#}

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['contact_id', 'day'],
        on_schema_change='fail',
        tags=['daily'],
        pre_hook="{{ mkt_engagement_delete_window() }}"
    )
}}

with events as (

    {{ mkt_engagement_events(['contact_id'], 'contact_id is not null') }}

),

final as (

    {{ mkt_daily_event_counts('contact_id', 'events') }}

)

select * from final
