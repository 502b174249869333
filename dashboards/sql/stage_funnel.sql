-- Deals created in the period: per stage, how many reached it and their value, and the
-- average days spent in it. A deal reached a stage when it spent time in it (its history)
-- or is now past it; days in a stage are averaged over the deals that have left it.
-- `opps`: the deals in scope.
with /* fragment: opps */
stages (stage, stage_order) as (
    values ('prospecting', 1), ('qualification', 2), ('needs_analysis', 3),
    ('proposal', 4), ('negotiation', 5), ('closed_won', 6)
),

deals as (
    select
        amount,
        days_in_prospecting,
        days_in_qualification,
        days_in_needs_analysis,
        days_in_proposal,
        days_in_negotiation,
        greatest(
            1,
            case stage
                when 'prospecting' then 1 when 'qualification' then 2
                when 'needs_analysis' then 3 when 'proposal' then 4
                when 'negotiation' then 5 when 'closed_won' then 6 else 1
            end,
            case when days_in_qualification > 0 then 2 else 0 end,
            case when days_in_needs_analysis > 0 then 3 else 0 end,
            case when days_in_proposal > 0 then 4 else 0 end,
            case when days_in_negotiation > 0 then 5 else 0 end
        ) as reached
    from opps
    where created_at >= $start and created_at < $end_excl
)

select
    s.stage,
    s.stage_order,
    count(d.reached) filter (where d.reached >= s.stage_order) as deals,
    coalesce(sum(d.amount) filter (where d.reached >= s.stage_order), 0)::double
        as amount,
    avg(case s.stage_order
        when 1 then d.days_in_prospecting when 2 then d.days_in_qualification
        when 3 then d.days_in_needs_analysis when 4 then d.days_in_proposal
        when 5 then d.days_in_negotiation
    end)
    filter (where d.reached > s.stage_order) as avg_days_in_stage
from stages as s
left join deals as d on true
group by all
order by s.stage_order
