-- Returns how many of the alerts registered as _alerts are not in ops.alerts yet.
select count(*)
from _alerts
where alert_id not in (select a.alert_id from ops.alerts as a)
