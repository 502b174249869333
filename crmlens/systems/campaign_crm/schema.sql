-- campaign_crm: a multi-channel campaign CRM (shared/seeds/003): FastAPI and SQLAlchemy on
-- PostgreSQL, multi-tenant (every table carries its tenant, company_id, and every query
-- filters on it). Enumerations are PostgreSQL enum types holding the Python enums' names
-- (SQLAlchemy's default), hence upper case.
--
-- crmlens writes the lead_scores rows of the score types it computes (COMBINED, and its
-- DEMOGRAPHIC, ENGAGEMENT and BEHAVIORAL components) and the leads' score and suggested
-- stage, for one tenant per source (publish mapping crmlens/specs/publish_campaign_crm.yml).
drop table if exists lead_scores, campaign_activities, campaign_contacts, campaign_messages,
    leads, campaigns, contacts, users, companies cascade;
drop type if exists leadstage, qualificationstatus, campaigntype, campaignstatus, goaltype,
    messagetype, delayunit, enrollmentstatus, activitytype, scoretype, lifecyclestage,
    optinstatus, userrole cascade;

create type leadstage as enum ('LEAD', 'MQL', 'SQL', 'OPPORTUNITY', 'CUSTOMER', 'LOST');
create type qualificationstatus as enum ('PENDING', 'QUALIFIED', 'DISQUALIFIED', 'NEEDS_REVIEW');
create type campaigntype as enum ('EMAIL', 'SMS', 'WHATSAPP', 'VOICE', 'MULTI_CHANNEL');
create type campaignstatus as enum ('DRAFT', 'SCHEDULED', 'ACTIVE', 'PAUSED', 'COMPLETED',
    'CANCELLED');
create type goaltype as enum ('LEAD_GENERATION', 'NURTURING', 'CONVERSION', 'RE_ENGAGEMENT',
    'EVENT_PROMOTION');
create type messagetype as enum ('EMAIL', 'SMS', 'WHATSAPP', 'VOICE');
create type delayunit as enum ('MINUTES', 'HOURS', 'DAYS', 'WEEKS');
create type enrollmentstatus as enum ('ENROLLED', 'ACTIVE', 'COMPLETED', 'PAUSED', 'UNSUBSCRIBED',
    'BOUNCED', 'FAILED');
create type activitytype as enum (
    'EMAIL_SENT', 'EMAIL_DELIVERED', 'EMAIL_OPENED', 'EMAIL_CLICKED', 'EMAIL_REPLIED',
    'EMAIL_BOUNCED', 'EMAIL_UNSUBSCRIBED',
    'SMS_SENT', 'SMS_DELIVERED', 'SMS_REPLIED', 'SMS_FAILED',
    'WHATSAPP_SENT', 'WHATSAPP_DELIVERED', 'WHATSAPP_READ', 'WHATSAPP_REPLIED',
    'CALL_INITIATED', 'CALL_ANSWERED', 'CALL_COMPLETED', 'CALL_NO_ANSWER', 'CALL_VOICEMAIL',
    'CALL_FAILED',
    'LINK_CLICKED', 'FORM_SUBMITTED', 'PAGE_VISITED', 'PRICING_PAGE_VISITED',
    'CONTENT_DOWNLOADED', 'WEBINAR_ATTENDED', 'DEMO_REQUESTED',
    'MEETING_SCHEDULED', 'MEETING_COMPLETED', 'MEETING_NO_SHOW', 'DEMO_COMPLETED',
    'NOTE_ADDED', 'TASK_COMPLETED',
    'DEAL_WON', 'DEAL_LOST', 'ENROLLED', 'UNENROLLED', 'STAGE_CHANGED');
create type scoretype as enum ('AI_INTENT', 'ENGAGEMENT', 'DEMOGRAPHIC', 'BEHAVIORAL', 'WORKFLOW',
    'MANUAL', 'COMBINED');
create type lifecyclestage as enum ('SUBSCRIBER', 'LEAD', 'MQL', 'SQL', 'OPPORTUNITY', 'CUSTOMER',
    'EVANGELIST', 'OTHER');
create type optinstatus as enum ('OPTED_IN', 'OPTED_OUT', 'PENDING', 'UNKNOWN');
create type userrole as enum ('ADMIN', 'MANAGER', 'AGENT', 'MARKETER');

-- The tenants.
create table companies (
    id integer primary key,
    name text not null,
    created_at timestamp not null default now()
);

create table users (
    id integer primary key,
    company_id integer not null references companies (id),
    email text not null,
    full_name text,
    role userrole not null default 'AGENT',
    is_active boolean not null default true
);

create table contacts (
    id integer primary key,
    company_id integer not null references companies (id),
    first_name text,
    last_name text,
    email text,
    phone text,
    company_name text,
    job_title text,
    -- the CRM fields
    lifecycle_stage lifecyclestage,
    lead_source text,
    opt_in_status optinstatus not null default 'UNKNOWN',
    opt_in_date timestamp,
    do_not_contact boolean not null default false,
    tags jsonb not null default '[]',
    lead_score integer,
    last_contacted_at timestamp,
    assigned_to integer references users (id),
    created_at timestamp not null,
    updated_at timestamp not null
);
create index contacts_company on contacts (company_id);
create index contacts_lifecycle_stage on contacts (lifecycle_stage);
create index contacts_lead_source on contacts (lead_source);

create table campaigns (
    id integer primary key,
    company_id integer not null references companies (id),
    name text not null,
    campaign_type campaigntype not null,
    status campaignstatus not null default 'DRAFT',
    goal_type goaltype,
    target_criteria jsonb,
    budget numeric(14, 2),
    start_date timestamp,
    end_date timestamp,
    workflow_id integer,
    ai_agent_id integer,
    call_flow_config jsonb,
    created_at timestamp not null,
    updated_at timestamp not null
);
create index campaigns_company on campaigns (company_id);

create table campaign_messages (
    id serial primary key,
    campaign_id integer not null references campaigns (id) on delete cascade,
    sequence_order integer not null,
    message_type messagetype not null,
    delay_value integer not null default 0,
    delay_unit delayunit not null default 'DAYS',
    subject text,
    body text not null,
    variant text,  -- A/B testing
    unique (campaign_id, sequence_order, variant)
);

create table leads (
    id integer primary key,
    company_id integer not null references companies (id),
    contact_id integer not null references contacts (id),
    title text not null,
    stage leadstage not null default 'LEAD',
    previous_stage leadstage,
    stage_changed_at timestamp,
    qualification_status qualificationstatus not null default 'PENDING',
    qualification_data jsonb,  -- demographic and workflow answers
    score integer check (score between 0 and 100),
    suggested_stage leadstage,
    deal_value numeric(14, 2),
    expected_close_date date,
    assigned_to integer references users (id),
    source text,
    lost_reason text,
    converted_at timestamp,
    created_at timestamp not null,
    updated_at timestamp not null
);
create index leads_company_stage on leads (company_id, stage);
create index leads_updated_at on leads (updated_at);

create table campaign_contacts (
    id serial primary key,
    company_id integer not null references companies (id),
    campaign_id integer not null references campaigns (id) on delete cascade,
    contact_id integer not null references contacts (id),
    lead_id integer references leads (id),
    status enrollmentstatus not null default 'ENROLLED',
    current_step integer not null default 0,
    enrolled_at timestamp not null,
    completed_at timestamp,
    unique (campaign_id, contact_id)
);
create index campaign_contacts_status on campaign_contacts (status);

create table campaign_activities (
    id bigint primary key,
    company_id integer not null references companies (id),
    campaign_id integer references campaigns (id),
    contact_id integer not null references contacts (id),
    lead_id integer references leads (id),
    user_id integer references users (id),
    activity_type activitytype not null,
    activity_metadata jsonb,
    created_at timestamp not null
);
create index campaign_activities_campaign on campaign_activities (campaign_id);
create index campaign_activities_type on campaign_activities (activity_type);
create index campaign_activities_created_at on campaign_activities (created_at);

-- Hybrid lead scoring: one row per lead and score type, with the factors behind it.
create table lead_scores (
    id bigserial primary key,
    company_id integer not null references companies (id),
    lead_id integer not null references leads (id) on delete cascade,
    score_type scoretype not null,
    score integer not null check (score between 0 and 100),
    score_factors jsonb,
    reasoning text,
    scored_by text not null default 'system',
    scored_at timestamp not null default now()
);
create index lead_scores_lead on lead_scores (lead_id);
create index lead_scores_company on lead_scores (company_id);
create index lead_scores_score_type on lead_scores (score_type);
create index lead_scores_scored_at on lead_scores (scored_at);
