-- Returns the stored watermark of one source table (no row if none yet).
select value
from ops.watermarks
where source = $source and table_name = $table_name
