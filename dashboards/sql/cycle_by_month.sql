-- Deals won in the period, by month of closing: how many, and the median and average
-- cycle length (days from creation to won). `opps`: the deals in scope.
/* fragment: opps */
select
    date_trunc('month', closed_at)::date as month,
    count(*) as won,
    median(cycle_days) as median_cycle_days,
    avg(cycle_days) as avg_cycle_days
from opps
where is_won and closed_at >= $start and closed_at < $end_excl
group by all
order by month
