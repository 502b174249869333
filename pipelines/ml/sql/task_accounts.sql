-- Scored customers with what a task needs: name, owner, whether anyone there may be
-- contacted.
select
    scores.account_id as entity_id,
    customers.name,
    customers.owner_user_id as owner_id,
    scores.score,
    scores.next_action,
    scores.reasons,
    scores.as_of,
    scores.valid_until,
    coalesce(accounts.contactable, true) as contactable
from ml.churn_scores as scores
left join marts.dim_accounts as customers on scores.account_id = customers.account_id
left join _task_accounts as accounts on scores.account_id = accounts.account_id
