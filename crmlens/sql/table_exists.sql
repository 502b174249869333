-- Returns 1 if the table exists, else 0.
select count(*)
from information_schema.tables
where table_schema = $schema and table_name = $table_name
