{#- Canonical campaign_members, one row per campaign_id, member_id. Ingest already typed and
    validated the rows; staging trims and lower-cases identifiers people type. -#}

with source as (

    select * from {{ source('crm', 'campaign_members') }}
    {{- live_rows(source('crm', 'campaign_members')) }}

),

renamed as (

    select
        campaign_id,
        member_id,
        member_type,
        enrolled_at,
        status
    from source

)

select * from renamed
