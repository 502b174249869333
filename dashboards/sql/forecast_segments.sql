-- The series the forecast publishes (metric, grain, segment type, segment), quarters aside.
select distinct
    metric,
    grain,
    segment_type,
    segment
from ml.revenue_forecast
where grain <> 'quarter'
order by all
