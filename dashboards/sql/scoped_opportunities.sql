-- The deals in the sidebar's scope (owner, segment), each with its account's tier: the
-- CTE `opps` of the pages that read deals (dashboards.queries.scope).
-- Every column passes through (AM04): each page picks its own.
select
    o.*,  -- noqa: AM04
    a.tier
from marts.fct_opportunities as o
left join marts.dim_accounts as a on o.account_id = a.account_id
where
    (not $by_owner or list_contains($owners::varchar[], o.owner_user_id))
    and (not $by_segment or list_contains($segments::varchar[], a.tier))
