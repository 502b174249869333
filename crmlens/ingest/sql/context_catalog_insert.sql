-- Records one context series that ingest stored (after the catalog was cleared).
insert into ops.context_series (
    series,
    available_after_days,
    check_time_proxy,
    value_columns,
    row_count,
    first_date,
    last_date,
    source,
    run_id,
    loaded_at
)
values (
    $series,
    $available_after_days,
    $check_time_proxy,
    $value_columns,
    $row_count,
    $first_date,
    $last_date,
    $source,
    $run_id,
    $loaded_at
)
