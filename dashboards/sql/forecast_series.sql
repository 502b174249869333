-- The published forecast of one series ($metric, $grain, $segment_type, $segment): one
-- row per period ahead, with its intervals, method and backtest figures.
select
    period,
    horizon,
    point,
    lo80,
    hi80,
    lo95,
    hi95,
    method,
    fallback_reason,
    backtest_mase,
    backtest_mase_seasonal_naive,
    backtest_coverage80,
    backtest_coverage95,
    partial_actual,
    forecast_origin,
    published_at
from ml.revenue_forecast
where
    metric = $metric and grain = $grain and segment_type = $segment_type
    and segment = $segment
order by period
