{#- Canonical contacts, one row per contact_id. Ingest already typed and validated the rows;
    staging trims and lower-cases identifiers people type and passes the CRM's custom
    attributes through. -#}

{%- set canonical = [
    'contact_id', 'account_id', 'first_name', 'last_name', 'email', 'phone', 'title',
    'seniority', 'lifecycle_stage', 'lead_source', 'opt_in', 'do_not_contact',
    'created_at', 'updated_at'
] %}

with source as (

    select * from {{ source('crm', 'contacts') }}
    {{- live_rows(source('crm', 'contacts')) }}

),

renamed as (

    select
        contact_id,
        account_id,
        first_name,
        last_name,
        lower(trim(email)) as email,
        phone,
        title,
        seniority,
        lifecycle_stage,
        lead_source,
        opt_in,
        do_not_contact,
        created_at,
        updated_at
        {{ custom_attributes(source('crm', 'contacts'), canonical) }}  -- noqa: LT02, LT05
    from source

)

select * from renamed
