{#- Campaign credit for each opportunity under three models, one row per (opportunity,
    campaign, attribution_model) that gets credit.

    Touches are campaign memberships enrolled strictly before the opportunity was created:
    those of the lead converted into the opportunity (leads.converted_opportunity_id) and
    those of the contacts of the opportunity's account. Memberships without enrolled_at
    and campaigns the CRM does not have are not touches. A campaign touching a deal
    several times (several contacts, or lead and contact) is one campaign with `touches`
    touches.

    first_touch  weight 1 to the campaign with the earliest touch
    last_touch   weight 1 to the campaign with the latest touch
    linear       weight 1 / n to each of the n campaigns that touched the deal

    Ties go to the smaller campaign_id. touch_at is the campaign's latest touch for
    last_touch and its earliest otherwise. attributed_amount = weight x amount (pipeline);
    attributed_won_amount the same for won deals, else 0. Weights sum to 1 per
    opportunity and model; opportunities without touches have no rows. -#}

with opportunities as (

    select
        opportunity_id,
        account_id,
        created_at,
        amount,
        is_won
    from {{ ref('stg_crm__opportunities') }}

),

converted_leads as (

    select
        lead_id,
        converted_opportunity_id
    from {{ ref('stg_crm__leads') }}
    where converted_opportunity_id is not null

),

contacts as (

    select
        contact_id,
        account_id
    from {{ ref('stg_crm__contacts') }}
    where account_id is not null

),

campaigns as (

    select campaign_id
    from {{ ref('stg_crm__campaigns') }}

),

memberships as (

    select
        campaign_id,
        member_id,
        member_type,
        enrolled_at
    from {{ ref('stg_crm__campaign_members') }}
    where enrolled_at is not null

),

-- Who can touch a deal for a campaign: the lead converted into it, and the contacts of
-- its account.
deal_members as (

    select
        opportunities.opportunity_id,
        opportunities.created_at,
        'lead' as member_type,
        converted_leads.lead_id as member_id
    from opportunities
    inner join converted_leads
        on opportunities.opportunity_id = converted_leads.converted_opportunity_id

    union all

    select
        opportunities.opportunity_id,
        opportunities.created_at,
        'contact' as member_type,
        contacts.contact_id as member_id
    from opportunities
    inner join contacts
        on opportunities.account_id = contacts.account_id

),

touches as (

    select
        deal_members.opportunity_id,
        memberships.campaign_id,
        memberships.enrolled_at as touched_at
    from deal_members
    inner join memberships
        on deal_members.member_type = memberships.member_type
        and deal_members.member_id = memberships.member_id
    where memberships.enrolled_at < deal_members.created_at

),

campaign_touches as (

    select
        touches.opportunity_id,
        touches.campaign_id,
        min(touches.touched_at) as first_touched_at,
        max(touches.touched_at) as last_touched_at,
        count(*) as touches
    from touches
    inner join campaigns
        on touches.campaign_id = campaigns.campaign_id
    group by
        touches.opportunity_id,
        touches.campaign_id

),

ranked as (

    select
        opportunity_id,
        campaign_id,
        first_touched_at,
        last_touched_at,
        touches,
        row_number() over (
            partition by opportunity_id
            order by first_touched_at, campaign_id
        ) as first_touch_rank,
        row_number() over (
            partition by opportunity_id
            order by last_touched_at desc, campaign_id asc
        ) as last_touch_rank,
        count(*) over (partition by opportunity_id) as campaigns_touching
    from campaign_touches

),

credited as (

    select
        opportunity_id,
        campaign_id,
        'first_touch' as attribution_model,
        first_touched_at as touch_at,
        touches,
        campaigns_touching,
        cast(1 as {{ rev_double() }}) as weight
    from ranked
    where first_touch_rank = 1

    union all

    select
        opportunity_id,
        campaign_id,
        'last_touch' as attribution_model,
        last_touched_at as touch_at,
        touches,
        campaigns_touching,
        cast(1 as {{ rev_double() }}) as weight
    from ranked
    where last_touch_rank = 1

    union all

    select
        opportunity_id,
        campaign_id,
        'linear' as attribution_model,
        first_touched_at as touch_at,
        touches,
        campaigns_touching,
        cast(1 as {{ rev_double() }}) / campaigns_touching as weight
    from ranked

),

final as (

    select
        credited.opportunity_id,
        credited.campaign_id,
        credited.attribution_model,
        opportunities.account_id,
        credited.touch_at,
        credited.touches,
        credited.campaigns_touching,
        credited.weight,
        opportunities.amount as opportunity_amount,
        opportunities.is_won,
        credited.weight * opportunities.amount as attributed_amount,
        case when opportunities.is_won then credited.weight * opportunities.amount else 0 end
            as attributed_won_amount
    from credited
    inner join opportunities
        on credited.opportunity_id = opportunities.opportunity_id

)

select * from final
