-- Creates ops.sync_log, one row per publish of a table to PostgreSQL (returns nothing).
create table if not exists ops.sync_log (
    run_id varchar,
    target varchar,
    table_name varchar,
    inserted bigint,
    updated bigint,
    unchanged bigint,
    deleted bigint,
    failed boolean,
    attempts integer,
    seconds double,
    error varchar,
    synced_at timestamp
)
