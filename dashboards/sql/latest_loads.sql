-- The latest load of every table (ops.ingest_log): rows in, loaded and quarantined.
select
    table_name,
    source,
    started_at,
    rows_in,
    rows_loaded,
    rows_quarantined,
    inserted,
    updated,
    seconds
from ops.ingest_log
qualify row_number() over (partition by table_name order by started_at desc) = 1
order by table_name
