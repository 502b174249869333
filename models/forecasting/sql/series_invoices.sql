-- Billed invoices (draft and void ones never were): amount, issued_at and the account's
-- region and owner's team ($unknown where one is missing), as fct_revenue_monthly counts
-- them.
select
    i.amount,
    i.issued_at,
    coalesce(a.region, $unknown) as region,  -- noqa: RF02
    coalesce(u.team_name, $unknown) as team  -- noqa: RF02
from staging.stg_crm__invoices as i
left join marts.dim_accounts as a on i.account_id = a.account_id
left join marts.dim_users as u on a.owner_user_id = u.user_id
where i.status is null or i.status not in ('draft', 'void')
