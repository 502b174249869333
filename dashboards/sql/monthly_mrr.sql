-- Per month of the period: MRR at the month's end and the customers paying then.
-- `mrr`: the MRR movements in scope.
/* fragment: mrr */
select
    month::date as month,
    sum(mrr_end)::double as mrr,
    count(*) filter (where mrr_end > 0) as customers
from mrr
where month between date_trunc('month', $start::date) and $end
group by all
order by month
