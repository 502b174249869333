-- Each snapshot (_context_keys: _row, as_of) with the latest row of one context series
-- (_context_series) known at its as_of: the newest available_at (date plus publication
-- lag) at or before as_of. A snapshot before the series' first value gets nulls.
-- Fragment: the series' value columns, renamed ctx_<series>_<column>; _available_at:
-- when the value joined became known.
select
    k._row,
    c.available_at as _available_at
    /* fragment: values */
from _context_keys as k
asof left join _context_series as c
    on k.as_of >= c.available_at
order by k._row
