-- Total invoiced per month as finance reads it (period, mart).
select
    month as period,
    invoiced::double as mart
from marts.fct_revenue_monthly
