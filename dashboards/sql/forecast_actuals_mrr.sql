-- Actual MRR per month (period, actual) of one segment ($segment_type, $segment), defined
-- as the forecast's series defines it (models.forecasting.series).
select
    m.month::date as period,
    sum(m.mrr_end)::double as actual
from marts.fct_mrr_movements as m
left join marts.dim_accounts as a on m.account_id = a.account_id
left join marts.dim_users as u on a.owner_user_id = u.user_id
where
    case $segment_type
        when 'region' then coalesce(a.region, 'unknown')
        when 'team' then coalesce(u.team_name, 'unknown')
        else 'all'
    end = $segment
group by all
order by period
