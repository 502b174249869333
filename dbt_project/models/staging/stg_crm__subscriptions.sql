{#- Canonical subscriptions, one row per subscription_id. Ingest already typed and validated
    the rows; staging trims and lower-cases identifiers people type and passes the CRM's
    custom attributes through. -#}

{%- set canonical = [
    'subscription_id', 'account_id', 'plan', 'seats', 'mrr', 'started_at',
    'renewal_date', 'ended_at', 'status', 'cancel_reason'
] %}

with source as (

    select * from {{ source('crm', 'subscriptions') }}
    {{- live_rows(source('crm', 'subscriptions')) }}

),

renamed as (

    select
        subscription_id,
        account_id,
        plan,
        seats,
        mrr,
        started_at,
        renewal_date,
        ended_at,
        status,
        cancel_reason
        {{ custom_attributes(source('crm', 'subscriptions'), canonical) }}  -- noqa: LT02, LT05
    from source

)

select * from renamed
