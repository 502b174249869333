{#- Canonical opportunities, one row per opportunity_id. Ingest already typed and validated
    the rows; staging keeps the CRM's own stage label in `stage` and adds what it means
    (stg_crm__vocabulary): open, won or lost, its position in the sales process and its
    default probability. A deal without an account is kept under `unknown_account`. -#}

{%- set canonical = [
    'opportunity_id', 'account_id', 'owner_user_id', 'name', 'stage', 'amount',
    'currency', 'expected_close_date', 'created_at', 'closed_at', 'is_won',
    'lost_reason', 'competitor', 'product_line', 'forecast_category', 'updated_at'
] %}

with source as (

    select * from {{ source('crm', 'opportunities') }}
    {{- live_rows(source('crm', 'opportunities')) }}

),

stages as (

    {{ vocabulary_lookup('opportunity_stages', 'stage') }}

),

renamed as (

    select
        source.opportunity_id,
        coalesce(source.account_id, 'unknown_account') as account_id,
        source.owner_user_id,
        source.name,
        source.stage,
        coalesce(stages.stage_meaning, {{ stage_meaning_from_outcome('source.is_won') }})
            as stage_meaning,
        stages.stage_position,
        stages.stage_probability,
        source.amount,
        source.currency,
        source.expected_close_date,
        source.created_at,
        source.closed_at,
        -- What the stage means when the CRM does not say whether a closed deal was won.
        coalesce(
            source.is_won,
            case stages.stage_meaning when 'won' then true when 'lost' then false end
        ) as is_won,
        source.lost_reason,
        source.competitor,
        source.product_line,
        source.forecast_category,
        source.updated_at
        {{ custom_attributes(source('crm', 'opportunities'), canonical, 'source.') }}  -- noqa: LT02, LT05
    from source
    left join stages
        on source.stage = stages.stage_key

)

select * from renamed
