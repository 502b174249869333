-- Per rep in scope over the months of the period: deals closed and won, bookings, win
-- rate, activity, leads assigned and the median hours to a first response.
select
    p.user_id,
    u.name as rep,
    u.team_name as team,
    u.role,
    sum(p.opportunities_closed) as closed,
    sum(p.won) as won,
    sum(p.won_amount)::double as bookings,
    sum(p.won) / nullif(sum(p.opportunities_closed), 0) as win_rate,
    sum(p.activities) as activities,
    sum(p.active_days) as active_days,
    sum(p.leads_assigned) as leads_assigned,
    median(p.median_hours_to_first_response) as hours_to_first_response
from marts.fct_rep_performance as p
inner join marts.dim_users as u on p.user_id = u.user_id
where
    p.month between date_trunc('month', $start::date) and $end
    and (not $by_owner or list_contains($owners::varchar[], p.user_id))
group by all
order by bookings desc, activities desc
