-- The CRM module of seed 002: the tables of its models.py (User, Account, Contact, Lead,
-- Opportunity, Activity), integer keys, the enumerations its document lists as CHECK
-- constraints: account types (Customer, Prospect, Partner, Competitor) and a parent
-- account (hierarchy), contact types and roles (Primary, Secondary, Decision Maker),
-- lead sources and statuses, sales stages (Prospecting … Closed Won / Closed Lost) with
-- the win probability, activity types (Call, Email, Meeting, Task, Note).
drop table if exists public.activities cascade;
drop table if exists public.leads cascade;
drop table if exists public.opportunities cascade;
drop table if exists public.contacts cascade;
drop table if exists public.accounts cascade;
drop table if exists public.users cascade;
drop table if exists public.sync_log cascade;

create table public.users (
    id integer primary key,
    username text not null unique,
    email text,
    full_name text,
    role text check (role in ('sales_rep', 'account_executive', 'customer_success',
                              'sales_manager', 'marketing', 'admin')),
    territory text,
    is_active boolean not null default true
);

create table public.accounts (
    id integer primary key,
    name text not null,
    account_type text not null default 'Prospect'
        check (account_type in ('Customer', 'Prospect', 'Partner', 'Competitor')),
    parent_account_id integer
        references public.accounts (id) deferrable initially deferred,
    industry text,
    website text,
    employee_count integer,
    annual_revenue numeric(15, 2),
    country text,
    territory text,
    owner_id integer references public.users (id),
    account_score integer check (account_score between 0 and 100),
    created_at timestamp not null default now(),
    updated_at timestamp not null default now(),
    check (parent_account_id is distinct from id)
);

create table public.contacts (
    id integer primary key,
    account_id integer references public.accounts (id),
    first_name text,
    last_name text,
    email text,
    phone text,
    title text,
    contact_type text not null default 'Individual'
        check (contact_type in ('Individual', 'Company')),
    contact_role text check (contact_role in ('Primary', 'Secondary', 'Decision Maker')),
    do_not_contact boolean not null default false,
    email_opt_in boolean,
    contact_score integer check (contact_score between 0 and 100),
    created_at timestamp not null default now(),
    updated_at timestamp not null default now()
);

create table public.opportunities (
    id integer primary key,
    name text not null,
    account_id integer references public.accounts (id),
    contact_id integer references public.contacts (id),
    owner_id integer references public.users (id),
    stage text not null default 'Prospecting'
        check (stage in ('Prospecting', 'Qualification', 'Proposal', 'Negotiation',
                         'Closed Won', 'Closed Lost')),
    probability double precision check (probability between 0 and 100),  -- win probability, %
    amount numeric(15, 2),
    currency text default 'USD',
    close_date date,
    closed_at timestamp,
    competitor text,
    lost_reason text,
    product_line text,
    created_at timestamp not null default now(),
    updated_at timestamp not null default now()
);

create table public.leads (
    id integer primary key,
    first_name text,
    last_name text,
    email text,
    phone text,
    company text,
    title text,
    lead_source text check (lead_source in ('Website', 'Referral', 'Cold Call', 'Social Media',
                                            'Event', 'Email', 'Partner', 'Advertising', 'Other')),
    status text not null default 'New'
        check (status in ('New', 'Contacted', 'Nurturing', 'Qualified', 'Converted', 'Unqualified')),
    lead_score integer check (lead_score between 0 and 100),  -- AI lead qualification, 0-100
    assigned_to integer references public.users (id),
    account_id integer references public.accounts (id),
    contact_id integer references public.contacts (id),
    converted_opportunity_id integer references public.opportunities (id),
    converted_at timestamp,
    unqualified_at timestamp,
    unqualified_reason text,
    created_at timestamp not null default now(),
    updated_at timestamp not null default now()
);

create table public.activities (
    id integer primary key,
    activity_type text not null check (activity_type in ('Call', 'Email', 'Meeting', 'Task', 'Note')),
    subject text,
    status text not null default 'Planned' check (status in ('Planned', 'Completed', 'Cancelled')),
    outcome text,
    scheduled_at timestamp,
    occurred_at timestamp not null,
    completed_at timestamp,
    duration_minutes integer,
    account_id integer references public.accounts (id),
    contact_id integer references public.contacts (id),
    lead_id integer references public.leads (id),
    opportunity_id integer references public.opportunities (id),
    owner_id integer references public.users (id),
    created_at timestamp not null default now(),
    updated_at timestamp not null default now()
);
