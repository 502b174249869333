{#- Canonical opportunity_stage_history, one row per opportunity_id, changed_at. Ingest
    already typed and validated the rows; staging trims and lower-cases identifiers people
    type. -#}

with source as (

    select * from {{ source('crm', 'opportunity_stage_history') }}
    {{- live_rows(source('crm', 'opportunity_stage_history')) }}

),

renamed as (

    select
        opportunity_id,
        changed_at,
        from_stage,
        to_stage,
        amount,
        expected_close_date
    from source

)

select * from renamed
