-- A context series as stored: its rows (in _series), each with the moment its value
-- became known (the date plus the spec's publication lag, $lag_days).
select
    *,  -- noqa: AM04
    cast(date as timestamp) + to_days(cast($lag_days as integer)) as available_at
from _series
order by date
