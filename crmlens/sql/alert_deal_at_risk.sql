-- Returns open deals with two or more risk flags, worth at least the median open deal.
with open_deals as (
    select
        o.*,
        s.score,
        s.risk_flags,
        median(o.amount) over () as median_amount
    from ml.opportunity_scores as s
    inner join marts.fct_opportunities as o on s.opportunity_id = o.opportunity_id
    where o.is_open
)

select
    'opportunity' as entity_type,
    opportunity_id as entity_id,
    owner_user_id,
    'Deal at risk: '
    || coalesce(name, opportunity_id)
    || ' ('
    || cast(round(amount) as bigint)
    || ')' as title,
    'Win probability '
    || score
    || ' %; flags: '
    || array_to_string(
        cast(json_extract_string(risk_flags, '$[*]') as varchar[]), ', '
    ) as detail
from open_deals
where json_array_length(risk_flags) >= 2 and amount >= median_amount
