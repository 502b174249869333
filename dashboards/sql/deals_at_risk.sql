-- Open scored deals, largest first: the deal, its account and owner, its score, grade,
-- risk flags, reasons and next action (the page keeps those with a risk flag).
-- `opps`: the deals in scope.
/* fragment: opps */
select
    o.opportunity_id,
    o.name as deal,
    acc.name as account,
    u.name as owner,
    o.stage,
    o.amount::double as amount,
    o.expected_close_date,
    o.cycle_days as age_days,
    o.current_stage_days,
    o.days_since_last_activity,
    s.score,
    s.probability,
    s.grade,
    s.band,
    s.risk_flags,
    s.reasons,
    s.next_action,
    s.scoring_path
from opps as o
inner join publish.opportunity_scores as s on o.opportunity_id = s.opportunity_id
left join marts.dim_accounts as acc on o.account_id = acc.account_id
left join marts.dim_users as u on o.owner_user_id = u.user_id
where o.is_open
order by o.amount desc nulls last, s.score asc
