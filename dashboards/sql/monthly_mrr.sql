-- Per month of the period: MRR at the month's end and the customers paying then.
select
    m.month::date as month,
    sum(m.mrr_end)::double as mrr,
    count(*) filter (where m.mrr_end > 0) as customers
from marts.fct_mrr_movements as m
inner join marts.dim_accounts as a on m.account_id = a.account_id
where
    (not $by_owner or list_contains($owners::varchar[], a.owner_user_id))
    and (not $by_segment or list_contains($segments::varchar[], a.tier))
    and m.month between date_trunc('month', $start::date) and $end
group by all
order by month
