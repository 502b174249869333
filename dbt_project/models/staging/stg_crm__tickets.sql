{#- Canonical tickets, one row per ticket_id. Ingest already typed and validated the rows;
    staging trims and lower-cases identifiers people type. -#}

with source as (

    select * from {{ source('crm', 'tickets') }}
    {{- live_rows(source('crm', 'tickets')) }}

),

renamed as (

    select
        ticket_id,
        account_id,
        contact_id,
        priority,
        created_at,
        resolved_at,
        csat
    from source

)

select * from renamed
