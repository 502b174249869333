{#- The columns of a relation except some, comma-separated and quoted: a portable
    `select * exclude (...)`. Used by staging to pass custom attributes through. -#}
{% macro star_except(relation, except=[], prefix='') -%}
    {%- if not execute -%}{{ return('*') }}{%- endif -%}
    {%- set skip = except | map('lower') | list -%}
    {%- set cols = [] -%}
    {%- for col in adapter.get_columns_in_relation(relation) -%}
        {%- if col.name | lower not in skip -%}
            {%- do cols.append(prefix ~ adapter.quote(col.name)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(cols | join(', ')) }}
{%- endmacro %}

{#- The custom attributes of a raw table: its columns beyond the canonical ones, the
    lineage columns and the deletion mark, with a leading comma (or nothing). -#}
{% macro custom_attributes(relation, canonical, prefix='') -%}
    {%- set extra = star_except(relation, canonical + ['_source_file', '_source_row', '_partition', '_deleted_at'], prefix) -%}
    {%- if extra and extra != '*' -%}, {{ extra }}{%- endif -%}
{%- endmacro %}

{#- The rows of a raw table the CRM has not deleted: ` where _deleted_at is null` when the
    table carries ingest's deletion mark (a source spec declared deletions for it), else
    nothing. Used right after `from` in staging: raw keeps deleted rows, staging drops them. -#}
{% macro live_rows(relation) -%}
    {%- if execute -%}
        {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {%- if '_deleted_at' in names %} where _deleted_at is null{%- endif -%}
    {%- endif -%}
{%- endmacro %}
