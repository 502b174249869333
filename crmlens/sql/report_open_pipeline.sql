-- Returns the open pipeline by stage (deals, amount) on the newest day of the daily mart.
select
    stage,
    open_opportunities,
    open_amount,
    day
from marts.fct_pipeline_daily
where day = (select max(p.day) from marts.fct_pipeline_daily as p)
