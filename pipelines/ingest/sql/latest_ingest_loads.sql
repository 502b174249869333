-- Returns the latest load of each table in ops.ingest_log: its schema changes, warnings,
-- columns (JSON lists) and when it ran.
select
    table_name,
    schema_changes,
    warnings,
    columns,
    started_at
from ops.ingest_log
qualify row_number() over (partition by table_name order by started_at desc) = 1
