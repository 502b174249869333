{#- One row per campaign: reach, response, the leads and deals it influenced, and the
    revenue credited to it under each attribution model, with ROI.

    members / responded: memberships, and those whose furthest status is a click or more
      (clicked, responded, registered, attended).
    leads: distinct leads that are members of the campaign, or whose first
      campaign-tagged event (events.campaign_id, the UTM) points at it.
    opportunities / won / won_amount: the deals those leads were converted into
      (influenced deals; counted in full for every campaign that influenced them).
    attributed_revenue_*: won amounts credited by fct_campaign_attribution under each
      model (these add up across campaigns to the attributed deals' won amounts).
    roi_linear = (attributed_revenue_linear - cost) / cost; null without a cost. -#}

with campaigns as (

    select
        campaign_id,
        name,
        channel,
        cost,
        started_at,
        ended_at
    from {{ ref('stg_crm__campaigns') }}

),

memberships as (

    select
        campaign_id,
        member_id,
        member_type,
        status
    from {{ ref('stg_crm__campaign_members') }}

),

leads as (

    select
        lead_id,
        converted_opportunity_id
    from {{ ref('stg_crm__leads') }}

),

opportunities as (

    select
        opportunity_id,
        amount,
        is_won
    from {{ ref('stg_crm__opportunities') }}

),

campaign_events as (

    select
        lead_id,
        campaign_id,
        occurred_at,
        event_id
    from {{ ref('stg_crm__events') }}
    where
        lead_id is not null
        and campaign_id is not null

),

attribution as (

    select
        campaign_id,
        attribution_model,
        attributed_amount,
        attributed_won_amount
    from {{ ref('fct_campaign_attribution') }}

),

membership_counts as (

    select
        campaign_id,
        count(*) as members,
        count(case when member_type = 'lead' then 1 end) as lead_members,
        count(case when member_type = 'contact' then 1 end) as contact_members,
        count(
            case
                when
                    status in (
                        '{{ mkt_responded_statuses() | join("', '") }}'  -- noqa: LT05
                    )
                    then 1
            end
        )
            as responded
    from memberships
    group by campaign_id

),

ranked_lead_campaigns as (

    select
        lead_id,
        campaign_id,
        row_number() over (
            partition by lead_id
            order by occurred_at, event_id
        ) as campaign_rank
    from campaign_events

),

campaign_leads as (

    select
        campaign_id,
        member_id as lead_id
    from memberships
    where member_type = 'lead'

    union

    select
        campaign_id,
        lead_id
    from ranked_lead_campaigns
    where campaign_rank = 1

),

lead_counts as (

    select
        campaign_leads.campaign_id,
        count(*) as leads,
        count(distinct opportunities.opportunity_id) as opportunities,
        count(distinct case when opportunities.is_won then opportunities.opportunity_id end) as won,
        sum(case when opportunities.is_won then opportunities.amount end) as won_amount
    from campaign_leads
    left join leads
        on campaign_leads.lead_id = leads.lead_id
    left join opportunities
        on leads.converted_opportunity_id = opportunities.opportunity_id
    group by campaign_leads.campaign_id

),

attributed as (

    select
        campaign_id,
        sum(case when attribution_model = 'first_touch' then attributed_won_amount else 0 end)
            as attributed_revenue_first_touch,
        sum(case when attribution_model = 'last_touch' then attributed_won_amount else 0 end)
            as attributed_revenue_last_touch,
        sum(case when attribution_model = 'linear' then attributed_won_amount else 0 end)
            as attributed_revenue_linear,
        sum(case when attribution_model = 'linear' then attributed_amount else 0 end)
            as attributed_pipeline_linear
    from attribution
    group by campaign_id

),

final as (

    select
        campaigns.campaign_id,
        campaigns.name,
        campaigns.channel,
        campaigns.cost,
        campaigns.started_at,
        campaigns.ended_at,
        coalesce(membership_counts.members, 0) as members,
        coalesce(membership_counts.lead_members, 0) as lead_members,
        coalesce(membership_counts.contact_members, 0) as contact_members,
        coalesce(membership_counts.responded, 0) as responded,
        {{ rev_ratio('membership_counts.responded', 'membership_counts.members') }}
            as response_rate,
        coalesce(lead_counts.leads, 0) as leads,
        coalesce(lead_counts.opportunities, 0) as opportunities,
        coalesce(lead_counts.won, 0) as won,
        coalesce(lead_counts.won_amount, 0) as won_amount,
        coalesce(attributed.attributed_pipeline_linear, 0) as attributed_pipeline_linear,
        coalesce(attributed.attributed_revenue_first_touch, 0) as attributed_revenue_first_touch,
        coalesce(attributed.attributed_revenue_last_touch, 0) as attributed_revenue_last_touch,
        coalesce(attributed.attributed_revenue_linear, 0) as attributed_revenue_linear,
        {{ rev_ratio('campaigns.cost', 'lead_counts.leads') }} as cost_per_lead,
        {{ rev_ratio(
            'coalesce(attributed.attributed_revenue_linear, 0) - campaigns.cost', 'campaigns.cost'
        ) }} as roi_linear
    from campaigns
    left join membership_counts
        on campaigns.campaign_id = membership_counts.campaign_id
    left join lead_counts
        on campaigns.campaign_id = lead_counts.campaign_id
    left join attributed
        on campaigns.campaign_id = attributed.campaign_id

)

select * from final
