{#- Canonical leads, one row per lead_id. Ingest already typed and validated the rows;
    staging trims and lower-cases identifiers people type, maps the CRM's own status onto
    its canonical value (stg_crm__vocabulary; the label stays in status_label) and passes
    the CRM's custom attributes through. -#}

{%- set canonical = [
    'lead_id', 'contact_id', 'account_id', 'company', 'email', 'source', 'status',
    'owner_user_id', 'created_at', 'converted_at', 'converted_opportunity_id',
    'disqualified_at', 'disqualified_reason', 'updated_at'
] %}

with source as (

    select * from {{ source('crm', 'leads') }}
    {{- live_rows(source('crm', 'leads')) }}

),

statuses as (

    {{ vocabulary_lookup('lead_statuses', 'status') }}

),

renamed as (

    select
        source.lead_id,
        source.contact_id,
        source.account_id,
        source.company,
        lower(trim(source.email)) as email,
        source.source,
        coalesce(statuses.status_value, source.status) as status,
        source.status as status_label,
        source.owner_user_id,
        source.created_at,
        source.converted_at,
        source.converted_opportunity_id,
        source.disqualified_at,
        source.disqualified_reason,
        source.updated_at
        {{ custom_attributes(source('crm', 'leads'), canonical, 'source.') }}  -- noqa: LT02, LT05
    from source
    left join statuses
        on source.status = statuses.status_key

)

select * from renamed
