{#- Canonical invoices, one row per invoice_id. Ingest already typed and validated the rows;
    staging trims and lower-cases identifiers people type. -#}

with source as (

    select * from {{ source('crm', 'invoices') }}
    {{- live_rows(source('crm', 'invoices')) }}

),

renamed as (

    select
        invoice_id,
        account_id,
        subscription_id,
        amount,
        issued_at,
        due_at,
        paid_at,
        status
    from source

)

select * from renamed
