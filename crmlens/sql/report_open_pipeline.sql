-- Returns the open pipeline by stage (deals, amount) on the newest day of the daily mart,
-- in the CRM's own order of its stages.
select
    stage,
    open_opportunities,
    open_amount,
    day
from marts.fct_pipeline_daily
where day = (select max(p.day) from marts.fct_pipeline_daily as p)
order by stage_order, stage
