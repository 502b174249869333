-- Point-in-time features of each (account_id, as_of) in _snapshots, from rows before as_of;
-- the snapshot's own columns come first. Fragment: the account's custom attributes.
with snap as (
    select * from _snapshots
),

keys as (
    select distinct
        account_id,
        as_of
    from snap
),

-- a subscription is active at a moment when it started before it and did not end before it
subs as (
    select
        k.account_id,
        k.as_of,
        s.subscription_id,
        s.plan,
        s.seats,
        s.mrr,
        s.started_at,
        s.renewal_date,
        (s.started_at < k.as_of and (s.ended_at is null or s.ended_at >= k.as_of))
            as active_now,
        (
            s.started_at < k.as_of - interval 90 day
            and (s.ended_at is null or s.ended_at >= k.as_of - interval 90 day)
        ) as active_before
    from keys as k
    inner join staging.stg_crm__subscriptions as s
        on k.account_id = s.account_id and k.as_of > s.started_at
),

subscription_features as (
    -- the order of these columns is the feature table's
    select  -- noqa: ST06
        account_id,
        as_of,
        date_diff('second', min(started_at), as_of) / 86400.0 as tenure_days,
        count(*) filter (where active_now) as active_subscriptions,
        coalesce(sum(mrr) filter (where active_now), 0) as mrr,
        sum(seats) filter (where active_now) as seats,
        sum(seats) filter (where active_before) as seats_90d_ago,
        first(plan order by mrr desc nulls last, seats desc nulls last, subscription_id asc)
        filter (where active_now) as plan,
        cast(
            min(date_diff('day', cast(as_of as date), renewal_date))
            filter (where active_now and renewal_date >= cast(as_of as date)) as double
        ) as days_to_renewal
    from subs
    group by account_id, as_of
),

account_contacts as (
    select
        contact_id,
        account_id
    from staging.stg_crm__contacts
    where account_id is not null
),

-- product usage: logins and feature use, of the account or of its contacts (an event of
-- both counts once)
product_events as (
    select
        account_id,
        event_id,
        event_type,
        occurred_at,
        contact_id
    from staging.stg_crm__events
    where event_type in ('login', 'feature_use') and account_id is not null
    union distinct
    select
        c.account_id,
        e.event_id,
        e.event_type,
        e.occurred_at,
        e.contact_id
    from staging.stg_crm__events as e
    inner join account_contacts as c on e.contact_id = c.contact_id
    where e.event_type in ('login', 'feature_use')
),

usage_features as (
    select
        k.account_id,
        k.as_of,
        count(*) filter (where p.occurred_at >= k.as_of - interval 30 day) as usage_30d,
        count(*) filter (where p.occurred_at < k.as_of - interval 30 day) as usage_31_90d,
        count(*) filter (
            where p.event_type = 'login' and p.occurred_at >= k.as_of - interval 30 day
        ) as logins_30d,
        count(distinct p.contact_id) filter (where p.occurred_at >= k.as_of - interval 30 day)
            as active_users_30d
    from keys as k
    inner join product_events as p on k.account_id = p.account_id
    where p.occurred_at < k.as_of and p.occurred_at >= k.as_of - interval 90 day
    group by k.account_id, k.as_of
),

logins as (
    select
        account_id,
        occurred_at
    from product_events
    where event_type = 'login'
),

last_login as (
    select
        k.account_id,
        k.as_of,
        date_diff('second', l.occurred_at, k.as_of) / 86400.0 as days_since_last_login
    from keys as k
    asof left join logins as l on k.account_id = l.account_id and k.as_of > l.occurred_at
),

tickets as (
    select
        t.ticket_id,
        t.priority,
        t.created_at,
        t.resolved_at,
        t.csat,
        coalesce(t.account_id, c.account_id) as account_id
    from staging.stg_crm__tickets as t
    left join account_contacts as c on t.contact_id = c.contact_id
),

-- high and urgent tickets are the urgent ones
ticket_features as (
    select
        k.account_id,
        k.as_of,
        count(*) filter (where t.created_at >= k.as_of - interval 90 day) as tickets_90d,
        count(*) filter (
            where t.created_at >= k.as_of - interval 90 day and t.priority in ('high', 'urgent')
        ) as urgent_tickets_90d,
        count(*) filter (where t.resolved_at is null or t.resolved_at >= k.as_of)
            as open_tickets,
        count(*) filter (
            where (t.resolved_at is null or t.resolved_at >= k.as_of)
            and t.priority in ('high', 'urgent')
        ) as open_urgent_tickets,
        avg(t.csat) filter (
            where t.resolved_at < k.as_of and t.resolved_at >= k.as_of - interval 180 day
        ) as avg_csat_180d,
        avg(date_diff('second', t.created_at, t.resolved_at) / 3600.0) filter (
            where t.resolved_at < k.as_of and t.resolved_at >= k.as_of - interval 180 day
        ) as avg_resolution_hours_180d
    from keys as k
    inner join tickets as t on k.account_id = t.account_id and k.as_of > t.created_at
    group by k.account_id, k.as_of
),

-- void invoices were never owed
invoices as (
    select
        account_id,
        amount,
        issued_at,
        paid_at,
        coalesce(due_at, issued_at + interval 30 day) as due_at
    from staging.stg_crm__invoices
    where status is null or status <> 'void'
),

invoice_features as (
    select
        k.account_id,
        k.as_of,
        count(*) filter (
            where i.due_at < k.as_of and i.due_at >= k.as_of - interval 180 day
            and (i.paid_at is null or i.paid_at > i.due_at)
        ) as late_invoices_180d,
        count(*) filter (
            where i.due_at < k.as_of and (i.paid_at is null or i.paid_at >= k.as_of)
        ) as overdue_invoices,
        coalesce(sum(i.amount) filter (where i.paid_at is null or i.paid_at >= k.as_of), 0)
            as unpaid_amount
    from keys as k
    inner join invoices as i on k.account_id = i.account_id and k.as_of > i.issued_at
    group by k.account_id, k.as_of
)

-- the order of these columns is the feature table's
select  -- noqa: ST06
    s.*,  -- noqa: AM04
    sf.* exclude (account_id, as_of),  -- noqa: RF02
    cast(sf.seats - sf.seats_90d_ago as double) as seats_change,
    case
        when sf.seats_90d_ago > 0
            then 100.0 * (sf.seats - sf.seats_90d_ago) / sf.seats_90d_ago
    end as seats_change_pct,
    uf.* exclude (account_id, as_of),  -- noqa: RF02
    coalesce(uf.usage_30d, 0) / (coalesce(uf.usage_31_90d, 0) / 2.0 + 1.0) as usage_trend,
    case when sf.seats > 0 then coalesce(uf.active_users_30d, 0) / sf.seats end
        as active_users_per_seat,
    ll.days_since_last_login,
    tf.* exclude (account_id, as_of),  -- noqa: RF02
    inv.* exclude (account_id, as_of),  -- noqa: RF02
    a.industry,
    a.tier,
    a.employee_count
    /* fragment: custom_columns */
from snap as s
left join staging.stg_crm__accounts as a on s.account_id = a.account_id
left join subscription_features as sf on s.account_id = sf.account_id and s.as_of = sf.as_of
left join usage_features as uf on s.account_id = uf.account_id and s.as_of = uf.as_of
left join last_login as ll on s.account_id = ll.account_id and s.as_of = ll.as_of
left join ticket_features as tf on s.account_id = tf.account_id and s.as_of = tf.as_of
left join invoice_features as inv on s.account_id = inv.account_id and s.as_of = inv.as_of
order by s.as_of, s.account_id
