-- Stores the new watermark of one source table (returns nothing).
insert or replace into ops.watermarks (source, table_name, column_name, value, updated_at)
values ($source, $table_name, $column_name, $value, $updated_at)
