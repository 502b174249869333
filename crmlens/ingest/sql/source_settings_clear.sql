-- Clears ops.source_settings before the source's row is written again.
delete from ops.source_settings
