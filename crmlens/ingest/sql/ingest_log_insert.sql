-- Appends one load to ops.ingest_log (returns nothing).
insert into ops.ingest_log (
    run_id,
    source,
    table_name,
    partitions,
    rows_in,
    rows_loaded,
    rows_quarantined,
    inserted,
    updated,
    unchanged,
    superseded,
    started_at,
    seconds,
    columns,
    schema_changes,
    warnings
)
values (
    $run_id,
    $source,
    $table_name,
    $partitions,
    $rows_in,
    $rows_loaded,
    $rows_quarantined,
    $inserted,
    $updated,
    $unchanged,
    $superseded,
    $started_at,
    $seconds,
    $columns,
    $schema_changes,
    $warnings
)
