-- MRR movements per month of the period, over the accounts in scope (amounts positive),
-- and the MRR at each month's end.
select
    m.month::date as month,
    sum(m.new_mrr)::double as new,
    sum(m.expansion_mrr)::double as expansion,
    sum(m.reactivation_mrr)::double as reactivation,
    sum(m.contraction_mrr)::double as contraction,
    sum(m.churned_mrr)::double as churn,
    sum(m.mrr_end)::double as mrr_end
from marts.fct_mrr_movements as m
inner join marts.dim_accounts as a on m.account_id = a.account_id
where
    (not $by_owner or list_contains($owners::varchar[], a.owner_user_id))
    and (not $by_segment or list_contains($segments::varchar[], a.tier))
    and m.month between date_trunc('month', $start::date) and $end
group by all
order by month
