-- Returns leads and the opportunities they became, per lead source, most leads first.
select
    source,
    sum(leads) as leads,
    sum(opportunities) as opportunities
from marts.fct_funnel
group by source
order by sum(leads) desc
