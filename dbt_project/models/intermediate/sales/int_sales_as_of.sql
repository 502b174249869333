{#- The data's "today": the export date the source's spec declares (ops.source_settings),
    else the newest moment anything happened or changed in the CRM data, so that ages,
    open durations and "overdue" mean the same on every rerun of the same data (never the
    wall clock). -#}

with declared as (

    select max(as_of) as as_of_at from {{ source('ops', 'source_settings') }}

),

latest as (

    select max(occurred_at) as latest_at from {{ ref('stg_crm__activities') }}
    union all
    select max(occurred_at) as latest_at from {{ ref('stg_crm__events') }}
    union all
    select max(changed_at) as latest_at from {{ ref('stg_crm__opportunity_stage_history') }}
    union all
    select max(updated_at) as latest_at from {{ ref('stg_crm__leads') }}
    union all
    select max(created_at) as latest_at from {{ ref('stg_crm__leads') }}
    union all
    select max(updated_at) as latest_at from {{ ref('stg_crm__opportunities') }}
    union all
    select max(created_at) as latest_at from {{ ref('stg_crm__opportunities') }}
    union all
    -- a source without sales data (customers, billing) still has a today
    select max(started_at) as latest_at from {{ ref('stg_crm__subscriptions') }}
    union all
    select max(issued_at) as latest_at from {{ ref('stg_crm__invoices') }}
    union all
    select max(created_at) as latest_at from {{ ref('stg_crm__tickets') }}
    union all
    select max(updated_at) as latest_at from {{ ref('stg_crm__accounts') }}

),

as_of as (

    select coalesce(max(declared.as_of_at), max(latest.latest_at)) as as_of_at
    from latest
    cross join declared

)

select
    as_of_at,
    cast(as_of_at as date) as as_of_date
from as_of
