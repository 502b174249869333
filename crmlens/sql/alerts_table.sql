-- Creates ops.alerts, one row per alert kind, entity and day raised (returns nothing).
create table if not exists ops.alerts (
    alert_id varchar primary key,
    kind varchar not null,
    severity varchar not null,
    entity_type varchar,
    entity_id varchar,
    owner_user_id varchar,
    title varchar not null,
    detail varchar,
    raised_on date not null,
    first_seen_at timestamp not null,
    last_seen_at timestamp not null,
    run_id varchar,
    delivered_at timestamp,
    delivery_error varchar
)
