-- The tables of the context schema: the series an earlier load stored.
select table_name
from duckdb_tables()
where schema_name = 'context'
order by table_name
