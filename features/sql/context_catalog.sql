-- The context series ingest stored (ops.context_series): name, value columns (JSON:
-- column -> numeric|categorical) and whether a time split may drop them as time proxies.
select
    series,
    cast(value_columns as varchar) as value_columns,
    check_time_proxy
from ops.context_series
order by series
