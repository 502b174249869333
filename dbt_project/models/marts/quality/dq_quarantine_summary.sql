{#- What ingest rejected, per canonical table and reason: one row per (table_name,
    reason_code) with quarantined rows (tables with nothing quarantined have no rows).

    share_of_input = rows / (rows loaded in raw.<table> + rows in quarantine.<table>):
    the share of the table's input, as it stands now, that this reason rejected. The
    current contents are the denominator rather than the latest ops.ingest_log rows_in,
    because a load can be partial (one day of events, or only the rows a PostgreSQL
    source changed since the last load), while raw + quarantine always hold every row
    of every load, each once. The latest load's own counts are given alongside. -#}

{%- set tables = dq_canonical_tables() %}

with quarantined as (

    {%- for table in tables %}
        select
            '{{ table }}' as table_name,
            reason_code,
            count(*) as quarantined_rows,
            min(reason) as sample_reason
        from {{ source('quarantine', table) }}
        group by reason_code
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

loaded as (

    {%- for table in tables %}
        select
            '{{ table }}' as table_name,
            count(*) as loaded_rows
        from {{ source('crm', table) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

ingest_log as (

    select
        table_name,
        rows_in,
        rows_quarantined,
        started_at,
        row_number() over (
            partition by table_name
            order by started_at desc
        ) as load_rank
    from {{ source('ops', 'ingest_log') }}

),

latest_loads as (

    select
        table_name,
        rows_in,
        rows_quarantined,
        started_at
    from ingest_log
    where load_rank = 1

),

table_totals as (

    select
        loaded.table_name,
        loaded.loaded_rows,
        cast(coalesce(sum(quarantined.quarantined_rows), 0) as {{ dbt.type_bigint() }})
            as quarantined_rows
    from loaded
    left join quarantined
        on loaded.table_name = quarantined.table_name
    group by
        loaded.table_name,
        loaded.loaded_rows

),

final as (

    select
        quarantined.table_name,
        quarantined.reason_code,
        quarantined.quarantined_rows as rows,
        table_totals.loaded_rows + table_totals.quarantined_rows as input_rows,
        {{ rev_ratio(
            'quarantined.quarantined_rows',
            'table_totals.loaded_rows + table_totals.quarantined_rows'
        ) }} as share_of_input,
        {{ rev_ratio('quarantined.quarantined_rows', 'table_totals.quarantined_rows') }}
            as share_of_quarantine,
        quarantined.sample_reason,
        latest_loads.rows_in as last_load_rows_in,
        latest_loads.rows_quarantined as last_load_rows_quarantined,
        latest_loads.started_at as last_loaded_at
    from quarantined
    inner join table_totals
        on quarantined.table_name = table_totals.table_name
    left join latest_loads
        on quarantined.table_name = latest_loads.table_name

)

select * from final
