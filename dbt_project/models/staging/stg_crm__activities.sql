{#- Canonical activities, one row per activity_id. Ingest already typed and validated the rows;
    staging trims and lower-cases identifiers people type. -#}

with source as (

    select * from {{ source('crm', 'activities') }}
    {{- live_rows(source('crm', 'activities')) }}

),

renamed as (

    select
        activity_id,
        activity_type,
        account_id,
        contact_id,
        lead_id,
        opportunity_id,
        user_id,
        occurred_at,
        duration_minutes,
        outcome,
        due_at,
        completed_at
    from source

)

select * from renamed
