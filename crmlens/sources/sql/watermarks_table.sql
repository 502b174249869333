-- Creates ops.watermarks: per source table, the newest change read so far (returns nothing).
create table if not exists ops.watermarks (
    source varchar,
    table_name varchar,
    column_name varchar,
    value timestamp,
    updated_at timestamp,
    primary key (source, table_name)
)
