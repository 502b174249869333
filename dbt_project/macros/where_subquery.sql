{#- A data test's `where` config, with one placeholder of ours: `__daily_window__`, the
    day window of an incremental run of the event models. The window travels in the
    environment (CRMLENS_DBT_MIN_DAY, set by Dagster from the run's partitions) and is
    read here, when the test compiles: an env var in dbt_project.yml itself would make
    every change of window re-parse the whole project (about ten seconds a build). -#}
{% macro duckdb__get_where_subquery(relation) -%}
    {%- set where = config.get('where') or '' -%}
    {%- if '__daily_window__' in where -%}
        {%- set min_day = env_var('CRMLENS_DBT_MIN_DAY', '') -%}
        {%- set window -%}
            day >= cast(coalesce(nullif('{{ min_day }}', ''), '1900-01-01') as date)
        {%- endset -%}
        {%- set where = where | replace('__daily_window__', window) -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
