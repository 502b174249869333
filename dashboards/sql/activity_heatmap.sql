-- Activities and hours logged by weekday and hour (UTC), over the reps in scope, all history.
select
    weekday,
    hour,
    sum(activities) as activities,
    coalesce(sum(hours), 0)::double as hours
from marts.fct_activity_heatmap
where (not $by_owner or list_contains($owners::varchar[], user_id))
group by all
