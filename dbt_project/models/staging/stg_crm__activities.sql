{#- Canonical activities, one row per activity_id. Ingest already typed and validated the rows;
    staging maps the CRM's own activity type onto its canonical value (stg_crm__vocabulary:
    `other` outside the canonical list; the label stays in activity_type_label). -#}

with source as (

    select * from {{ source('crm', 'activities') }}
    {{- live_rows(source('crm', 'activities')) }}

),

activity_types as (

    {{ vocabulary_lookup('activity_types', 'activity_type') }}

),

renamed as (

    select
        source.activity_id,
        coalesce(activity_types.activity_type_value, source.activity_type) as activity_type,
        source.activity_type as activity_type_label,
        source.account_id,
        source.contact_id,
        source.lead_id,
        source.opportunity_id,
        source.user_id,
        source.occurred_at,
        source.duration_minutes,
        source.outcome,
        source.due_at,
        source.completed_at
    from source
    left join activity_types
        on source.activity_type = activity_types.activity_type_key

)

select * from renamed
