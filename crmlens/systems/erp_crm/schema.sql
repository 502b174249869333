-- TrustCart ERP, CRM module (seed 004): the tables its NestJS/TypeORM entities create in
-- PostgreSQL. TypeORM's default naming: tables as the @Entity names them, columns as the
-- entity's camelCase properties (so quoted), relation columns "<relation>Id", enum columns
-- typed "<table>_<column>_enum", createdAt/updatedAt set by the application (no trigger:
-- a write by crmlens does not move updatedAt).
--
-- The ai*/score columns are where crmlens publishes (crmlens/specs/publish_erp_crm.yml):
-- beside the rep's own values, never over them (a deal's "probability" and a lead's
-- "priority" stay the rep's). Idempotent: drops what it creates first.

drop table if exists public.sync_log cascade;
drop table if exists public.engagement_history cascade;
drop table if exists public.email_tracking cascade;
drop table if exists public.tasks cascade;
drop table if exists public.activities cascade;
drop table if exists public.leads cascade;
drop table if exists public.deal_stage_history cascade;
drop table if exists public.deals cascade;
drop table if exists public.deal_stages cascade;
drop table if exists public.orders cascade;
drop table if exists public.customer_contracts cascade;
drop table if exists public.customer_contacts cascade;
drop table if exists public.marketing_campaigns cascade;
drop table if exists public.customers cascade;
drop table if exists public.sales_quotas cascade;
drop table if exists public.users cascade;
drop table if exists public.sales_teams cascade;
drop type if exists public.users_role_enum cascade;
drop type if exists public.customers_customertype_enum cascade;
drop type if exists public.customers_segment_enum cascade;
drop type if exists public.customers_tier_enum cascade;
drop type if exists public.customers_churnrisklevel_enum cascade;
drop type if exists public.customer_contracts_status_enum cascade;
drop type if exists public.orders_paymentstatus_enum cascade;
drop type if exists public.deals_status_enum cascade;
drop type if exists public.deals_priority_enum cascade;
drop type if exists public.deals_airisklevel_enum cascade;
drop type if exists public.leads_status_enum cascade;
drop type if exists public.leads_priority_enum cascade;
drop type if exists public.leads_qualification_enum cascade;
drop type if exists public.activities_activitytype_enum cascade;
drop type if exists public.tasks_priority_enum cascade;
drop type if exists public.tasks_status_enum cascade;
drop type if exists public.tasks_recurrencepattern_enum cascade;
drop type if exists public.marketing_campaigns_campaigntype_enum cascade;

create type public.users_role_enum as enum
    ('admin', 'sales_manager', 'sales_agent', 'lead_agent', 'account_manager', 'marketing');
create type public.customers_customertype_enum as enum
    ('prospect', 'customer', 'former_customer', 'partner');
create type public.customers_segment_enum as enum ('enterprise', 'mid_market', 'smb');
-- The ERP's value tier (Customer Tier Management: upgrade/downgrade rules on lifetime value).
create type public.customers_tier_enum as enum ('bronze', 'silver', 'gold', 'platinum');
create type public.customers_churnrisklevel_enum as enum ('low', 'medium', 'high');
create type public.customer_contracts_status_enum as enum
    ('trial', 'active', 'overdue', 'cancelled', 'expired');
create type public.orders_paymentstatus_enum as enum
    ('draft', 'pending', 'paid', 'overdue', 'cancelled', 'written_off');
create type public.deals_status_enum as enum ('open', 'won', 'lost');
create type public.deals_priority_enum as enum ('high', 'medium', 'low');
create type public.deals_airisklevel_enum as enum ('low', 'medium', 'high');
create type public.leads_status_enum as enum ('active', 'inactive', 'closed');
create type public.leads_priority_enum as enum ('hot', 'warm', 'cold');
create type public.leads_qualification_enum as enum ('MQL', 'SQL', 'none');
create type public.activities_activitytype_enum as enum
    ('call', 'email', 'meeting', 'note', 'sms', 'whatsapp');
create type public.tasks_priority_enum as enum ('high', 'medium', 'low', 'urgent');
create type public.tasks_status_enum as enum ('pending', 'in_progress', 'completed');
create type public.tasks_recurrencepattern_enum as enum ('daily', 'weekly', 'monthly');
create type public.marketing_campaigns_campaigntype_enum as enum ('email', 'sms', 'whatsapp', 'push');

-- SalesTeam: "leadId" is the team leader's user id (a plain column, as the entity has it).
create table public.sales_teams (
    id serial primary key,
    name varchar(100) not null,
    code varchar(20) not null unique,
    "leadId" integer,
    region varchar(50),
    "createdAt" timestamp not null default now(),
    "updatedAt" timestamp not null default now()
);

create table public.users (
    id serial primary key,
    name varchar(150),
    email varchar(255) not null unique,
    role public.users_role_enum not null default 'sales_agent',
    "teamId" integer references public.sales_teams (id),
    "isActive" boolean not null default true,
    "createdAt" timestamp not null default now(),
    "updatedAt" timestamp not null default now()
);

