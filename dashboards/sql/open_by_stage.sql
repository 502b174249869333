-- Open deals now, by stage (the CRM's own, with its position): how many, their value and
-- their average age in days.
-- `opps`: the deals in scope.
/* fragment: opps */
select
    stage,
    min(stage_position) as stage_order,
    count(*) as deals,
    coalesce(sum(amount), 0)::double as amount,
    avg(cycle_days) as avg_age_days
from opps
where is_open
group by all
