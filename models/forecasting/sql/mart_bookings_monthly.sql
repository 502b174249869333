-- Total bookings per month as finance reads them (period, mart).
select
    month as period,
    bookings::double as mart
from marts.fct_revenue_monthly
