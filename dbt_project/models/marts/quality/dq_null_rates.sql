{#- How complete the key fields of the loaded CRM are: one row per (table_name,
    column_name) for the fields the marts and models lean on (e-mails, owners, account
    links, amounts, dates...). Some fields are only expected on part of a table
    (closed_at on closed deals, ended_at on ended subscriptions, paid_at on paid
    invoices): `population` says which rows count, and rows / nulls / null_rate are over
    those rows. Each staging model is scanned once. -#}

{%- set fields = {
    'users': [
        ('email', 'all rows', none),
        ('team_id', 'all rows', none),
        ('role', 'all rows', none),
        ('hourly_cost', 'all rows', none),
    ],
    'teams': [
        ('manager_user_id', 'all rows', none),
        ('region', 'all rows', none),
    ],
    'accounts': [
        ('domain', 'all rows', none),
        ('industry', 'all rows', none),
        ('employee_count', 'all rows', none),
        ('country', 'all rows', none),
        ('owner_user_id', 'all rows', none),
        ('tier', 'all rows', none),
        ('account_type', 'all rows', none),
    ],
    'contacts': [
        ('account_id', 'all rows', none),
        ('email', 'all rows', none),
        ('first_name', 'all rows', none),
        ('last_name', 'all rows', none),
        ('title', 'all rows', none),
        ('lifecycle_stage', 'all rows', none),
    ],
    'leads': [
        ('email', 'all rows', none),
        ('owner_user_id', 'all rows', none),
        ('source', 'all rows', none),
        ('company', 'all rows', none),
        ('converted_at', 'converted leads', "status = 'converted'"),
        ('converted_opportunity_id', 'converted leads', "status = 'converted'"),
    ],
    'opportunities': [
        ('owner_user_id', 'all rows', none),
        ('amount', 'all rows', none),
        ('currency', 'all rows', none),
        ('expected_close_date', 'open deals', "stage_meaning = 'open'"),
        ('closed_at', 'closed deals', "stage_meaning <> 'open'"),
        ('is_won', 'closed deals', "stage_meaning <> 'open'"),
        ('lost_reason', 'lost deals', "stage_meaning = 'lost'"),
    ],
    'activities': [
        ('user_id', 'all rows', none),
        ('account_id', 'all rows', none),
        ('contact_id', 'all rows', none),
        ('duration_minutes', 'calls, meetings and demos', "activity_type in ('call', 'meeting', 'demo')"),
    ],
    'campaigns': [
        ('channel', 'all rows', none),
        ('cost', 'all rows', none),
        ('started_at', 'all rows', none),
    ],
    'campaign_members': [
        ('enrolled_at', 'all rows', none),
        ('status', 'all rows', none),
    ],
    'subscriptions': [
        ('mrr', 'all rows', none),
        ('plan', 'all rows', none),
        ('ended_at', 'cancelled or expired subscriptions', "status in ('cancelled', 'expired')"),
    ],
    'invoices': [
        ('amount', 'all rows', none),
        ('subscription_id', 'all rows', none),
        ('due_at', 'all rows', none),
        ('paid_at', 'paid invoices', "status = 'paid'"),
    ],
    'tickets': [
        ('account_id', 'all rows', none),
        ('contact_id', 'all rows', none),
        ('resolved_at', 'all rows', none),
        ('csat', 'resolved tickets', "resolved_at is not null"),
    ],
    'events': [
        ('contact_id', 'all rows', none),
        ('account_id', 'all rows', none),
        ('session_id', 'all rows', none),
    ],
} %}

with
{%- for table, columns in fields.items() %}

    {{ table }}_counts as (

        select
        {%- for column, population, condition in columns %}
                count(case when {{ condition or 'true' }} then 1 end) as rows_{{ loop.index }},
                count(
                    case when ({{ condition or 'true' }}) and {{ column }} is null then 1 end
                )
                    as nulls_{{ loop.index }}
                {{- ',' if not loop.last }}
        {%- endfor %}
        from {{ ref('stg_crm__' ~ table) }}

    ),
{%- endfor %}

unpivoted as (

    {%- for table, columns in fields.items() %}
        {%- set outer = loop %}
        {%- for column, population, condition in columns %}
            select
                '{{ table }}' as table_name,
                '{{ column }}' as column_name,
                '{{ population }}' as population,
                rows_{{ loop.index }} as rows,
                nulls_{{ loop.index }} as nulls
            from {{ table }}_counts
            {%- if not (outer.last and loop.last) %}
                union all
            {%- endif %}
        {%- endfor %}
    {%- endfor %}

),

final as (

    select
        table_name,
        column_name,
        population,
        coalesce(rows, 0) as rows,
        coalesce(nulls, 0) as nulls,
        {{ rev_ratio('nulls', 'rows') }} as null_rate
    from unpivoted

)

select * from final
