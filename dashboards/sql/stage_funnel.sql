-- Deals created in the period: per stage of the CRM (its open stages, then its first won
-- stage, in its own order), how many reached it and their value, and the average days
-- spent in it. A deal reached a stage when it spent time in it (its history) or is now at
-- or past it; days in a stage are averaged over the deals that have left it.
-- `opps`: the deals in scope.
with /* fragment: opps */
stages as (
    select
        label as stage,
        position as stage_order
    from staging.stg_crm__vocabulary
    where
        field = 'opportunity_stages'
        and (
            meaning = 'open'
            or position = (
                select min(w.position) from staging.stg_crm__vocabulary as w
                where w.field = 'opportunity_stages' and w.meaning = 'won'
            )
        )
),

deals as (
    select
        opportunity_id,
        amount,
        case when stage_meaning <> 'lost' then stage_position end as current_order
    from opps
    where created_at >= $start and created_at < $end_excl
),

visits as (
    select
        v.opportunity_id,
        v.stage_order,
        sum(v.days_in_stage) as days_in_stage
    from intermediate.int_opportunities_stage_durations as v
    inner join deals as d on v.opportunity_id = d.opportunity_id
    where v.stage_order is not null
    group by v.opportunity_id, v.stage_order
),

reached as (
    select
        d.opportunity_id,
        d.amount,
        greatest(
            1,
            coalesce(d.current_order, 0),
            coalesce(max(v.stage_order) filter (where v.days_in_stage > 0), 0)
        ) as reached
    from deals as d
    left join visits as v on d.opportunity_id = v.opportunity_id
    group by d.opportunity_id, d.amount, d.current_order
)

select
    s.stage,
    s.stage_order,
    count(r.reached) filter (where r.reached >= s.stage_order) as deals,
    coalesce(sum(r.amount) filter (where r.reached >= s.stage_order), 0)::double
        as amount,
    avg(coalesce(v.days_in_stage, 0)) filter (where r.reached > s.stage_order)
        as avg_days_in_stage
from stages as s
left join reached as r on true
left join visits as v
    on r.opportunity_id = v.opportunity_id and s.stage_order = v.stage_order
group by s.stage, s.stage_order
order by s.stage_order
