-- One row: the period's headline figures (open pipeline at its end, bookings, deals won
-- and closed, MRR at its start and end, churned MRR and customers, leads and conversions).
-- `opps`, `mrr`, `leads`: the deals, MRR movements and leads in scope.
with /* fragment: opps */
/* fragment: mrr */
/* fragment: leads */
period_leads as (
    select is_converted
    from leads
    where created_at >= $start and created_at < $end_excl
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
    (select count(*) from period_leads) as leads,
    (select count(*) filter (where is_converted) from period_leads) as converted_leads
