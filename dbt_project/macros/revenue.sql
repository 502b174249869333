{#- Helpers of the revenue models (intermediate/revenue, marts/revenue, marts/core/dim_accounts).
    Portable like macros/portable.sql: dbt's cross-database macros only. -#}

{#- A money amount rounded to cents as an exact decimal, so that sums and differences of MRR
    add up to the cent (doubles leave 1e-13 residues that would read as tiny expansions). -#}
{% macro rev_money(expr) -%}
    round(cast({{ expr }} as {{ dbt.type_numeric() }}), 2)
{%- endmacro %}

{#- The instant a month (a date, its first day) ends: the first instant of the next month.
    "Active at the end of the month" means started before it and not ended before it. -#}
{% macro rev_month_end(month) -%}
    {{ dbt.dateadd('month', 1, month) }}
{%- endmacro %}

{#- A subscription is active at instant `at`: started_at <= the last instant before `at`
    and (ended_at is null or ended_at > that instant); with `at` the start of the next
    month this is the month-end rule of int_account_mrr_monthly. -#}
{% macro rev_active_at(started_at, ended_at, at) -%}
    ({{ started_at }} < {{ at }} and ({{ ended_at }} is null or {{ ended_at }} >= {{ at }}))
{%- endmacro %}

{#- Invoice statuses that are not revenue: never sent (draft) or cancelled (void). -#}
{% macro rev_unbilled_invoice_statuses() -%}
    {{ return(['draft', 'void']) }}
{%- endmacro %}

{#- True when an invoice counts as invoiced revenue (null status counts: it was issued). -#}
{% macro rev_is_billed(status) -%}
    ({{ status }} is null or {{ status }} not in ('{{ rev_unbilled_invoice_statuses() | join("', '") }}'))
{%- endmacro %}

{#- A double-precision float type. dbt.type_float() is a 4-byte FLOAT on DuckDB, too coarse
    for rates and weights; `double precision` means 8 bytes on DuckDB and PostgreSQL. -#}
{% macro rev_double() -%}
    double precision
{%- endmacro %}

{#- A ratio as a double, null when the denominator is 0 or null (integer or decimal
    division would truncate or keep the decimal's scale on some engines). -#}
{% macro rev_ratio(numerator, denominator) -%}
    cast({{ numerator }} as {{ rev_double() }}) / nullif(cast({{ denominator }} as {{ rev_double() }}), 0)
{%- endmacro %}

{#- A timestamp later than any real one: the open end of a subscription in interval logic. -#}
{% macro rev_far_future() -%}
    cast('9999-12-31 00:00:00' as {{ dbt.type_timestamp() }})
{%- endmacro %}
