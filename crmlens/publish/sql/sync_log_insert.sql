-- Appends one publish to ops.sync_log (returns nothing).
insert into ops.sync_log (
    run_id,
    target,
    table_name,
    inserted,
    updated,
    unchanged,
    deleted,
    failed,
    attempts,
    seconds,
    error,
    synced_at
)
values (
    $run_id,
    $target,
    $table_name,
    $inserted,
    $updated,
    $unchanged,
    $deleted,
    $failed,
    $attempts,
    $seconds,
    $error,
    $synced_at
)
