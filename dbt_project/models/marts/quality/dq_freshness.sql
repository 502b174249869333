{#- How current each canonical table is: the newest value of its loaded_at column (the
    `loaded_at_field` of the crm source in models/staging/_crm__sources.yml; teams, users
    and campaigns have none and are left out), hours since then by the wall clock, and
    days behind the newest timestamp of any table (a table that stopped while the others
    went on stands out even when the whole export is old). freshness_status applies the
    sources' thresholds to hours_since: ok under 2 days, warn under 7, error beyond;
    'empty' for a table with no rows. The wall-clock columns change on every build. -#}

{%- set loaded_at = {
    'accounts': 'updated_at',
    'contacts': 'updated_at',
    'leads': 'updated_at',
    'opportunities': 'updated_at',
    'opportunity_stage_history': 'changed_at',
    'activities': 'occurred_at',
    'campaign_members': 'enrolled_at',
    'subscriptions': 'started_at',
    'invoices': 'issued_at',
    'tickets': 'created_at',
    'events': 'occurred_at',
} %}

with newest as (

    {%- for table, column in loaded_at.items() %}
        select
            '{{ table }}' as table_name,
            '{{ column }}' as loaded_at_column,
            count(*) as rows,
            max({{ column }}) as newest_at
        from {{ source('crm', table) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

clock as (

    select cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }}) as checked_at

),

with_lag as (

    select
        newest.table_name,
        newest.loaded_at_column,
        newest.rows,
        newest.newest_at,
        clock.checked_at,
        {{ dbt.datediff('newest.newest_at', 'clock.checked_at', 'second') }}
        / 3600.0 as hours_since,
        {{ days_between('newest.newest_at', '(max(newest.newest_at) over ())') }}
            as days_behind_data
    from newest
    cross join clock

),

final as (

    select
        table_name,
        loaded_at_column,
        rows,
        newest_at,
        checked_at,
        hours_since,
        days_behind_data,
        case
            when newest_at is null then 'empty'
            when hours_since < 48 then 'ok'
            when hours_since < 168 then 'warn'
            else 'error'
        end as freshness_status
    from with_lag

)

select * from final
