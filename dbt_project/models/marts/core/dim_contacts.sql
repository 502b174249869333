{#- One row per loaded contact: the canonical columns, its account's name and tier, and
    its behavioural footprint from the events (first_seen_at is the earlier of the
    contact's creation and its first event). Reads stg_crm__events directly, never the
    daily engagement models, so the daily job stays independent. The CRM's custom
    attributes follow the canonical and derived columns. -#}

{%- set canonical = [
    'contact_id', 'account_id', 'first_name', 'last_name', 'email', 'phone', 'title',
    'seniority', 'lifecycle_stage', 'lead_source', 'opt_in', 'do_not_contact',
    'created_at', 'updated_at'
] %}

with contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

accounts as (

    select
        account_id,
        name,
        tier,
        lifecycle
    from {{ ref('dim_accounts') }}

),

events as (

    select
        event_id,
        contact_id,
        occurred_at
    from {{ ref('stg_crm__events') }}
    where contact_id is not null

),

contact_events as (

    select
        contact_id,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at,
        count(distinct event_id) as events_total
    from events
    group by contact_id

),

final as (

    select
        contacts.contact_id,
        contacts.account_id,
        accounts.name as account_name,
        accounts.tier as account_tier,
        accounts.lifecycle as account_lifecycle,
        contacts.first_name,
        contacts.last_name,
        contacts.email,
        contacts.phone,
        contacts.title,
        contacts.seniority,
        contacts.lifecycle_stage,
        contacts.lead_source,
        contacts.opt_in,
        contacts.do_not_contact,
        contacts.created_at,
        contacts.updated_at,
        case
            when
                contact_events.first_event_at < contacts.created_at
                then contact_events.first_event_at
            else contacts.created_at
        end as first_seen_at,
        contact_events.first_event_at,
        contact_events.last_event_at,
        coalesce(contact_events.events_total, 0) as events_total
        {{ custom_attributes(ref('stg_crm__contacts'), canonical, 'contacts.') }}  -- noqa: LT02, LT05
    from contacts
    left join accounts
        on contacts.account_id = accounts.account_id
    left join contact_events
        on contacts.contact_id = contact_events.contact_id

)

select * from final
