-- Per month of the period (by closing date): bookings, deals won and deals closed.
-- `opps`: the deals in scope.
/* fragment: opps */
select
    date_trunc('month', closed_at)::date as month,
    coalesce(sum(amount) filter (where is_won), 0)::double as bookings,
    count(*) filter (where is_won) as won,
    count(*) as closed
from opps
where is_closed and closed_at >= $start and closed_at < $end_excl
group by all
order by month
