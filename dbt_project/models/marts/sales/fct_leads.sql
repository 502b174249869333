{#- One row per lead: where it came from, how it was worked, how far it went in the funnel.
    The CRM's custom lead attributes follow the documented columns. -#}

{%- set documented_columns = [
    'lead_id', 'contact_id', 'account_id', 'company', 'email', 'source', 'status', 'status_label',
    'owner_user_id',
    'created_at', 'converted_at', 'converted_opportunity_id', 'disqualified_at', 'disqualified_reason',
    'updated_at', 'campaign_id', 'cohort_month', 'first_touch_at', 'last_touch_at',
    'first_touch_channel', 'last_touch_channel', 'first_response_at', 'hours_to_first_response',
    'activities_before_conversion', 'events_before_conversion', 'high_intent_events_before_conversion',
    'is_mql', 'is_sql', 'is_converted', 'days_to_convert', 'is_won',
] -%}
{%- for days in var('lead_conversion_days') -%}
    {%- do documented_columns.append('converted_within_' ~ days ~ 'd') -%}
{%- endfor %}

with leads as (

    select * from {{ ref('stg_crm__leads') }}

),

lead_touches as (

    select * from {{ ref('int_lead_touches') }}

),

campaign_members as (

    select * from {{ ref('stg_crm__campaign_members') }}

),

opportunities as (

    select * from {{ ref('stg_crm__opportunities') }}

),

users as (

    select * from {{ ref('dim_users') }}

),

as_of as (

    select * from {{ ref('int_sales_as_of') }}

),

-- A lead is in a campaign as itself, or as its contact.
lead_members as (

    select
        lead_id,
        'lead' as member_type,
        lead_id as member_id
    from leads

    union all

    select
        lead_id,
        'contact' as member_type,
        contact_id as member_id
    from leads
    where contact_id is not null

),

memberships as (

    select distinct
        lead_members.lead_id,
        campaign_members.campaign_id,
        campaign_members.enrolled_at
    from lead_members
    inner join campaign_members
        on lead_members.member_type = campaign_members.member_type
        and lead_members.member_id = campaign_members.member_id

),

ranked_memberships as (

    select
        lead_id,
        campaign_id,
        row_number()
            over (partition by lead_id order by enrolled_at nulls last, campaign_id)
            as membership_rank
    from memberships

),

first_campaigns as (

    select
        lead_id,
        campaign_id
    from ranked_memberships
    where membership_rank = 1

),

-- The funnel is monotone by construction: won ⊆ converted ⊆ SQL ⊆ MQL.
conversions as (

    select
        leads.lead_id,
        leads.converted_at is not null or leads.status = 'converted' as is_converted,
        {{ days_between('leads.created_at', 'leads.converted_at') }} as days_to_convert
    from leads

),

funnel_flags as (

    select
        conversions.lead_id,
        conversions.is_converted,
        conversions.days_to_convert,
        conversions.is_converted or leads.status in ('sql', 'qualified', 'converted') as is_sql,
        conversions.is_converted
        or leads.status in ('mql', 'sql', 'qualified', 'converted', 'working', 'nurturing')
        or lead_touches.high_intent_events_before_conversion > 0 as is_mql
    from conversions
    inner join leads
        on conversions.lead_id = leads.lead_id
    inner join lead_touches
        on conversions.lead_id = lead_touches.lead_id

),

final as (

    select
        leads.lead_id,
        leads.contact_id,
        leads.account_id,
        leads.company,
        leads.email,
        users.user_id as owner_user_id,
        leads.source,
        first_campaigns.campaign_id,
        leads.status,
        leads.status_label,
        leads.created_at,
        cast({{ dbt.date_trunc('month', 'leads.created_at') }} as date) as cohort_month,
        lead_touches.first_touch_at,
        lead_touches.last_touch_at,
        lead_touches.first_touch_channel,
        lead_touches.last_touch_channel,
        lead_touches.first_response_at,
        {{ days_between('leads.created_at', 'lead_touches.first_response_at') }}
        * 24 as hours_to_first_response,
        lead_touches.activities_before_conversion,
        lead_touches.events_before_conversion,
        lead_touches.high_intent_events_before_conversion,
        funnel_flags.is_mql,
        funnel_flags.is_sql,
        funnel_flags.is_converted,
        leads.converted_at,
        -- Only an opportunity that is in the warehouse (not quarantined), so that it joins.
        opportunities.opportunity_id as converted_opportunity_id,
        funnel_flags.days_to_convert,
        {%- for days in var('lead_conversion_days') %}
        -- Null while the window is still open: not converted yet is not "not converted".
            case
                when leads.converted_at is not null then funnel_flags.days_to_convert <= {{ days }}
                when funnel_flags.is_converted then null
                when {{ dbt.dateadd('day', days, 'leads.created_at') }} <= as_of.as_of_at then false
            end as converted_within_{{ days }}d,
        {%- endfor %}
        funnel_flags.is_converted
        and coalesce(opportunities.stage_meaning = 'won', false) as is_won,
        leads.disqualified_at,
        leads.disqualified_reason
        {{ custom_attributes(ref('stg_crm__leads'), documented_columns, prefix='leads.') }}  -- noqa: LT02, LT05
    from leads
    cross join as_of
    inner join funnel_flags
        on leads.lead_id = funnel_flags.lead_id
    inner join lead_touches
        on leads.lead_id = lead_touches.lead_id
    left join first_campaigns
        on leads.lead_id = first_campaigns.lead_id
    left join opportunities
        on leads.converted_opportunity_id = opportunities.opportunity_id
    left join users
        on leads.owner_user_id = users.user_id

)

select * from final
