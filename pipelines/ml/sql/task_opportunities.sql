-- Scored open deals with what a task needs: name, owner, risk level, whether anyone at
-- the account may be contacted.
select
    scores.opportunity_id as entity_id,
    deals.name,
    deals.owner_user_id as owner_id,
    scores.score,
    scores.next_action,
    scores.reasons,
    scores.as_of,
    scores.valid_until,
    scores.risk_level,
    coalesce(accounts.contactable, true) as contactable
from ml.opportunity_scores as scores
left join marts.fct_opportunities as deals on scores.opportunity_id = deals.opportunity_id
left join _task_accounts as accounts on deals.account_id = accounts.account_id
