-- Per campaign started in the period and attribution model: deals credited, pipeline and
-- revenue credited, over the deals in scope (owner, segment): `opps`.
/* fragment: opps */
select
    c.campaign_id,
    c.attribution_model,
    sum(c.weight)::double as deals_credited,
    sum(c.attributed_amount)::double as pipeline,
    sum(c.attributed_won_amount)::double as revenue
from marts.fct_campaign_attribution as c
inner join opps as o on c.opportunity_id = o.opportunity_id
inner join marts.fct_campaign_performance as p on c.campaign_id = p.campaign_id
where p.started_at >= $start and p.started_at < $end_excl
group by all
