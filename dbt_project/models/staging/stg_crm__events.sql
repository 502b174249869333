{#- Canonical events, one row per event_id. Ingest already typed and validated the rows;
    staging trims and lower-cases identifiers people type. -#}

with source as (

    select * from {{ source('crm', 'events') }}
    {{- live_rows(source('crm', 'events')) }}

),

renamed as (

    select
        event_id,
        occurred_at,
        event_type,
        contact_id,
        lead_id,
        account_id,
        anonymous_id,
        session_id,
        campaign_id,
        properties,
        cast(occurred_at as date) as event_date,
        _partition as loaded_day
    from source

)

select * from renamed
