-- Deals won in the period, by month of closing: how many, and the median and average
-- cycle length (days from creation to won).
with opps as (
    select
        o.*,
        a.tier
    from marts.fct_opportunities as o
    left join marts.dim_accounts as a on o.account_id = a.account_id
    where
        (not $by_owner or list_contains($owners::varchar[], o.owner_user_id))
        and (not $by_segment or list_contains($segments::varchar[], a.tier))
)

select
    date_trunc('month', closed_at)::date as month,
    count(*) as won,
    median(cycle_days) as median_cycle_days,
    avg(cycle_days) as avg_cycle_days
from opps
where is_won and closed_at >= $start and closed_at < $end_excl
group by all
order by month
