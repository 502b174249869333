-- Open scored leads in scope (owner, segment, $sources, $grades), highest score first,
-- with grade, reasons and next action. $search matches the company, the e-mail or the
-- lead id (case-insensitive, literal text). `leads`: the leads in scope.
/* fragment: leads */
select
    s.lead_id,
    u.name as owner,
    l.status,
    l.created_at,
    s.score,
    s.probability,
    s.grade,
    s.band,
    s.reasons,
    s.next_action,
    s.scoring_path,
    coalesce(l.company, acc.name) as company,
    coalesce(l.source, 'unknown') as source
from publish.lead_scores as s
inner join leads as l on s.lead_id = l.lead_id
left join marts.dim_accounts as acc on l.account_id = acc.account_id
left join marts.dim_users as u on l.owner_user_id = u.user_id
where
    (
        len($sources::varchar[]) = 0
        or list_contains($sources::varchar[], coalesce(l.source, 'unknown'))
    )
    and (len($grades::varchar[]) = 0 or list_contains($grades::varchar[], s.grade))
    and (
        $search = ''
        or contains(lower(coalesce(l.company, acc.name, '')), lower($search))
        or contains(lower(coalesce(l.email, '')), lower($search))
        or contains(lower(s.lead_id), lower($search))
    )
order by s.score desc, s.lead_id asc
