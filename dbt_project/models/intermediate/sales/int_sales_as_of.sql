{#- The data's "today": the newest moment anything happened or changed in the CRM data,
    so that ages, open durations and "overdue" mean the same on every rerun of the same
    data (never the wall clock). -#}

with latest as (

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

),

as_of as (

    select max(latest_at) as as_of_at
    from latest

)

select
    as_of_at,
    cast(as_of_at as date) as as_of_date
from as_of
