{#- Canonical events, one row per event_id. Ingest already typed and validated the rows;
    staging maps the CRM's own event type onto its canonical value (stg_crm__vocabulary:
    `other` outside the canonical list; the label stays in event_type_label). -#}

with source as (

    select * from {{ source('crm', 'events') }}
    {{- live_rows(source('crm', 'events')) }}

),

event_types as (

    {{ vocabulary_lookup('event_types', 'event_type') }}

),

renamed as (

    select
        source.event_id,
        source.occurred_at,
        coalesce(event_types.event_type_value, source.event_type) as event_type,
        source.contact_id,
        source.lead_id,
        source.account_id,
        source.anonymous_id,
        source.session_id,
        source.campaign_id,
        source.properties,
        cast(source.occurred_at as date) as event_date,
        source._partition as loaded_day,
        source.event_type as event_type_label
    from source
    left join event_types
        on source.event_type = event_types.event_type_key

)

select * from renamed
