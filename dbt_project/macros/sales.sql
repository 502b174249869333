{#- Helpers of the sales models (intermediate/sales, marts/sales). Portable like
    macros/portable.sql: anything engine-specific is dispatched. -#}

{#- The canonical open stages, for the days_in_<stage> columns of fct_opportunities (a
    CRM's own stages are rows: int_opportunities_stage_durations). Stage analytics read
    the CRM's own stages, their meaning and position (stg_crm__vocabulary). -#}
{% macro sales_canonical_open_stages() -%}
    {{ return(['prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation']) }}
{%- endmacro %}

{#- Order of a stage in the sales process, from its position and meaning: open stages and
    won in the CRM's order; lost null (it is not a step forward). -#}
{% macro sales_stage_order(position, meaning) -%}
    case when {{ meaning }} <> 'lost' then {{ position }} end
{%- endmacro %}

{#- The stage history of the deals that exist (the history of a quarantined deal has no
    parent and is left out): opportunity_id, changed_at, the history row's `columns`, then
    the deal's `deal_columns` (each a column of stg_crm__opportunities, `x as y` to rename).
    A deal without any history row (a CRM that keeps none) gets the rows its own record
    implies: it entered its stage when created (a closed deal: the first open stage in use)
    and, closed, its closing stage when it closed. -#}
{% macro sales_known_history(columns, deal_columns=[]) -%}
    select
        history.opportunity_id,
        history.changed_at
        {%- for column in columns %},
        history.{{ column }}
        {%- endfor %}
        {%- for column in deal_columns %},
        opportunities.{{ column }}
        {%- endfor %}
    from {{ ref('stg_crm__opportunity_stage_history') }} as history
    inner join {{ ref('stg_crm__opportunities') }} as opportunities
        on history.opportunity_id = opportunities.opportunity_id

    union all

    select
        implied.opportunity_id,
        implied.changed_at
        {%- for column in columns %},
        implied.{{ column }}
        {%- endfor %}
        {%- for column in deal_columns %},
        opportunities.{{ column }}
        {%- endfor %}
    from ({{ sales_implied_history() }}) as implied
    inner join {{ ref('stg_crm__opportunities') }} as opportunities
        on implied.opportunity_id = opportunities.opportunity_id
{%- endmacro %}

{#- The history rows a deal without any implies (see sales_known_history). -#}
{% macro sales_implied_history() -%}
    {%- set deals = ref('stg_crm__opportunities') %}
    {%- set history = ref('stg_crm__opportunity_stage_history') %}
    select
        deals.opportunity_id,
        deals.created_at as changed_at,
        cast(null as {{ dbt.type_string() }}) as from_stage,
        case when deals.stage_meaning = 'open' then deals.stage else first_open.stage end
            as to_stage,
        'open' as to_stage_meaning,
        case
            when deals.stage_meaning = 'open' then deals.stage_position
            else first_open.stage_position
        end as to_stage_position,
        deals.amount,
        deals.expected_close_date
    from {{ deals }} as deals
    left join (
        select
            stage,
            stage_position
        from {{ deals }}
        where stage_meaning = 'open'
        order by stage_position, stage
        limit 1
    ) as first_open on 1 = 1
    where
        not exists (
            select 1 from {{ history }} as history
            where history.opportunity_id = deals.opportunity_id
        )
        and (deals.stage_meaning = 'open' or first_open.stage is not null)

    union all

    select
        deals.opportunity_id,
        coalesce(deals.closed_at, deals.updated_at) as changed_at,
        first_open.stage as from_stage,
        deals.stage as to_stage,
        deals.stage_meaning as to_stage_meaning,
        deals.stage_position as to_stage_position,
        deals.amount,
        deals.expected_close_date
    from {{ deals }} as deals
    left join (
        select stage
        from {{ deals }}
        where stage_meaning = 'open'
        order by stage_position, stage
        limit 1
    ) as first_open on 1 = 1
    where
        deals.stage_meaning <> 'open'
        and not exists (
            select 1 from {{ history }} as history
            where history.opportunity_id = deals.opportunity_id
        )
{%- endmacro %}

{#- The rows of `relation` (activities, events) linked to a lead: by lead_id, or else by
    the lead's contact (a row linked both ways counts once). lead_id, then the row's
    `columns`. -#}
{% macro sales_lead_links(relation, columns) -%}
    {%- for link in ['lead', 'contact'] %}
    select
        leads.lead_id
        {%- for column in columns %},
        linked.{{ column }}
        {%- endfor %}
    from {{ ref('stg_crm__leads') }} as leads
    inner join {{ relation }} as linked
        {%- if link == 'lead' %}
        on leads.lead_id = linked.lead_id
        {%- else %}
        on leads.contact_id = linked.contact_id
        and (linked.lead_id is null or leads.lead_id <> linked.lead_id)
        {%- endif %}
    {%- if not loop.last %}

    union all
    {% endif %}
    {%- endfor %}
{%- endmacro %}

{#- Marketing or sales channel of a touch, from an event type or an activity type. -#}
{% macro sales_event_touch_channel(event_type) -%}
    case
        when {{ event_type }} in ('page_view', 'pricing_view', 'form_submit', 'demo_request', 'content_download') then 'web'
        when {{ event_type }} in ('email_open', 'email_click', 'email_reply') then 'email'
        when {{ event_type }} = 'webinar_attend' then 'webinar'
        when {{ event_type }} in ('login', 'feature_use') then 'product'
        else 'other_event'
    end
{%- endmacro %}
{% macro sales_activity_touch_channel(activity_type) -%}
    case
        when {{ activity_type }} = 'call' then 'call'
        when {{ activity_type }} = 'email' then 'sales_email'
        when {{ activity_type }} = 'sms' then 'sms'
        when {{ activity_type }} in ('meeting', 'demo') then 'meeting'
        when {{ activity_type }} = 'task' then 'task'
        when {{ activity_type }} = 'note' then 'note'
        else 'other_activity'
    end
{%- endmacro %}

{#- a / b as a double, null when b is 0 or null (integer a / b truncates on PostgreSQL;
    dbt.type_float() is a 4-byte float on DuckDB). -#}
{% macro sales_ratio(numerator, denominator) -%}
    cast({{ numerator }} as double precision) / nullif({{ denominator }}, 0)
{%- endmacro %}

{#- Median of an expression (an aggregate). DuckDB has `median`; PostgreSQL and most
    others spell it as an ordered-set aggregate. -#}
{% macro sales_median(expr) -%}
    {{ return(adapter.dispatch('sales_median', 'crmlens')(expr)) }}
{%- endmacro %}
{% macro default__sales_median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}
{% macro duckdb__sales_median(expr) -%}
    median({{ expr }})
{%- endmacro %}
