{#- Canonical campaigns, one row per campaign_id. Ingest already typed and validated the rows;
    staging maps the CRM's own channel onto its canonical value (stg_crm__vocabulary:
    `other` outside the canonical list; the label stays in channel_label). -#}

with source as (

    select * from {{ source('crm', 'campaigns') }}
    {{- live_rows(source('crm', 'campaigns')) }}

),

channels as (

    {{ vocabulary_lookup('campaign_channels', 'channel') }}

),

renamed as (

    select
        source.campaign_id,
        source.name,
        coalesce(channels.channel_value, source.channel) as channel,
        source.channel as channel_label,
        source.started_at,
        source.ended_at,
        source.cost
    from source
    left join channels
        on source.channel = channels.channel_key

)

select * from renamed
