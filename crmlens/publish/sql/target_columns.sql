-- The columns of a PostgreSQL table and their types (returns column_name, data_type).
select
    column_name,
    data_type
from information_schema.columns
where table_schema = $schema and table_name = $table
order by ordinal_position
