-- Returns the columns (JSON list) the latest load of one source table that read any
-- gave (no row before the first such load).
select columns
from ops.ingest_log
where source = $source and table_name = $table_name and columns is not null
order by started_at desc
limit 1
