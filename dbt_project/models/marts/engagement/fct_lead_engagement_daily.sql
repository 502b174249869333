{#- Events per lead and day (UTC day of occurred_at), one count per event type, for the
    events that carry a lead_id. Incremental by day (see mkt_engagement_days): a run
    replaces the days it processes. event_id is deduplicated within the processed window
    (the newest load wins). -#}

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['lead_id', 'day'],
        on_schema_change='fail',
        tags=['daily'],
        pre_hook="{{ mkt_engagement_delete_window() }}"
    )
}}

with events as (

    {{ mkt_engagement_events(['lead_id'], 'lead_id is not null') }}

),

final as (

    {{ mkt_daily_event_counts('lead_id', 'events') }}

)

select * from final
