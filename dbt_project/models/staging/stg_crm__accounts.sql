{#- Canonical accounts, one row per account_id. Ingest already typed and validated the rows;
    staging trims and lower-cases identifiers people type, maps the CRM's own account types
    and tiers onto canonical values (stg_crm__vocabulary; the labels stay in
    account_type_label and tier_label) and passes the CRM's custom attributes through. -#}

{%- set canonical = [
    'account_id', 'name', 'domain', 'industry', 'employee_count', 'annual_revenue',
    'country', 'region', 'parent_account_id', 'owner_user_id', 'account_type', 'tier',
    'created_at', 'updated_at'
] %}

with source as (

    select * from {{ source('crm', 'accounts') }}
    {{- live_rows(source('crm', 'accounts')) }}

),

account_types as (

    {{ vocabulary_lookup('account_types', 'account_type') }}

),

tiers as (

    {{ vocabulary_lookup('account_tiers', 'tier') }}

),

renamed as (

    select
        source.account_id,
        source.name,
        source.domain,
        source.industry,
        source.employee_count,
        source.annual_revenue,
        source.country,
        source.region,
        source.parent_account_id,
        source.owner_user_id,
        coalesce(account_types.account_type_value, source.account_type) as account_type,
        coalesce(tiers.tier_value, source.tier) as tier,
        source.created_at,
        source.updated_at,
        lower(trim(source.domain)) as domain_normalized,
        source.account_type as account_type_label,
        source.tier as tier_label
        {{ custom_attributes(source('crm', 'accounts'), canonical, 'source.') }}  -- noqa: LT02, LT05
    from source
    left join account_types
        on source.account_type = account_types.account_type_key
    left join tiers
        on source.tier = tiers.tier_key

)

select * from renamed
