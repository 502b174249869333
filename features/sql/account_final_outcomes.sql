-- One row per customer account (labels mode one_outcome_per_row), every row at one
-- moment: the midnight before the first subscription end on record before $today (when a
-- table of past customers still held every one of them as a customer), else $today:
-- account_id, as_of and label (1: no subscription live at $today: each one ended before
-- it, or has a status in $churned). The customers are the accounts with a subscription
-- running at that moment.
with moment as (
    select
        coalesce(
            cast(date_trunc('day', min(ended_at)) as timestamp), cast($today as timestamp)
        ) as as_of
    from staging.stg_crm__subscriptions
    where ended_at < $today
),

customers as (
    select distinct
        s.account_id,
        m.as_of
    from staging.stg_crm__subscriptions as s
    cross join moment as m
    where
        s.started_at < m.as_of
        and (s.ended_at is null or s.ended_at >= m.as_of)
),

live as (
    select distinct account_id
    from staging.stg_crm__subscriptions
    where
        started_at < $today
        and (ended_at is null or ended_at >= $today)
        and not coalesce(list_contains(cast($churned as varchar[]), status), false)
)

select
    c.account_id,
    c.as_of,
    cast(l.account_id is null as integer) as label  -- noqa: RF04
from customers as c
left join live as l on c.account_id = l.account_id
order by c.as_of, c.account_id
