{#- Helpers of the data-quality models (intermediate/quality, marts/quality): the
    normalizations duplicate matching compares. DuckDB uses RE2 and PostgreSQL its own
    flavour of regular expressions; the patterns below mean the same in both, so one
    definition serves both. -#}

{#- Legal-form words dropped from the end of company names before comparing them. -#}
{% macro dq_legal_suffixes() -%}
    {{ return(['corp', 'corporation', 'inc', 'incorporated', 'llc', 'ltd', 'limited', 'co', 'company', 'gmbh', 'sa', 'plc']) }}
{%- endmacro %}

{#- A company name for matching: normalize_text (lower case, letters, digits and spaces
    only, so "L.L.C." is "llc"), single spaces, a leading "the " and any trailing legal
    forms removed: "ABC Corp", "ABC Corporation", "abc corp." and "The ABC Co Ltd" are all
    "abc". -#}
{% macro dq_company_name_key(expr) -%}
    trim(regexp_replace(regexp_replace(regexp_replace(
        {{ normalize_text(expr) }},
        ' +', ' ', 'g'),
        '^the ', ''),
        '( ({{ dq_legal_suffixes() | join("|") }}))+$', ''))
{%- endmacro %}

{#- A web domain for matching: lower case, no scheme, no "www.", no path or port:
    "https://www.ABC.com/about" is "abc.com". -#}
{% macro dq_domain_key(expr) -%}
    nullif(regexp_replace(regexp_replace(lower(trim({{ expr }})), '^[a-z]+://', ''), '^www\.|[/:].*$', '', 'g'), '')
{%- endmacro %}

{#- The local part of an e-mail address for matching: lower case, without dots and
    without a "+tag": "John.Smith+crm@x.com" is "johnsmith". -#}
{% macro dq_email_local_key(expr) -%}
    nullif(regexp_replace(regexp_replace(lower(trim({{ expr }})), '[+@].*$', ''), '\.', '', 'g'), '')
{%- endmacro %}

{#- The fourteen canonical tables, in the contracts' order (crmlens.contracts.TABLES). -#}
{% macro dq_canonical_tables() -%}
    {{ return(['teams', 'users', 'accounts', 'contacts', 'leads', 'opportunities', 'opportunity_stage_history', 'activities', 'campaigns', 'campaign_members', 'subscriptions', 'invoices', 'tickets', 'events']) }}
{%- endmacro %}
