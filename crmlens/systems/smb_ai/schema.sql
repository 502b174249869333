-- smb_ai: an SMB CRM with AI features (shared/seeds/000): SQLAlchemy models behind a REST
-- API. Integer ids, PostgreSQL enum types for statuses (SQLAlchemy's Enum), free-text
-- pipeline stages (an SMB edits its own pipeline), JSON fields for flexible data.
--
-- The AI fields of Lead (ai_score, ai_explanation, ai_confidence, behavioral_data,
-- last_ai_analysis) and the AI-suggested tasks are what crmlens writes (publish mapping
-- crmlens/specs/publish_smb_ai.yml); duplicate_suggestions is the table of the duplicate
-- detection feature, which crmlens does not fill yet.
drop table if exists duplicate_suggestions, ai_suggested_tasks, behavioral_events, activities,
    opportunity_stage_changes, leads, opportunities, contacts, companies, users cascade;
drop type if exists user_role, lead_status, ai_confidence_level, activity_type,
    behavioral_event_type, suggestion_entity_type, suggested_task_type, task_priority,
    suggestion_status, duplicate_entity_type, merge_action, duplicate_status cascade;

create type user_role as enum ('admin', 'manager', 'sales_rep', 'sdr', 'account_manager',
    'marketing');
create type lead_status as enum ('new', 'contacted', 'nurturing', 'qualified', 'unqualified',
    'converted');
create type ai_confidence_level as enum ('high', 'medium', 'low');
create type activity_type as enum ('call', 'email', 'meeting', 'demo', 'task', 'note', 'sms');
-- BehavioralEvent: what the e-mail sync, the website tracker and the product report.
create type behavioral_event_type as enum ('website_visit', 'pricing_page_visit', 'email_open',
    'email_click', 'email_reply', 'form_submission', 'demo_request', 'content_download',
    'webinar_attended', 'product_login', 'feature_usage');
create type suggestion_entity_type as enum ('lead', 'contact', 'opportunity', 'company');
create type suggested_task_type as enum ('call', 'email', 'meeting', 'review', 'follow_up');
create type task_priority as enum ('high', 'medium', 'low');
create type suggestion_status as enum ('suggested', 'accepted', 'dismissed', 'completed');
create type duplicate_entity_type as enum ('contact', 'lead', 'company');
create type merge_action as enum ('merge', 'link', 'keep_both');
create type duplicate_status as enum ('pending', 'merged', 'dismissed');

create table users (
    id integer primary key,
    name text not null,
    email text not null,
    role user_role not null default 'sales_rep',
    hourly_rate numeric(10, 2),  -- time analytics: cost and revenue per hour
    is_active boolean not null default true
);

create table companies (
    id integer primary key,
    name text not null,
    domain text,
    industry text,
    employee_count integer,
    annual_revenue numeric(16, 2),
    country text,
    region text,
    company_type text,  -- prospect, customer, partner …
    tier text,
    parent_company_id integer references companies (id),
    owner_id integer references users (id),
    created_at timestamp not null,
    updated_at timestamp not null
);

create table contacts (
    id integer primary key,
    company_id integer references companies (id),
    first_name text,
    last_name text,
    email text,
    phone text,
    title text,
    lead_source text,
    email_opt_in boolean not null default true,
    do_not_contact boolean not null default false,
    created_at timestamp not null,
    updated_at timestamp not null
);

create table opportunities (
    id integer primary key,
    company_id integer references companies (id),
    owner_id integer references users (id),
    name text,
    stage text not null,  -- the SMB's own pipeline
    value numeric(14, 2),
    currency char(3),
    expected_close_date date,
    created_at timestamp not null,
    closed_at timestamp,
    lost_reason text,
    competitor text,
    product_line text,
    forecast_category text,
    updated_at timestamp not null
);

create table opportunity_stage_changes (
    id serial primary key,
    opportunity_id integer not null references opportunities (id) on delete cascade,
    from_stage text,
    to_stage text not null,
    value numeric(14, 2),
    expected_close_date date,
    changed_at timestamp not null,
    unique (opportunity_id, changed_at)
);

create table leads (
    id integer primary key,
    contact_id integer references contacts (id),
    company_id integer references companies (id),
    company_name text,
    email text not null,
    title text,
    industry text,
    employee_count integer,
    source text,
    status lead_status not null default 'new',
    owner_id integer references users (id),
    budget_confirmed boolean,
    timeline text,
    decision_maker boolean,
    created_at timestamp not null,
    converted_at timestamp,
    converted_opportunity_id integer references opportunities (id),
    disqualified_at timestamp,
    disqualified_reason text,
    updated_at timestamp not null,
    -- Enhanced AI lead scoring
    ai_score integer check (ai_score between 0 and 100),
    ai_explanation text,
    ai_confidence ai_confidence_level,
    behavioral_data jsonb,
    last_ai_analysis timestamp
);
create index leads_updated_at on leads (updated_at);
create index leads_ai_score on leads (ai_score);

create table activities (
    id integer primary key,
    type activity_type not null,
    company_id integer references companies (id),
    contact_id integer references contacts (id),
    lead_id integer references leads (id),
    opportunity_id integer references opportunities (id),
    user_id integer references users (id),
    occurred_at timestamp not null,
    duration_minutes numeric(8, 2),  -- time analytics: time spent per client
    outcome text,
    due_date timestamp,
    completed_at timestamp
);
create index activities_occurred_at on activities (occurred_at);

create table behavioral_events (
    id bigint primary key,
    event_type behavioral_event_type not null,
    lead_id integer references leads (id),
    contact_id integer references contacts (id),
    company_id integer references companies (id),
    session_id text,
    event_data jsonb,
    occurred_at timestamp not null,
    check (lead_id is not null or contact_id is not null)
);
create index behavioral_events_lead on behavioral_events (lead_id, occurred_at);
create index behavioral_events_occurred_at on behavioral_events (occurred_at);

-- AI-suggested tasks: one row per suggestion, ranked by priority, with a smart due date.
create table ai_suggested_tasks (
    id serial primary key,
    external_id text unique,  -- the suggestion's id at the service that made it
    entity_type suggestion_entity_type not null,
    entity_id integer not null,
    task_type suggested_task_type not null,
    title text not null,
    reasoning text,
    priority task_priority not null default 'medium',
    suggested_due_date date,
    assigned_to integer references users (id),
    status suggestion_status not null default 'suggested',
    source text not null default 'ai',
    created_at timestamp not null default now(),
    expires_at timestamp
);
create index ai_suggested_tasks_assignee on ai_suggested_tasks (assigned_to, suggested_due_date);

-- Data validation & cleanup: pairs of records that look like one, and how to merge them.
create table duplicate_suggestions (
    id serial primary key,
    entity_type duplicate_entity_type not null,
    record_id integer not null,
    duplicate_record_id integer not null,
    similarity numeric(4, 3) not null check (similarity between 0 and 1),
    matched_fields jsonb,
    suggested_action merge_action not null default 'merge',
    merge_strategy jsonb,
    status duplicate_status not null default 'pending',
    source text not null default 'ai',
    created_at timestamp not null default now(),
    check (record_id <> duplicate_record_id)
);
