-- One row: the period's headline figures (open pipeline at its end, bookings, deals won
-- and closed, MRR at its start and end, churned MRR and customers, leads and conversions).
with opps as (
    select
        o.*,
        a.tier
    from marts.fct_opportunities as o
    left join marts.dim_accounts as a on o.account_id = a.account_id
    where
        (not $by_owner or list_contains($owners::varchar[], o.owner_user_id))
        and (not $by_segment or list_contains($segments::varchar[], a.tier))
),

mrr as (
    select m.*
    from marts.fct_mrr_movements as m
    inner join marts.dim_accounts as a on m.account_id = a.account_id
    where
        (not $by_owner or list_contains($owners::varchar[], a.owner_user_id))
        and (not $by_segment or list_contains($segments::varchar[], a.tier))
),

leads as (
    select l.*
    from marts.fct_leads as l
    left join marts.dim_accounts as a on l.account_id = a.account_id
    where
        (not $by_owner or list_contains($owners::varchar[], l.owner_user_id))
        and (not $by_segment or list_contains($segments::varchar[], a.tier))
        and l.created_at >= $start and l.created_at < $end_excl
)

select
    (
        select coalesce(sum(amount), 0)
        from opps
        where created_at < $end_excl and (is_open or closed_at >= $end_excl)
    )::double as open_pipeline,
    (
        select coalesce(sum(amount), 0)
        from opps
        where is_won and closed_at >= $start and closed_at < $end_excl
    )::double as bookings,
    (
        select count(*) filter (where is_won)
        from opps
        where closed_at >= $start and closed_at < $end_excl
    ) as won_deals,
    (
        select count(*)
        from opps
        where is_closed and closed_at >= $start and closed_at < $end_excl
    ) as closed_deals,
    (
        select coalesce(sum(mrr_end), 0)
        from mrr
        where month = date_trunc('month', $end::date)
    )::double as mrr,
    (
        select coalesce(sum(mrr_start), 0)
        from mrr
        where month = date_trunc('month', $start::date)
    )::double as mrr_at_start,
    (
        select coalesce(sum(churned_mrr), 0)
        from mrr
        where month between date_trunc('month', $start::date) and date_trunc('month', $end::date)
    )::double as churned_mrr,
    (
        select count(*) filter (where movement = 'churn')
        from mrr
        where month between date_trunc('month', $start::date) and date_trunc('month', $end::date)
    ) as churned_customers,
    (select count(*) from leads) as leads,
    (select count(*) filter (where is_converted) from leads) as converted_leads
