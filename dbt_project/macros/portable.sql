{#- Portable helpers. Mart SQL calls these (or dbt's own cross-database macros:
    dbt.datediff, dbt.dateadd, dbt.date_trunc, dbt.type_*), never DuckDB-only
    functions directly, so another dbt target can run the same models. -#}

{#- Days between two timestamps as a fraction (hours / 24). -#}
{% macro days_between(start, end) -%}
    {{ return(adapter.dispatch('days_between', 'crmlens')(start, end)) }}
{%- endmacro %}
{% macro default__days_between(start, end) -%}
    ({{ dbt.datediff(start, end, 'second') }} / 86400.0)
{%- endmacro %}

{#- One row per day from start to end (inclusive), as column `day` (a date). The spines'
    generate_series and quoted interval are DuckDB's and PostgreSQL's alike. -#}
{% macro day_spine(start, end) -%}
    {{ return(adapter.dispatch('day_spine', 'crmlens')(start, end)) }}
{%- endmacro %}
{% macro default__day_spine(start, end) -%}
    select cast(d as date) as day
    from generate_series(cast({{ start }} as date), cast({{ end }} as date), interval '1 day') as t(d)
{%- endmacro %}

{#- One row per month start from start to end (inclusive), as column `month`. -#}
{% macro month_spine(start, end) -%}
    {{ return(adapter.dispatch('month_spine', 'crmlens')(start, end)) }}
{%- endmacro %}
{% macro default__month_spine(start, end) -%}
    select cast(d as date) as month
    from generate_series(
        cast({{ dbt.date_trunc('month', start) }} as date),
        cast({{ dbt.date_trunc('month', end) }} as date),
        interval '1 month'
    ) as t(d)
{%- endmacro %}

{#- a / b, null when b is 0 or null. -#}
{% macro safe_divide(numerator, denominator) -%}
    ({{ numerator }}) / nullif({{ denominator }}, 0)
{%- endmacro %}

{#- Day of week 1 (Monday) .. 7 (Sunday), and hour of day. -#}
{% macro iso_weekday(ts) -%}
    {{ return(adapter.dispatch('iso_weekday', 'crmlens')(ts)) }}
{%- endmacro %}
{% macro duckdb__iso_weekday(ts) -%} isodow({{ ts }}) {%- endmacro %}
{% macro postgres__iso_weekday(ts) -%} extract(isodow from {{ ts }}) {%- endmacro %}
{% macro hour_of(ts) -%} extract(hour from {{ ts }}) {%- endmacro %}

{#- A lower-cased, trimmed text with everything but letters, digits and spaces removed. -#}
{% macro normalize_text(expr) -%}
    {{ return(adapter.dispatch('normalize_text', 'crmlens')(expr)) }}
{%- endmacro %}
{% macro default__normalize_text(expr) -%}
    trim(regexp_replace(lower({{ expr }}), '[^a-z0-9 ]', '', 'g'))
{%- endmacro %}
