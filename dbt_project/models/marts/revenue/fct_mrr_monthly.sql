{#- The MRR bridge per month: start, the five movements, end, and the customer counts and
    retention rates they imply. Every month from the first subscription to the revenue
    data's as-of month has a row (quiet months show zeros).

    customers are accounts with MRR > 0 at the month's end; logo_churn_rate is churned
    customers over customers at the start; net_revenue_retention is the month's MRR kept
    from the customers at its start, (mrr_start + expansion - contraction - churned) /
    mrr_start (new and reactivated MRR excluded); gross_revenue_retention leaves expansion
    out as well. -#}

with account_months as (

    select distinct month
    from {{ ref('int_account_mrr_monthly') }}

),

movements as (

    select * from {{ ref('fct_mrr_movements') }}

),

monthly as (

    select
        month,
        sum(mrr_start) as mrr_start,
        sum(new_mrr) as new_mrr,
        sum(expansion_mrr) as expansion_mrr,
        sum(reactivation_mrr) as reactivation_mrr,
        sum(contraction_mrr) as contraction_mrr,
        sum(churned_mrr) as churned_mrr,
        sum(mrr_end) as mrr_end,
        count(case when mrr_start > 0 then 1 end) as customers_start,
        count(case when mrr_end > 0 then 1 end) as customers_end,
        count(case when movement = 'new' then 1 end) as new_customers,
        count(case when movement = 'reactivation' then 1 end) as reactivated_customers,
        count(case when movement = 'churn' then 1 end) as churned_customers
    from movements
    group by month

),

final as (

    select
        account_months.month,
        coalesce(monthly.mrr_start, 0) as mrr_start,
        coalesce(monthly.new_mrr, 0) as new_mrr,
        coalesce(monthly.expansion_mrr, 0) as expansion_mrr,
        coalesce(monthly.reactivation_mrr, 0) as reactivation_mrr,
        coalesce(monthly.contraction_mrr, 0) as contraction_mrr,
        coalesce(monthly.churned_mrr, 0) as churned_mrr,
        coalesce(monthly.mrr_end, 0) as mrr_end,
        coalesce(monthly.mrr_end, 0) - coalesce(monthly.mrr_start, 0) as net_new_mrr,
        12 * coalesce(monthly.mrr_end, 0) as arr_end,
        coalesce(monthly.customers_start, 0) as customers_start,
        coalesce(monthly.customers_end, 0) as customers_end,
        coalesce(monthly.new_customers, 0) as new_customers,
        coalesce(monthly.reactivated_customers, 0) as reactivated_customers,
        coalesce(monthly.churned_customers, 0) as churned_customers,
        {{ rev_ratio('monthly.churned_customers', 'monthly.customers_start') }} as logo_churn_rate,
        {{ rev_ratio(
            'monthly.mrr_start + monthly.expansion_mrr'
            ~ ' - monthly.contraction_mrr - monthly.churned_mrr',
            'monthly.mrr_start'
        ) }} as net_revenue_retention,
        {{ rev_ratio(
            'monthly.mrr_start - monthly.contraction_mrr - monthly.churned_mrr',
            'monthly.mrr_start'
        ) }} as gross_revenue_retention
    from account_months
    left join monthly
        on account_months.month = monthly.month

)

select * from final
