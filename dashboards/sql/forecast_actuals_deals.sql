-- Actual bookings (won deals by closing date) or new pipeline (deals by creation date) per
-- $grain period (period, actual) of one segment, defined as the forecast's series defines
-- it (models.forecasting.series).
with deals as (
    select
        case when $metric = 'bookings' then o.closed_at else o.created_at end
            as stamp,
        coalesce(o.amount, 0)::double as value,
        case $segment_type
            when 'region' then coalesce(a.region, 'unknown')
            when 'team' then coalesce(u.team_name, 'unknown')
            when 'product_line' then coalesce(o.product_line, 'unknown')
            else 'all'
        end as segment
    from marts.fct_opportunities as o
    left join marts.dim_accounts as a on o.account_id = a.account_id
    left join marts.dim_users as u on o.owner_user_id = u.user_id
    where $metric <> 'bookings' or o.is_won
)

select
    date_trunc($grain, stamp)::date as period,
    sum(value)::double as actual
from deals
where stamp is not null and segment = $segment
group by all
order by period
