{#- Helpers of the sales models (intermediate/sales, marts/sales). Portable like
    macros/portable.sql: anything engine-specific is dispatched. -#}

{#- The open stages of a deal, in the order a deal moves through them. -#}
{% macro sales_open_stages() -%}
    {{ return(['prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation']) }}
{%- endmacro %}

{#- Position of a stage in the sales process: open stages 1-5, closed_won 6 (the end of
    the road), closed_lost null (it is not a step forward). -#}
{% macro sales_stage_order(stage) -%}
    case {{ stage }}
        {%- for s in sales_open_stages() %}
        when '{{ s }}' then {{ loop.index }}
        {%- endfor %}
        when 'closed_won' then {{ sales_open_stages() | length + 1 }}
    end
{%- endmacro %}

{#- The stage history of the deals that exist (the history of a quarantined deal has no
    parent and is left out): opportunity_id, changed_at, the history row's `columns`, then
    the deal's `deal_columns` (each a column of stg_crm__opportunities, `x as y` to rename). -#}
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
