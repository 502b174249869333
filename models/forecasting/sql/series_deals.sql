-- Every deal with its amount, outcome, dates and segments ($unknown where one is missing).
select
    o.amount,
    o.is_won,
    o.created_at,
    o.closed_at,
    coalesce(a.region, $unknown) as region,  -- noqa: RF02
    coalesce(u.team_name, $unknown) as team,  -- noqa: RF02
    coalesce(o.product_line, $unknown) as product_line  -- noqa: RF02
from marts.fct_opportunities as o
left join marts.dim_accounts as a on o.account_id = a.account_id
left join marts.dim_users as u on o.owner_user_id = u.user_id
