{#- Canonical leads, one row per lead_id. Ingest already typed and validated the rows;
    staging trims and lower-cases identifiers people type and passes the CRM's custom
    attributes through. -#}

{%- set canonical = [
    'lead_id', 'contact_id', 'account_id', 'company', 'email', 'source', 'status',
    'owner_user_id', 'created_at', 'converted_at', 'converted_opportunity_id',
    'disqualified_at', 'disqualified_reason', 'updated_at'
] %}

with source as (

    select * from {{ source('crm', 'leads') }}
    {{- live_rows(source('crm', 'leads')) }}

),

renamed as (

    select
        lead_id,
        contact_id,
        account_id,
        company,
        lower(trim(email)) as email,
        source,
        status,
        owner_user_id,
        created_at,
        converted_at,
        converted_opportunity_id,
        disqualified_at,
        disqualified_reason,
        updated_at
        {{ custom_attributes(source('crm', 'leads'), canonical) }}  -- noqa: LT02, LT05
    from source

)

select * from renamed
