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

    select
        event_id,
        event_type,
        lead_id,
        occurred_at,
        loaded_day
    from {{ ref('stg_crm__events') }}
    where
        lead_id is not null
        {{ mkt_engagement_filter('occurred_at') }}

),

deduplicated as (

    select
        event_id,
        event_type,
        lead_id,
        occurred_at,
        row_number() over (
            partition by event_id
            order by loaded_day desc, occurred_at desc
        ) as version_rank
    from events

),

final as (

    select
        lead_id,
        cast(occurred_at as date) as day,
        {{ mkt_event_type_counts() }}
    from deduplicated
    where version_rank = 1
    group by
        lead_id,
        cast(occurred_at as date)

)

select * from final
