-- Creates ops.ingest_log, one row per load of one table (returns nothing).
-- columns: the source's columns (JSON list); schema_changes and warnings: JSON lists;
-- marked_deleted: raw rows marked deleted after the load (specs that declare deletions).
create table if not exists ops.ingest_log (
    run_id varchar,
    source varchar,
    table_name varchar,
    partitions varchar,
    rows_in bigint,
    rows_loaded bigint,
    rows_quarantined bigint,
    inserted bigint,
    updated bigint,
    unchanged bigint,
    superseded bigint,
    started_at timestamp,
    seconds double,
    columns json,
    schema_changes json,
    warnings json,
    marked_deleted bigint
)