-- Quotas per rep and quarter (Sales Forecasting: quota-based, quota attainment).
create table public.sales_quotas (
    id serial primary key,
    "userId" integer not null references public.users (id),
    "periodStart" date not null,
    "periodEnd" date not null,
    "quotaAmount" numeric(15, 2) not null check ("quotaAmount" >= 0),
    currency varchar(3) not null default 'USD',
    unique ("userId", "periodStart"),
    check ("periodEnd" > "periodStart")
);

-- Customer (Customer 360°): the company, its value in the ERP (lifetime value, orders) and,
-- from crmlens, its health and churn risk.
create table public.customers (
    id serial primary key,
    name varchar(255) not null,
    email varchar(255),
    phone varchar(50),
    company varchar(255),
    website varchar(255),
    industry varchar(100),
    "employeeCount" integer,
    "annualRevenue" numeric(18, 2),
    country varchar(100),
    region varchar(50),
    "customerType" public.customers_customertype_enum not null default 'prospect',
    segment public.customers_segment_enum,
    tier public.customers_tier_enum,
    "lifetimeValue" numeric(15, 2) not null default 0,
    "totalOrders" integer not null default 0,
    "lastOrderDate" timestamp,
    "lastContactDate" timestamp,
    "npsScore" integer check ("npsScore" between 0 and 10),
    "assignedToId" integer references public.users (id),
    "parentCustomerId" integer references public.customers (id),
    "createdAt" timestamp not null default now(),
    "updatedAt" timestamp not null default now(),
    "healthScore" integer check ("healthScore" between 0 and 100),
    "churnRisk" integer check ("churnRisk" between 0 and 100),
    "churnRiskLevel" public.customers_churnrisklevel_enum,
    "churnReasons" text,
    "churnNextAction" text,
    "churnScoredAt" timestamp
);

create table public.customer_contacts (
    id serial primary key,
    "customerId" integer references public.customers (id) on delete cascade,
    "firstName" varchar(100),
    "lastName" varchar(100),
    email varchar(255),
    phone varchar(50),
    "jobTitle" varchar(150),
    source varchar(50),
    "isPrimary" boolean not null default false,
    "marketingOptIn" boolean,
    "doNotContact" boolean not null default false,
    "createdAt" timestamp not null default now(),
    "updatedAt" timestamp not null default now()
);

create table public.marketing_campaigns (
    id serial primary key,
    name varchar(255) not null,
    "campaignType" public.marketing_campaigns_campaigntype_enum not null,
    channel varchar(50),
    "targetSegment" varchar(100),
    "startDate" timestamp,
    "endDate" timestamp,
    budget numeric(15, 2),
    "isActive" boolean not null default true,
    "createdAt" timestamp not null default now()
);

-- Contract & Renewal Management: a customer's contract with its monthly value.
create table public.customer_contracts (
    id serial primary key,
    "contractNumber" varchar(30) not null unique,
    "customerId" integer not null references public.customers (id),
    plan varchar(100),
    seats integer check (seats >= 0),
    "monthlyValue" numeric(15, 2),
    "startDate" timestamp not null,
    "renewalDate" date,
    "endDate" timestamp,
    status public.customer_contracts_status_enum not null default 'active',
    "cancelReason" text
);

