-- Scored customers in scope, highest churn risk first: MRR, health and churn risk with
-- reasons and next action, and the next renewal (on or after the data's today).
with renewals as (
    select
        account_id,
        min(renewal_date) as next_renewal
    from marts.fct_subscriptions
    where is_live and renewal_date >= $as_of
    group by account_id
)

select
    s.account_id,
    a.name as account,
    a.tier,
    u.name as owner,
    a.current_mrr::double as mrr,
    a.customer_since,
    r.next_renewal,
    s.score as churn_risk,
    s.probability,
    s.grade,
    s.band,
    s.reasons,
    s.next_action,
    s.scoring_path,
    100 - s.score as health
from publish.churn_scores as s
inner join marts.dim_accounts as a on s.account_id = a.account_id
left join marts.dim_users as u on a.owner_user_id = u.user_id
left join renewals as r on s.account_id = r.account_id
where
    (not $by_owner or list_contains($owners::varchar[], a.owner_user_id))
    and (not $by_segment or list_contains($segments::varchar[], a.tier))
order by s.score desc, a.current_mrr desc
