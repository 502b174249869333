{#- The lead funnel per lead source and month of lead creation: lead → MQL → SQL →
    opportunity → won. Each step is a subset of the one before it (see fct_leads), so
    the counts never grow down the funnel. -#}

with leads as (

    select * from {{ ref('fct_leads') }}

),

opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

counted as (

    select
        coalesce(leads.source, 'unknown') as source,
        leads.cohort_month,
        count(*) as leads,
        cast(sum(case when leads.is_mql then 1 else 0 end) as {{ dbt.type_bigint() }}) as mqls,
        cast(sum(case when leads.is_sql then 1 else 0 end) as {{ dbt.type_bigint() }}) as sqls,
        cast(sum(case when leads.is_converted then 1 else 0 end) as {{ dbt.type_bigint() }})
            as opportunities,
        cast(sum(case when leads.is_won then 1 else 0 end) as {{ dbt.type_bigint() }}) as won,
        sum(case when leads.is_won then coalesce(opportunities.amount, 0) else 0 end) as won_amount
    from leads
    left join opportunities
        on leads.converted_opportunity_id = opportunities.opportunity_id
    group by coalesce(leads.source, 'unknown'), leads.cohort_month

),

final as (

    select
        source,
        cohort_month,
        leads,
        mqls,
        sqls,
        opportunities,
        won,
        won_amount,
        {{ sales_ratio('mqls', 'leads') }} as mql_rate,
        {{ sales_ratio('sqls', 'mqls') }} as sql_rate,
        {{ sales_ratio('opportunities', 'sqls') }} as opportunity_rate,
        {{ sales_ratio('won', 'opportunities') }} as win_rate,
        {{ sales_ratio('won', 'leads') }} as lead_to_won_rate
    from counted

)

select * from final
