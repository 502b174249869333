-- Returns hot leads created in the last hot_lead_days days that nobody answered yet.
with params as (
    select
        $today as today,
        $hot_lead_days as hot_lead_days
)

select
    'lead' as entity_type,
    s.lead_id as entity_id,
    l.owner_user_id,
    'Hot lead not contacted: '
    || coalesce(l.source, 'unknown source')
    || ', score '
    || s.score as title,
    coalesce(s.next_action, '')
    || ' — created '
    || strftime(l.created_at, '%Y-%m-%d') as detail
from ml.lead_scores as s
inner join marts.fct_leads as l on s.lead_id = l.lead_id
cross join params
where
    s.band = 'hot'
    and l.first_response_at is null
    and l.created_at >= params.today - interval (params.hot_lead_days) day
