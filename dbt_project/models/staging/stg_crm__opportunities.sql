{#- Canonical opportunities, one row per opportunity_id. Ingest already typed and validated
    the rows; staging trims and lower-cases identifiers people type and passes the CRM's
    custom attributes through. -#}

{%- set canonical = [
    'opportunity_id', 'account_id', 'owner_user_id', 'name', 'stage', 'amount',
    'currency', 'expected_close_date', 'created_at', 'closed_at', 'is_won',
    'lost_reason', 'competitor', 'product_line', 'forecast_category', 'updated_at'
] %}

with source as (

    select * from {{ source('crm', 'opportunities') }}
    {{- live_rows(source('crm', 'opportunities')) }}

),

renamed as (

    select
        opportunity_id,
        account_id,
        owner_user_id,
        name,
        stage,
        amount,
        currency,
        expected_close_date,
        created_at,
        closed_at,
        is_won,
        lost_reason,
        competitor,
        product_line,
        forecast_category,
        updated_at
        {{ custom_attributes(source('crm', 'opportunities'), canonical) }}  -- noqa: LT02, LT05
    from source

)

select * from renamed
