-- Adds to an ops.ingest_log of an earlier version the columns it lacks (returns nothing).
alter table ops.ingest_log add column if not exists columns json;
alter table ops.ingest_log add column if not exists schema_changes json;
alter table ops.ingest_log add column if not exists warnings json;
alter table ops.ingest_log add column if not exists marked_deleted bigint;
