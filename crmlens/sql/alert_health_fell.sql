-- Returns customers whose churn score rose health_fell_points points or more since the
-- previous published run.
with params as (
    select $health_fell_points as health_fell_points
),

previous_run as (
    select h.run_id
    from publish.churn_scores_history as h
    where h.run_id not in (select distinct c.run_id from ml.churn_scores as c)
    group by h.run_id
    order by max(h.scored_at) desc, h.run_id desc
    limit 1
),

previous as (
    select
        h.account_id,
        h.score
    from publish.churn_scores_history as h
    where h.run_id = (select r.run_id from previous_run as r)
)

select
    'account' as entity_type,
    s.account_id as entity_id,
    a.owner_user_id,
    'Customer health fell: ' || coalesce(a.name, s.account_id) as title,
    'Churn risk '
    || p.score
    || ' → '
    || s.score
    || ' %; '
    || coalesce(s.next_action, '') as detail
from ml.churn_scores as s
inner join previous as p on s.account_id = p.account_id
left join marts.dim_accounts as a on s.account_id = a.account_id
cross join params
where s.score - p.score >= params.health_fell_points
