-- Total MRR at the end of each month as finance reads it (period, mart).
select
    month as period,
    mrr_end::double as mart
from marts.fct_mrr_monthly
