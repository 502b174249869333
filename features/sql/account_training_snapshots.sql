-- One row per monthly customer snapshot whose label is observed: account_id, as_of and
-- label (1: no subscription active $horizon_days days later). See features/account.py for
-- where the snapshots start and why.
with behaviour as (
    select min(t) as first_record from (
        select min(occurred_at) as t from staging.stg_crm__events
        union all
        select min(created_at) from staging.stg_crm__tickets
        union all
        select min(issued_at) from staging.stg_crm__invoices
    ) as firsts
),

bounds as (
    select
        greatest(
            (select min(ended_at) from staging.stg_crm__subscriptions) - to_days($horizon_days),
            (select first_record from behaviour)
        ) as earliest
),

first_month as (
    select
        case
            when cast(date_trunc('month', earliest) as timestamp) = earliest
                then earliest
            else cast(date_trunc('month', earliest) as timestamp) + interval 1 month
        end as first_as_of
    from bounds
    where earliest is not null
),

months as (
    select
        cast(unnest(generate_series(
            first_as_of, cast($today as timestamp) - to_days($horizon_days), interval 1 month
        )) as timestamp) as as_of
    from first_month
),

-- accounts with a subscription running at as_of: started before it, not ended before it
customers as (
    select distinct
        m.as_of,
        s.account_id
    from months as m
    inner join staging.stg_crm__subscriptions as s
        on m.as_of > s.started_at and (s.ended_at is null or m.as_of <= s.ended_at)
),

retained as (
    select distinct
        c.as_of,
        c.account_id
    from customers as c
    inner join staging.stg_crm__subscriptions as s
        on c.account_id = s.account_id
        and c.as_of + to_days($horizon_days) > s.started_at  -- noqa: RF02
        and (
            s.ended_at is null
            or c.as_of + to_days($horizon_days) <= s.ended_at  -- noqa: RF02
        )
)

select
    c.account_id,
    c.as_of,
    cast(r.account_id is null as integer) as label  -- noqa: RF04
from customers as c
left join retained as r on c.as_of = r.as_of and c.account_id = r.account_id
order by c.as_of, c.account_id
