-- Returns deals won and deals closed in the 365 days up to the newest close.
select
    count(*) filter (where is_won) as won,
    count(*) as closed
from marts.fct_opportunities
where
    is_closed
    and closed_at
    >= (select max(o.closed_at) from marts.fct_opportunities as o) - interval 365 day
