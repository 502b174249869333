-- MRR movements per month of the period, over the accounts in scope (amounts positive),
-- and the MRR at each month's end. `mrr`: the MRR movements in scope.
/* fragment: mrr */
select
    month::date as month,
    sum(new_mrr)::double as new,
    sum(expansion_mrr)::double as expansion,
    sum(reactivation_mrr)::double as reactivation,
    sum(contraction_mrr)::double as contraction,
    sum(churned_mrr)::double as churn,
    sum(mrr_end)::double as mrr_end
from mrr
where month between date_trunc('month', $start::date) and $end
group by all
order by month
