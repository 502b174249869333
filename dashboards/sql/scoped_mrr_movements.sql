-- The MRR movements of the accounts in the sidebar's scope (owner, segment): the CTE
-- `mrr` of the pages that read MRR (dashboards.queries.scope).
-- Every column passes through (AM04): each page picks its own.
select m.*  -- noqa: AM04
from marts.fct_mrr_movements as m
inner join marts.dim_accounts as a on m.account_id = a.account_id
where
    (not $by_owner or list_contains($owners::varchar[], a.owner_user_id))
    and (not $by_segment or list_contains($segments::varchar[], a.tier))
