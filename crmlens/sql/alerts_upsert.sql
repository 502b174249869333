-- Adds the alerts registered as _alerts, raised on $day; refreshes those already raised that
-- day (returns nothing).
insert into ops.alerts (
    alert_id,
    kind,
    severity,
    entity_type,
    entity_id,
    owner_user_id,
    title,
    detail,
    raised_on,
    first_seen_at,
    last_seen_at,
    run_id,
    delivered_at,
    delivery_error
)
select
    alert_id,
    kind,
    severity,
    entity_type,
    entity_id,
    owner_user_id,
    title,
    detail,
    cast($day as date) as raised_on,
    $now as first_seen_at,
    $now as last_seen_at,
    $run_id as run_id,
    null as delivered_at,
    null as delivery_error
from _alerts
on conflict (alert_id) do update set
    last_seen_at = excluded.last_seen_at,
    detail = excluded.detail,
    run_id = excluded.run_id
