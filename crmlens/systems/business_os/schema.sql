-- The CRM module of a business OS (seed 001) on Supabase PostgreSQL: accounts live in
-- Supabase's auth.users; the CRM's tables are crm_* in public, keyed by uuid, each row
-- owned by a user (row level security filters on user_id). Pipeline stages are rows of
-- crm_pipeline_stages (configurable: name, order, probability, won/lost), deals point
-- at them. crm_ai_insights and crm_alerts are where AI output lands (JSONB data).
drop table if exists public.crm_alerts cascade;
drop table if exists public.crm_ai_insights cascade;
drop table if exists public.crm_sales_goals cascade;
drop table if exists public.crm_activities cascade;
drop table if exists public.crm_deals cascade;
drop table if exists public.crm_leads cascade;
drop table if exists public.crm_customers cascade;
drop table if exists public.crm_pipeline_stages cascade;
drop table if exists public.sync_log cascade;
create schema if not exists auth;
drop table if exists auth.users cascade;

create table auth.users (
    id uuid primary key,
    email text unique,
    raw_user_meta_data jsonb not null default '{}'::jsonb,  -- full_name, role, team
    created_at timestamptz not null default now()
);

create table public.crm_pipeline_stages (
    id uuid primary key default gen_random_uuid(),
    name text not null unique,
    order_index integer not null unique,
    probability integer not null check (probability between 0 and 100),
    color text,
    is_won boolean not null default false,
    is_lost boolean not null default false,
    created_at timestamptz not null default now(),
    check (not (is_won and is_lost))
);

create table public.crm_customers (
    id uuid primary key,
    user_id uuid references auth.users (id),
    company_name text not null,
    domain text,
    industry text,
    employee_count integer,
    annual_revenue numeric(14, 2),
    country text,
    region text,
    parent_customer_id uuid references public.crm_customers (id),
    status text not null default 'prospect'
        check (status in ('prospect', 'active', 'churned', 'partner', 'other')),
    segment text check (segment in ('enterprise', 'mid_market', 'smb')),
    -- the subscription (Customer Success: usage, renewal)
    plan text,
    seats integer,
    mrr numeric(12, 2),
    subscription_status text
        check (subscription_status in ('trialing', 'active', 'past_due', 'cancelled', 'expired')),
    contract_start timestamptz,
    contract_end timestamptz,
    renewal_date date,
    cancel_reason text,
    -- customer success, written by crmlens: health = 100 - churn risk
    health_score integer check (health_score between 0 and 100),
    churn_risk text check (churn_risk in ('low', 'medium', 'high')),
    health_updated_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table public.crm_leads (
    id uuid primary key,
    user_id uuid references auth.users (id),
    customer_id uuid references public.crm_customers (id),
    name text,
    email text,
    phone text,
    company text,
    title text,
    source text,
    status text not null default 'new'
        check (status in ('new', 'contacted', 'nurturing', 'qualified', 'converted', 'unqualified')),
    value numeric(12, 2),
    probability integer check (probability between 0 and 100),  -- the rep's estimate
    last_contact timestamptz,
    lost_reason text,
    tags text[],
    converted_at timestamptz,
    disqualified_at timestamptz,
    -- AI insights, written by crmlens
    ai_score integer check (ai_score between 0 and 100),
    ai_probability integer check (ai_probability between 0 and 100),
    ai_priority text check (ai_priority in ('high', 'medium', 'low')),
    ai_next_action text,
    ai_updated_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table public.crm_deals (
    id uuid primary key,
    user_id uuid references auth.users (id),
    lead_id uuid references public.crm_leads (id),
    customer_id uuid references public.crm_customers (id),
    title text not null,
    value numeric(12, 2),
    currency text default 'USD',
    stage_id uuid not null references public.crm_pipeline_stages (id),
    probability integer check (probability between 0 and 100),  -- the stage's, or the rep's
    expected_close_date date,
    actual_close_date timestamptz,
    status text not null default 'open' check (status in ('open', 'won', 'lost')),
    lost_reason text,
    competitor text,
    product text,
    -- AI deal probability, written by crmlens
    ai_probability integer check (ai_probability between 0 and 100),
    ai_risk_level text check (ai_risk_level in ('low', 'medium', 'high')),
    ai_next_action text,
    ai_updated_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table public.crm_activities (
    id uuid primary key,
    user_id uuid references auth.users (id),
    lead_id uuid references public.crm_leads (id),
    deal_id uuid references public.crm_deals (id),
    customer_id uuid references public.crm_customers (id),
    type text not null
        check (type in ('call', 'meeting', 'email', 'demo', 'task', 'note', 'sms', 'other')),
    subject text,
    outcome text,
    sentiment text check (sentiment in ('positive', 'neutral', 'negative')),
    duration_minutes integer,
    activity_date timestamptz not null,
    due_date timestamptz,
    completed_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table public.crm_sales_goals (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id),
    period_type text not null check (period_type in ('monthly', 'quarterly', 'yearly')),
    period_start date not null,
    period_end date not null,
    target_value numeric(14, 2) not null check (target_value >= 0),
    target_deals integer,
    current_value numeric(14, 2) not null default 0,
    created_at timestamptz not null default now(),
    unique (user_id, period_type, period_start)
);

create table public.crm_ai_insights (
    id uuid primary key default gen_random_uuid(),
    user_id uuid references auth.users (id),
    entity_type text not null check (entity_type in ('lead', 'deal', 'customer')),
    entity_id uuid not null,
    insight_type text not null
        check (insight_type in ('lead_score', 'deal_probability', 'churn_risk', 'recommendation')),
    title text not null,
    content text,
    data jsonb not null default '{}'::jsonb,
    confidence numeric(4, 3) check (confidence between 0 and 1),
    priority text check (priority in ('high', 'medium', 'low')),
    source text not null default 'openai',
    is_read boolean not null default false,
    created_at timestamptz not null default now(),
    expires_at timestamptz
);
create index crm_ai_insights_entity on public.crm_ai_insights (entity_type, entity_id);

create table public.crm_alerts (
    id uuid primary key default gen_random_uuid(),
    user_id uuid references auth.users (id),
    alert_type text not null
        check (alert_type in ('high_priority_lead', 'deal_at_risk', 'customer_health', 'activity_gap')),
    severity text not null check (severity in ('low', 'medium', 'high', 'critical')),
    entity_type text check (entity_type in ('lead', 'deal', 'customer')),
    entity_id uuid,
    title text not null,
    message text,
    source text not null default 'system',
    is_read boolean not null default false,
    is_dismissed boolean not null default false,
    created_at timestamptz not null default now()
);