-- Sales orders (the ERP's own): lifetime value and total orders add them up.
create table public.orders (
    id serial primary key,
    "orderNumber" varchar(30) not null unique,
    "customerId" integer not null references public.customers (id),
    "contractId" integer references public.customer_contracts (id),
    "totalAmount" numeric(15, 2),
    "orderDate" timestamp not null,
    "dueDate" timestamp,
    "paidAt" timestamp,
    "paymentStatus" public.orders_paymentstatus_enum not null default 'pending'
);

-- DealStage: the configurable pipeline, with its default probabilities.
create table public.deal_stages (
    id serial primary key,
    name varchar(50) not null unique,
    "displayOrder" integer not null,
    probability integer not null check (probability between 0 and 100),
    color varchar(7),
    "isClosed" boolean not null default false,
    "isWon" boolean not null default false
);

-- Deal: "probability" is the rep's; crmlens writes "aiWinProbability" beside it. "stage" is
-- the stage's name (stages are customizable, so no foreign key).
create table public.deals (
    id serial primary key,
    name varchar(255) not null,
    "customerId" integer references public.customers (id),
    "ownerId" integer references public.users (id),
    value numeric(15, 2),
    currency varchar(3) not null default 'USD',
    probability integer check (probability between 0 and 100),
    "expectedCloseDate" date,
    stage varchar(50) not null,
    status public.deals_status_enum not null default 'open',
    priority public.deals_priority_enum not null default 'medium',
    tags text,
    description text,
    competitor varchar(100),
    "lostReason" text,
    "actualCloseDate" timestamp,
    "createdAt" timestamp not null default now(),
    "updatedAt" timestamp not null default now(),
    "aiWinProbability" integer check ("aiWinProbability" between 0 and 100),
    "aiWinGrade" char(1) check ("aiWinGrade" in ('A', 'B', 'C', 'D')),
    "aiInsight" text,
    "aiNextAction" text,
    "aiRiskFlags" jsonb,
    "aiRiskScore" integer check ("aiRiskScore" between 0 and 100),
    "aiRiskLevel" public.deals_airisklevel_enum,
    "aiRiskTrend" varchar(20),
    "aiConfidence" varchar(10) check ("aiConfidence" in ('high', 'medium', 'low')),
    "aiScoredAt" timestamp
);

create table public.deal_stage_history (
    id serial primary key,
    "dealId" integer not null references public.deals (id) on delete cascade,
    "fromStage" varchar(50),
    "toStage" varchar(50) not null,
    value numeric(15, 2),
    "expectedCloseDate" date,
    "changedAt" timestamp not null,
    unique ("dealId", "changedAt")
);

-- Lead (Lead Management): "priority" is the agent's Hot/Warm/Cold; crmlens writes its own
-- beside it ("aiPriority"), with the score, grade and MQL/SQL qualification.
create table public.leads (
    id serial primary key,
    name varchar(200),
    email varchar(255),
    phone varchar(50),
    company varchar(255),
    "jobTitle" varchar(150),
    industry varchar(100),
    "companySize" varchar(20),
    source varchar(50),
    status public.leads_status_enum not null default 'active',
    priority public.leads_priority_enum,
    "budgetConfirmed" boolean,
    "decisionMaker" boolean,
    timeline varchar(30),
    "preferredLanguage" varchar(10),
    "customerId" integer references public.customers (id),
    "contactId" integer references public.customer_contacts (id),
    "assignedToId" integer references public.users (id),
    "convertedDealId" integer references public.deals (id),
    "convertedAt" timestamp,
    "closedAt" timestamp,
    "closedReason" text,
    "createdAt" timestamp not null default now(),
    "updatedAt" timestamp not null default now(),
    "leadScore" integer check ("leadScore" between 0 and 100),
    "leadGrade" char(1) check ("leadGrade" in ('A', 'B', 'C', 'D')),
    "fitScore" integer check ("fitScore" between 0 and 100),
    "engagementScore" integer check ("engagementScore" between 0 and 100),
    "intentScore" integer check ("intentScore" between 0 and 100),
    "aiPriority" public.leads_priority_enum,
    qualification public.leads_qualification_enum,
    "scoreReasons" text,
    "scoreTrend" varchar(20),
    "nextAction" text,
    "scoredAt" timestamp
);

create table public.activities (
    id serial primary key,
    "activityType" public.activities_activitytype_enum not null,
    subject varchar(255),
    description text,
    outcome varchar(50),
    duration integer check (duration >= 0),
    "customerId" integer references public.customers (id),
    "contactId" integer references public.customer_contacts (id),
    "leadId" integer references public.leads (id),
    "dealId" integer references public.deals (id),
    "userId" integer references public.users (id),
    "scheduledFor" timestamp,
    "completedAt" timestamp,
    "createdAt" timestamp not null default now()
);

-- Task: the reps' own and crmlens's suggestions (source 'crmlens', "externalId" its task id).
create table public.tasks (
    id serial primary key,
    title varchar(255) not null,
    description text,
    "customerId" integer references public.customers (id),
    "dealId" integer references public.deals (id),
    "leadId" integer references public.leads (id),
    "assigneeId" integer references public.users (id),
    "dueDate" date,
    "dueTime" time,
    priority public.tasks_priority_enum not null default 'medium',
    category varchar(50),
    tags text,
    status public.tasks_status_enum not null default 'pending',
    "completedAt" timestamp,
    "isRecurring" boolean not null default false,
    "recurrencePattern" public.tasks_recurrencepattern_enum,
    "recurrenceInterval" integer,
    "recurrenceEndDate" date,
    source varchar(20) not null default 'manual',
    "externalId" varchar(100),
    "expiresAt" timestamp,
    "createdAt" timestamp not null default now(),
    "updatedAt" timestamp not null default now()
);
create unique index tasks_source_external_id on public.tasks (source, "externalId")
    where "externalId" is not null;

-- EmailTracking: the reps' e-mails and what the recipient did with them.
create table public.email_tracking (
    id serial primary key,
    "customerId" integer references public.customers (id),
    subject varchar(255),
    body text,
    "toAddress" varchar(255),
    "sentAt" timestamp not null,
    opened boolean not null default false,
    "openCount" integer not null default 0,
    "firstOpenedAt" timestamp,
    "lastOpenedAt" timestamp,
    clicked boolean not null default false,
    "clickedLinks" text,
    replied boolean not null default false,
    "repliedAt" timestamp,
    bounced boolean not null default false,
    "templateUsed" varchar(100)
);

-- EngagementHistory: every tracked interaction (web visits, e-mail opens, product use).
-- An event log: references are kept as recorded, without foreign keys.
create table public.engagement_history (
    id bigint primary key,
    "customerId" integer,
    "contactId" integer,
    "leadId" integer,
    "anonymousId" varchar(64),
    "sessionId" varchar(64),
    "campaignId" integer,
    "engagementType" varchar(50),
    metadata jsonb,
    "occurredAt" timestamp not null
);
create index engagement_history_occurred_at on public.engagement_history ("occurredAt");
