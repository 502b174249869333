{#- Canonical campaigns, one row per campaign_id. Ingest already typed and validated the rows;
    staging trims and lower-cases identifiers people type. -#}

with source as (

    select * from {{ source('crm', 'campaigns') }}
    {{- live_rows(source('crm', 'campaigns')) }}

),

renamed as (

    select
        campaign_id,
        name,
        channel,
        started_at,
        ended_at,
        cost
    from source

)

select * from renamed
