-- Per month of the period (by closing date): bookings, deals won and deals closed.
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
    coalesce(sum(amount) filter (where is_won), 0)::double as bookings,
    count(*) filter (where is_won) as won,
    count(*) as closed
from opps
where is_closed and closed_at >= $start and closed_at < $end_excl
group by all
order by month
