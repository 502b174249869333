-- The raw columns of a canonical table that a source spec marks live (values the CRM overwrites).
select column_name
from duckdb_columns()
where
    schema_name = 'raw'
    and table_name = $table
    and comment like 'live:%'
