-- Returns the comment on a table (no row if the table is absent).
select comment
from duckdb_tables()
where schema_name = $schema and table_name = $table_name
