-- The $top accounts in scope by hours logged in the period: per account and activity
-- type, hours, cost of that time and activities.
with scoped as (
    select
        t.*,
        a.name as account
    from marts.fct_time_per_client as t
    inner join marts.dim_accounts as a on t.account_id = a.account_id
    where
        t.month between date_trunc('month', $start::date) and $end
        and (not $by_owner or list_contains($owners::varchar[], t.user_id))
        and (not $by_segment or list_contains($segments::varchar[], a.tier))
),

top_accounts as (
    select account_id from scoped
    group by account_id
    order by sum(hours) desc, account_id limit $top
)

select
    s.account_id,
    s.activity_type,
    coalesce(s.account, s.account_id) as account,
    sum(s.hours)::double as hours,
    sum(s.cost)::double as cost,
    sum(s.activities) as activities
from scoped as s inner join top_accounts on s.account_id = top_accounts.account_id
group by all
