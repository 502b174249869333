{#- Canonical accounts, one row per account_id. Ingest already typed and validated the rows;
    staging trims and lower-cases identifiers people type and passes the CRM's custom
    attributes through. -#}

{%- set canonical = [
    'account_id', 'name', 'domain', 'industry', 'employee_count', 'annual_revenue',
    'country', 'region', 'parent_account_id', 'owner_user_id', 'account_type', 'tier',
    'created_at', 'updated_at'
] %}

with source as (

    select * from {{ source('crm', 'accounts') }}
    {{- live_rows(source('crm', 'accounts')) }}

),

renamed as (

    select
        account_id,
        name,
        domain,
        industry,
        employee_count,
        annual_revenue,
        country,
        region,
        parent_account_id,
        owner_user_id,
        account_type,
        tier,
        created_at,
        updated_at,
        lower(trim(domain)) as domain_normalized
        {{ custom_attributes(source('crm', 'accounts'), canonical) }}  -- noqa: LT02, LT05
    from source

)

select * from renamed
