-- Past published forecasts of one series whose period is complete, against the actual.
select
    published_at,
    forecast_origin,
    period,
    horizon,
    method,
    point,
    lo80,
    hi80,
    lo95,
    hi95,
    actual,
    error,
    abs_pct_error,
    within80,
    within95
from ml.forecast_accuracy
where
    is_published and metric = $metric and grain = $grain
    and segment_type = $segment_type and segment = $segment
order by published_at, period
