{#- Canonical opportunity_stage_history, one row per opportunity_id, changed_at. Ingest
    already typed and validated the rows; staging keeps the CRM's own stage labels and adds
    what the stage entered means (stg_crm__vocabulary): open, won or lost, and its position. -#}

with source as (

    select * from {{ source('crm', 'opportunity_stage_history') }}
    {{- live_rows(source('crm', 'opportunity_stage_history')) }}

),

stages as (

    {{ vocabulary_lookup('opportunity_stages', 'stage') }}

),

renamed as (

    select
        source.opportunity_id,
        source.changed_at,
        source.from_stage,
        source.to_stage,
        coalesce(stages.stage_meaning, 'open') as to_stage_meaning,
        stages.stage_position as to_stage_position,
        source.amount,
        source.expected_close_date
    from source
    left join stages
        on source.to_stage = stages.stage_key

)

select * from renamed
