-- The accounts with a subscription running at $as_of (account_id, as_of): whom a daily
-- churn run scores.
select distinct
    s.account_id,
    cast($as_of as timestamp) as as_of
from staging.stg_crm__subscriptions as s
where
    s.started_at < cast($as_of as timestamp)
    and (s.ended_at is null or s.ended_at >= cast($as_of as timestamp))
order by s.account_id
