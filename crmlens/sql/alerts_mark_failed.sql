-- Records why the alerts $ids could not be delivered (returns nothing).
update ops.alerts
set delivery_error = $error
where alert_id in (select unnest($ids))
