-- Returns the alerts not delivered yet, oldest first.
select
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
from ops.alerts
where delivered_at is null
order by first_seen_at, alert_id
