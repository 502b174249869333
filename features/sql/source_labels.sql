-- The label definitions the source's spec declared, per family (JSON text; null: defaults).
select max(cast(labels as varchar)) as labels
from ops.source_settings
