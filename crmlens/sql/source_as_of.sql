-- The export date the source's spec declared (null, or no row: from the data).
select max(as_of) as as_of
from ops.source_settings
