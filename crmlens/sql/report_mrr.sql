-- Returns the MRR bridge of the two newest months, newest first.
select
    month,
    mrr_start,
    new_mrr,
    expansion_mrr,
    reactivation_mrr,
    contraction_mrr,
    churned_mrr,
    mrr_end
from marts.fct_mrr_monthly
order by month desc
limit 2
