-- How fresh each source table is: its newest record, hours since (wall clock), days behind
-- the newest table, and the status; the furthest behind first.
select
    table_name,
    loaded_at_column,
    rows,
    newest_at,
    hours_since,
    days_behind_data,
    freshness_status,
    checked_at
from marts.dq_freshness
order by days_behind_data desc nulls first, table_name asc
