-- Open deals now, by stage: how many, their value and their average age in days.
with opps as (
    select
        o.*,
        a.tier
    from marts.fct_opportunities as o
    left join marts.dim_accounts as a on o.account_id = a.account_id
    where
        (not $by_owner or list_contains($owners::varchar[], o.owner_user_id))
        and (not $by_segment or list_contains($segments::varchar[], a.tier))
)

select
    stage,
    count(*) as deals,
    coalesce(sum(amount), 0)::double as amount,
    avg(cycle_days) as avg_age_days
from opps
where is_open
group by all
