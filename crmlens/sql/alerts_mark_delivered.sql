-- Marks the alerts $ids delivered at $delivered_at (returns nothing).
update ops.alerts
set delivered_at = $delivered_at, delivery_error = null
where alert_id in (select unnest($ids))
