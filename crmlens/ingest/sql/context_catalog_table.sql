-- Creates ops.context_series (returns nothing): the context series the source's spec
-- attaches, one row each, as ingest stored them last in context.<series>. value_columns:
-- column -> numeric|categorical (JSON); check_time_proxy: whether a time split may drop
-- their columns as time proxies.
create table if not exists ops.context_series (
    series varchar,
    available_after_days integer,
    check_time_proxy boolean,
    value_columns json,
    row_count bigint,
    first_date timestamp,
    last_date timestamp,
    source varchar,
    run_id varchar,
    loaded_at timestamp
)
