{#- Helpers of the marketing and engagement models (marts/marketing, marts/engagement).
    Portable like macros/portable.sql: dbt's cross-database macros only. -#}

{#- Member statuses that count as a response to a campaign: a click or more. -#}
{% macro mkt_responded_statuses() -%}
    {{ return(['clicked', 'responded', 'registered', 'attended']) }}
{%- endmacro %}

{#- The event types of the contract (crmlens.contracts.EVENT_TYPES), one count column each
    in the engagement models. -#}
{% macro mkt_event_types() -%}
    {{ return(['page_view', 'pricing_view', 'email_open', 'email_click', 'email_reply', 'form_submit', 'demo_request', 'content_download', 'webinar_attend', 'login', 'feature_use']) }}
{%- endmacro %}

{#- One count column per event type, then events_total (aggregates over `event_type`). -#}
{% macro mkt_event_type_counts(event_type='event_type') -%}
    {%- for t in mkt_event_types() %}
        count(case when {{ event_type }} = '{{ t }}' then 1 end) as {{ t }},
    {%- endfor %}
        count(*) as events_total
{%- endmacro %}

{#- The events of the days an engagement model processes (mkt_engagement_filter) that
    `keep` selects, each event_id once (the newest load wins): event_id, event_type,
    `columns` and occurred_at. -#}
{% macro mkt_engagement_events(columns, keep) -%}
    {%- set selected = (['event_id', 'event_type'] + columns + ['occurred_at']) | join(',\n        ') %}
    select
        {{ selected }}
    from (
        select
            {{ selected }},
            row_number() over (
                partition by event_id
                order by loaded_day desc, occurred_at desc
            ) as version_rank
        from {{ ref('stg_crm__events') }}
        where
            {{ keep }}
            {{ mkt_engagement_filter('occurred_at') }}
    ) as versions
    where version_rank = 1
{%- endmacro %}

{#- Per `entity` and day (UTC day of occurred_at) of `events`: one count per event type,
    then events_total. Rows without the entity are left out. -#}
{% macro mkt_daily_event_counts(entity, events) -%}
    select
        {{ entity }},
        cast(occurred_at as date) as day,
        {{ mkt_event_type_counts() }}
    from {{ events }}
    where {{ entity }} is not null
    group by
        {{ entity }},
        cast(occurred_at as date)
{%- endmacro %}

{#- The days an engagement model processes, as [first, last] ISO dates (either may be
    none = unbounded), or none for everything:

    - a full build (first run, --full-refresh, unit test): everything;
    - an incremental run with var min_day and/or max_day set (Dagster sets both from the
      partition, inclusive): those days;
    - an incremental run without them: the days from the newest day already in the table.

    The newest day is read when the model is compiled, before anything is deleted, so
    the model's filter and its pre-hook see the same window. -#}
{% macro mkt_engagement_days() -%}
    {%- if not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {#- The window comes from vars, or from the environment (what Dagster sets: a changed
        env var re-parses only what reads it, a changed var re-parses the whole project). -#}
    {%- set min_day = (var('min_day', '') or env_var('CRMLENS_DBT_MIN_DAY', '')) | string | trim -%}
    {%- set max_day = (var('max_day', '') or env_var('CRMLENS_DBT_MAX_DAY', '')) | string | trim -%}
    {%- if min_day or max_day -%}
        {{ return([min_day or none, max_day or none]) }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set newest = run_query('select max(day) from ' ~ this) -%}
    {%- set value = newest.columns[0].values()[0] if newest and newest.rows | length > 0 else none -%}
    {%- if value is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return([value | string, none]) }}
{%- endmacro %}

{#- A predicate (with a leading `and`) restricting an events timestamp to the processed
    days; empty on a full build. Written on the timestamp so that the filter reaches the
    events table's zone maps. -#}
{% macro mkt_engagement_filter(ts) -%}
    {%- set days = mkt_engagement_days() -%}
    {%- if days -%}
        {%- if days[0] %}
        and {{ ts }} >= cast('{{ days[0] }}' as {{ dbt.type_timestamp() }})
        {%- endif -%}
        {%- if days[1] %}
        and {{ ts }} < {{ dbt.dateadd('day', 1, "cast('" ~ days[1] ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of the engagement models: on an incremental run, delete the processed days
    from the table first (same transaction), so that a reloaded day is replaced as a whole
    (a contact whose events of that day were removed or quarantined loses its row), like
    ingest replaces a day of events. delete+insert on the grain then only inserts. -#}
{% macro mkt_engagement_delete_window() -%}
    {%- set days = mkt_engagement_days() -%}
    {%- if days -%}
        delete from {{ this }}
        where true
        {%- if days[0] %} and day >= cast('{{ days[0] }}' as date){% endif %}
        {%- if days[1] %} and day <= cast('{{ days[1] }}' as date){% endif %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
