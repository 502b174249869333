-- The leads in the sidebar's scope (owner, segment of their account): the CTE `leads` of
-- the pages that read leads (dashboards.queries.scope).
-- Every column passes through (AM04): each page picks its own.
select l.*  -- noqa: AM04
from marts.fct_leads as l
left join marts.dim_accounts as a on l.account_id = a.account_id
where
    (not $by_owner or list_contains($owners::varchar[], l.owner_user_id))
    and (not $by_segment or list_contains($segments::varchar[], a.tier))
