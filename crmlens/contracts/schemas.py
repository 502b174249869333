"""The fourteen canonical tables: one pandera ``DataFrameModel`` each.

Each schema is the single description of its table: column names, types,
nullability, allowed values, ranges and a sentence per field. Checks a single
column cannot express (an end before its start) are dataframe checks named
``<end>_not_before_<start>``.
"""

from __future__ import annotations

from datetime import date, datetime

import pandera.polars as pa
import polars as pl

from crmlens.contracts.checks import ends_after
from crmlens.contracts.fields import (
    Amount,
    ContractSchema,
    Email,
    Enum,
    Key,
    Label,
    Money,
    Ref,
    Ts,
)
from crmlens.contracts.vocabulary import (
    CURRENCY_PATTERN,
    FORECAST_CATEGORIES,
    INVOICE_STATUSES,
    LIFECYCLE_STAGES,
    MEMBER_STATUSES,
    MEMBER_TYPES,
    SENIORITIES,
    SUBSCRIPTION_STATUSES,
    TICKET_PRIORITIES,
    USER_ROLES,
)


class UsersSchema(ContractSchema):
    """People who work in the CRM: reps, managers, marketers."""

    user_id: str = Key("CRM identifier of the user.")
    name: str = pa.Field(nullable=True, description="Full name.")
    email: str = Email("Work e-mail address.")
    team_id: str = Ref("Team the user belongs to (teams.team_id).")
    role: str = Enum(
        USER_ROLES, "Job role: SDR, account executive, CSM, manager, marketing, admin."
    )
    hourly_cost: float = Money("Loaded cost of one hour of the user's time, in the CRM currency.")
    active: bool = pa.Field(nullable=True, description="Whether the user can still log in.")

    class Config:
        unique = ["user_id"]


class TeamsSchema(ContractSchema):
    """Sales, success and marketing teams."""

    team_id: str = Key("CRM identifier of the team.")
    name: str = pa.Field(nullable=True, description="Team name.")
    region: str = pa.Field(nullable=True, description="Region the team covers.")
    manager_user_id: str = Ref("The team's manager (users.user_id).")

    class Config:
        unique = ["team_id"]


class AccountsSchema(ContractSchema):
    """Companies: prospects, customers, partners."""

    account_id: str = Key("CRM identifier of the account.")
    name: str = pa.Field(nullable=False, description="Company name as entered in the CRM.")
    domain: str = pa.Field(nullable=True, description="Web domain, e.g. acme.com.")
    industry: str = pa.Field(nullable=True, description="Industry as the CRM labels it.")
    employee_count: int = pa.Field(nullable=True, ge=0, description="Number of employees.")
    annual_revenue: float = Money("Annual revenue of the company.")
    country: str = pa.Field(nullable=True, description="Country (ISO code or name).")
    region: str = pa.Field(nullable=True, description="Sales region.")
    parent_account_id: str = Ref("Parent company (accounts.account_id), for hierarchies.")
    owner_user_id: str = Ref("Account owner (users.user_id).")
    account_type: str = Label(
        "Relationship: prospect, customer, partner… (vocabulary account_types)."
    )
    tier: str = Label("Segment by size: enterprise, mid-market, SMB (vocabulary account_tiers).")
    created_at: datetime = Ts("When the account was created in the CRM.", nullable=False)
    updated_at: datetime = Ts("Last modification; drives incremental loads.", nullable=False)

    class Config:
        unique = ["account_id"]


class ContactsSchema(ContractSchema):
    """People at accounts."""

    contact_id: str = Key("CRM identifier of the contact.")
    account_id: str = Ref("Company the contact works for (accounts.account_id).")
    first_name: str = pa.Field(nullable=True, description="Given name.")
    last_name: str = pa.Field(nullable=True, description="Family name.")
    email: str = Email("E-mail address.")
    phone: str = pa.Field(nullable=True, description="Phone number as entered.")
    title: str = pa.Field(nullable=True, description="Job title.")
    seniority: str = Enum(SENIORITIES, "Seniority derived from the title.")
    lifecycle_stage: str = Enum(LIFECYCLE_STAGES, "Marketing lifecycle stage (HubSpot style).")
    lead_source: str = pa.Field(nullable=True, description="Original source of the contact.")
    opt_in: bool = pa.Field(nullable=True, description="Consented to marketing e-mail.")
    do_not_contact: bool = pa.Field(nullable=True, description="Must not be contacted.")
    created_at: datetime = Ts("When the contact was created.", nullable=False)
    updated_at: datetime = Ts("Last modification; drives incremental loads.", nullable=False)

    class Config:
        unique = ["contact_id"]


