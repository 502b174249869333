-- MRR at the end of each month per region and team ($unknown where one is missing).
select
    m.month,
    coalesce(a.region, $unknown) as region,  -- noqa: RF02
    coalesce(u.team_name, $unknown) as team,  -- noqa: RF02
    sum(m.mrr_end)::double as value  -- noqa: RF04
from marts.fct_mrr_movements as m
left join marts.dim_accounts as a on m.account_id = a.account_id
left join marts.dim_users as u on a.owner_user_id = u.user_id
group by all
