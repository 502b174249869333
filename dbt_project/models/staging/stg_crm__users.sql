{#- Canonical users, one row per user_id. Ingest already typed and validated the rows;
    staging trims and lower-cases identifiers people type. -#}

with source as (

    select * from {{ source('crm', 'users') }}
    {{- live_rows(source('crm', 'users')) }}

),

renamed as (

    select
        user_id,
        name,
        lower(trim(email)) as email,
        team_id,
        role,
        hourly_cost,
        active
    from source

)

select * from renamed
