-- The recorded settings (source, as_of, labels as text), if any.
select
    source,
    as_of,
    cast(labels as varchar) as labels
from ops.source_settings
