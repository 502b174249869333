-- Campaigns started in the period: reach, response, influenced leads and deals, cost.
select
    campaign_id,
    name,
    channel,
    cost::double as cost,
    started_at,
    ended_at,
    members,
    responded,
    response_rate,
    leads,
    opportunities,
    won,
    won_amount::double as won_amount,
    cost_per_lead
from marts.fct_campaign_performance
where started_at >= $start and started_at < $end_excl
order by started_at
