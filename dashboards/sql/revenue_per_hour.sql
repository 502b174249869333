-- Accounts in scope with logged time (all history): hours, cost of that time, revenue and
-- revenue per hour, the best return first.
select
    r.account_id,
    r.lifecycle,
    r.total_hours as hours,
    r.total_cost as cost,
    r.revenue,
    r.revenue_per_hour,
    coalesce(r.name, r.account_id) as account,
    coalesce(r.tier, 'unknown') as tier
from marts.fct_account_revenue_per_hour as r
inner join marts.dim_accounts as a on r.account_id = a.account_id
where
    r.total_hours > 0
    and (not $by_owner or list_contains($owners::varchar[], a.owner_user_id))
    and (not $by_segment or list_contains($segments::varchar[], a.tier))
order by r.revenue_per_hour desc
