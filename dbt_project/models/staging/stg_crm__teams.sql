{#- Canonical teams, one row per team_id. Ingest already typed and validated the rows;
    staging trims and lower-cases identifiers people type. -#}

with source as (

    select * from {{ source('crm', 'teams') }}
    {{- live_rows(source('crm', 'teams')) }}

),

renamed as (

    select
        team_id,
        name,
        region,
        manager_user_id
    from source

)

select * from renamed
