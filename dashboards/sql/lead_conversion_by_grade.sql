-- Leads in scope first scored in the period and at least $days before the data's today:
-- per grade (the first one the rep saw), how many and how many converted within $days.
with first_scores as (
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
inner join marts.fct_leads as l on f.lead_id = l.lead_id
left join marts.dim_accounts as acc on l.account_id = acc.account_id
where
    (not $by_owner or list_contains($owners::varchar[], l.owner_user_id))
    and (not $by_segment or list_contains($segments::varchar[], acc.tier))
    and (
        len($sources::varchar[]) = 0
        or list_contains($sources::varchar[], coalesce(l.source, 'unknown'))
    )
group by all
order by f.grade
