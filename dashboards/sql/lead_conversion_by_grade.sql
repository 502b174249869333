-- Leads in scope first scored in the period and at least $days before the data's today:
-- per grade (the first one the rep saw), how many and how many converted within $days.
-- `leads`: the leads in scope.
with /* fragment: leads */
first_scores as (
    select
        lead_id,
        arg_min(grade, scored_at) as grade,
        min(scored_at) as scored_at
    from publish.lead_scores_history
    where
        scored_at >= $start and scored_at < $end_excl
        and scored_at <= $as_of::timestamp - to_days($days)
    group by lead_id
)

select
    f.grade,
    count(*) as leads,
    count(*) filter (
        where l.converted_at >= f.scored_at
        and l.converted_at < f.scored_at + to_days($days)
    ) as converted
from first_scores as f
inner join leads as l on f.lead_id = l.lead_id
where
    len($sources::varchar[]) = 0
    or list_contains($sources::varchar[], coalesce(l.source, 'unknown'))
group by all
order by f.grade
