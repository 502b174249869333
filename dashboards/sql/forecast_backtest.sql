-- Backtest errors of one series by method and horizon (which method was chosen).
select
    method,
    horizon,
    mase,
    smape,
    mae,
    coverage80,
    coverage95,
    origins,
    chosen
from ml.forecast_backtest
where
    metric = $metric and grain = $grain and segment_type = $segment_type
    and segment = $segment
order by method, horizon
