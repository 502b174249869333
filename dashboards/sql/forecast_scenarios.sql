-- Quarters of total bookings: the commit, most likely and best case scenarios with their
-- intervals, and what is already closed in the quarter.
select
    quarter,
    quarter_start,
    horizon,
    scenario,
    amount,
    lo80,
    hi80,
    closed_to_date,
    pipeline_weight,
    description
from ml.pipeline_forecast
order by horizon, scenario
