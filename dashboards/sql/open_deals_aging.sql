-- Open deals by stage and age bucket (days open): how many and their value.
-- `opps`: the deals in scope.
/* fragment: opps */
select
    stage,
    min(stage_position) as stage_order,
    case
        when cycle_days <= 30 then '0-30 days'
        when cycle_days <= 60 then '31-60 days'
        when cycle_days <= 90 then '61-90 days'
        when cycle_days <= 180 then '91-180 days'
        else 'over 180 days'
    end as age_bucket,
    count(*) as deals,
    coalesce(sum(amount), 0)::double as amount
from opps
where is_open
group by all
