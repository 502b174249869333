-- Active subscriptions in scope renewing within $days of the data's today, soonest first,
-- with the customer's churn risk, reasons and next action.
select
    sub.subscription_id,
    sub.account_id,
    a.name as account,
    a.tier,
    u.name as owner,
    sub.plan,
    sub.seats,
    sub.mrr::double as mrr,
    sub.renewal_date,
    s.score as churn_risk,
    s.band,
    s.reasons,
    s.next_action
from marts.fct_subscriptions as sub
inner join marts.dim_accounts as a on sub.account_id = a.account_id
left join marts.dim_users as u on a.owner_user_id = u.user_id
left join publish.churn_scores as s on sub.account_id = s.account_id
where
    sub.is_live
    and sub.renewal_date >= $as_of and sub.renewal_date < $as_of + to_days($days)
    and (not $by_owner or list_contains($owners::varchar[], a.owner_user_id))
    and (not $by_segment or list_contains($segments::varchar[], a.tier))
order by sub.renewal_date asc, sub.mrr desc