class LeadsSchema(ContractSchema):
    """Inbound or outbound leads, before and after qualification."""

    lead_id: str = Key("CRM identifier of the lead.")
    contact_id: str = Ref("Matching contact, if known (contacts.contact_id).")
    account_id: str = Ref("Matching account, if known (accounts.account_id).")
    company: str = pa.Field(nullable=True, description="Company name as the lead gave it.")
    email: str = Email("E-mail address the lead gave.")
    source: str = pa.Field(nullable=True, description="Lead source (web, referral, event…).")
    status: str = Label("Lead status (vocabulary lead_statuses).", nullable=False)
    owner_user_id: str = Ref("Rep who owns the lead (users.user_id).")
    created_at: datetime = Ts("When the lead was created.", nullable=False)
    converted_at: datetime = Ts("When the lead was converted to an opportunity.")
    converted_opportunity_id: str = Ref("Opportunity created on conversion.")
    disqualified_at: datetime = Ts("When the lead was disqualified.")
    disqualified_reason: str = pa.Field(nullable=True, description="Why it was disqualified.")
    updated_at: datetime = Ts("Last modification; drives incremental loads.", nullable=False)

    @pa.dataframe_check
    def converted_at_not_before_created_at(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return ends_after(data, "created_at", "converted_at")

    @pa.dataframe_check
    def disqualified_at_not_before_created_at(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return ends_after(data, "created_at", "disqualified_at")

    class Config:
        unique = ["lead_id"]


class OpportunitiesSchema(ContractSchema):
    """Deals."""

    opportunity_id: str = Key("CRM identifier of the opportunity.")
    account_id: str = Ref("Account the deal is with; a deal without one is kept (unknown account).")
    owner_user_id: str = Ref("Rep who owns the deal (users.user_id).")
    name: str = pa.Field(nullable=True, description="Deal name.")
    stage: str = Label("Current sales stage (vocabulary opportunity_stages).", nullable=False)
    amount: float = Money("Deal value in `currency`.")
    currency: str = pa.Field(
        nullable=True, str_matches=CURRENCY_PATTERN, description="ISO 4217 code."
    )
    expected_close_date: date = pa.Field(
        nullable=True, description="Close date the rep expects (may lie in the future)."
    )
    created_at: datetime = Ts("When the deal was created.", nullable=False)
    closed_at: datetime = Ts("When the deal was won or lost.")
    is_won: bool = pa.Field(nullable=True, description="True if won, false if lost, null if open.")
    lost_reason: str = pa.Field(nullable=True, description="Why the deal was lost.")
    competitor: str = pa.Field(nullable=True, description="Main competitor in the deal.")
    product_line: str = pa.Field(nullable=True, description="Product line sold.")
    forecast_category: str = Enum(FORECAST_CATEGORIES, "Rep's forecast category.")
    updated_at: datetime = Ts("Last modification; drives incremental loads.", nullable=False)

    @pa.dataframe_check
    def closed_at_not_before_created_at(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return ends_after(data, "created_at", "closed_at")

    class Config:
        unique = ["opportunity_id"]


class OpportunityStageHistorySchema(ContractSchema):
    """Every stage change of every deal."""

    opportunity_id: str = Key("The deal (opportunities.opportunity_id).")
    changed_at: datetime = Ts("When the stage changed.", nullable=False)
    from_stage: str = Label("Stage before the change (null on creation).")
    to_stage: str = Label("Stage after the change.", nullable=False)
    amount: float = Money("Deal amount after the change.")
    expected_close_date: date = pa.Field(
        nullable=True, description="Expected close date after the change."
    )

    class Config:
        unique = ["opportunity_id", "changed_at"]


class ActivitiesSchema(ContractSchema):
    """Calls, e-mails, meetings, tasks, notes, SMS and demos logged by reps."""

    activity_id: str = Key("CRM identifier of the activity.")
    activity_type: str = Label("Kind of activity (vocabulary activity_types).", nullable=False)
    account_id: str = Ref("Related account.")
    contact_id: str = Ref("Related contact.")
    lead_id: str = Ref("Related lead.")
    opportunity_id: str = Ref("Related opportunity.")
    user_id: str = Ref("Rep who did it (users.user_id).")
    occurred_at: datetime = Ts("When it happened (or was logged).", nullable=False)
    duration_minutes: float = Amount("Length in minutes.")
    outcome: str = pa.Field(nullable=True, description="Outcome as logged (connected, no answer…).")
    due_at: datetime = pa.Field(nullable=True, description="Due date of a task (may be future).")
    completed_at: datetime = Ts("When a task was completed.")

    class Config:
        unique = ["activity_id"]


class CampaignsSchema(ContractSchema):
    """Marketing campaigns."""

    campaign_id: str = Key("CRM identifier of the campaign.")
    name: str = pa.Field(nullable=True, description="Campaign name.")
    channel: str = Label("Marketing channel (vocabulary campaign_channels).")
    started_at: datetime = Ts("When the campaign started.")
    ended_at: datetime = pa.Field(nullable=True, description="When it ended (may be planned).")
    cost: float = Money("Total cost of the campaign.")

    @pa.dataframe_check
    def ended_at_not_before_started_at(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return ends_after(data, "started_at", "ended_at")

    class Config:
        unique = ["campaign_id"]


class CampaignMembersSchema(ContractSchema):
    """Leads and contacts enrolled in campaigns."""

    campaign_id: str = Key("The campaign (campaigns.campaign_id).")
    member_id: str = Key("The lead_id or contact_id of the member.")
    member_type: str = Enum(
        MEMBER_TYPES, "Whether member_id is a lead or a contact.", nullable=False
    )
    enrolled_at: datetime = Ts("When the member joined the campaign.")
    status: str = Enum(MEMBER_STATUSES, "Furthest response of the member.")

    class Config:
        unique = ["campaign_id", "member_id"]


class SubscriptionsSchema(ContractSchema):
    """Recurring contracts of customer accounts."""

    subscription_id: str = Key("CRM or billing identifier of the subscription.")
    account_id: str = pa.Field(nullable=False, description="Customer account.")
    plan: str = pa.Field(nullable=True, description="Plan or contract type.")
    seats: int = pa.Field(nullable=True, ge=0, description="Licensed seats.")
    mrr: float = Money("Monthly recurring revenue.")
    started_at: datetime = Ts("Start of the subscription.", nullable=False)
    renewal_date: date = pa.Field(nullable=True, description="Next renewal date.")
    ended_at: datetime = Ts("When it ended, if it did.")
    status: str = Enum(SUBSCRIPTION_STATUSES, "Subscription status.")
    cancel_reason: str = pa.Field(nullable=True, description="Why it was cancelled.")

    @pa.dataframe_check
    def ended_at_not_before_started_at(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return ends_after(data, "started_at", "ended_at")

    class Config:
        unique = ["subscription_id"]


class InvoicesSchema(ContractSchema):
    """Invoices issued to accounts."""

    invoice_id: str = Key("Billing identifier of the invoice.")
    account_id: str = pa.Field(nullable=False, description="Invoiced account.")
    subscription_id: str = Ref("Subscription invoiced, if any.")
    amount: float = Money("Invoiced amount.")
    issued_at: datetime = Ts("When the invoice was issued.", nullable=False)
    due_at: datetime = pa.Field(nullable=True, description="When payment is due.")
    paid_at: datetime = Ts("When it was paid, if it was.")
    status: str = Enum(INVOICE_STATUSES, "Invoice status.")

    @pa.dataframe_check
    def paid_at_not_before_issued_at(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return ends_after(data, "issued_at", "paid_at")

    class Config:
        unique = ["invoice_id"]


class TicketsSchema(ContractSchema):
    """Support tickets."""

    ticket_id: str = Key("Helpdesk identifier of the ticket.")
    account_id: str = Ref("Account that raised it.")
    contact_id: str = Ref("Contact who raised it.")
    priority: str = Enum(TICKET_PRIORITIES, "Priority.")
    created_at: datetime = Ts("When it was opened.", nullable=False)
    resolved_at: datetime = Ts("When it was resolved.")
    csat: int = pa.Field(
        nullable=True, in_range={"min_value": 1, "max_value": 5}, description="Satisfaction 1-5."
    )

    @pa.dataframe_check
    def resolved_at_not_before_created_at(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return ends_after(data, "created_at", "resolved_at")

    class Config:
        unique = ["ticket_id"]


class EventsSchema(ContractSchema):
    """Behavioural events: web visits, e-mail engagement, product usage."""

    event_id: str = Key("Unique identifier of the event.")
    occurred_at: datetime = Ts("When the event happened.", nullable=False)
    event_type: str = Label("Kind of event (vocabulary event_types).", nullable=False)
    contact_id: str = Ref("Identified contact, if known.")
    lead_id: str = Ref("Identified lead, if known.")
    account_id: str = Ref("Account, if known (product usage, reverse-IP).")
    anonymous_id: str = Ref("Cookie or device id before identification.")
    session_id: str = Ref("Web or product session.")
    campaign_id: str = Ref("Campaign that drove the event (UTM).")
    properties: str = pa.Field(nullable=True, description="Event details as a JSON object.")

    class Config:
        unique = ["event_id"]
