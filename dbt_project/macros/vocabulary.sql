{#- The CRM's own vocabularies (raw.vocabulary, as stg_crm__vocabulary shows it) as staging
    joins them. Staging reads the source itself, so that each staging model builds alone. -#}

{#- The labels of vocabulary `field`, each column prefixed: <prefix>_key (the label, to
    join on), <prefix>_value, <prefix>_meaning, <prefix>_position, <prefix>_probability. -#}
{% macro vocabulary_lookup(field, prefix) -%}
    select
        label as {{ prefix }}_key,
        value as {{ prefix }}_value,
        meaning as {{ prefix }}_meaning,
        position as {{ prefix }}_position,
        probability as {{ prefix }}_probability
    from {{ source('ingest', 'vocabulary') }}
    where field = '{{ field }}'
{%- endmacro %}

{#- The meaning of a deal's stage when the vocabulary has no row for its label (a warehouse
    written by hand): what is_won says. -#}
{% macro stage_meaning_from_outcome(is_won) -%}
    case when {{ is_won }} then 'won' when not {{ is_won }} then 'lost' else 'open' end
{%- endmacro %}
