"""The contract's vocabularies: the canonical values of every enumerated field.

A source spec maps a CRM's own labels onto these (DESIGN.md, "Sources").
"""

from __future__ import annotations

USER_ROLES = ("sdr", "ae", "csm", "manager", "marketing", "admin")
ACCOUNT_TYPES = ("prospect", "customer", "former_customer", "partner", "other")
ACCOUNT_TIERS = ("enterprise", "mid_market", "smb")
SENIORITIES = ("c_level", "vp", "director", "manager", "individual_contributor", "unknown")
LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "mql",
    "sql",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
LEAD_STATUSES = ("new", "working", "nurturing", "qualified", "converted", "disqualified")
OPEN_STAGES = ("prospecting", "qualification", "needs_analysis", "proposal", "negotiation")
CLOSED_STAGES = ("closed_won", "closed_lost")
OPPORTUNITY_STAGES = OPEN_STAGES + CLOSED_STAGES
FORECAST_CATEGORIES = ("pipeline", "best_case", "commit", "closed", "omitted")
ACTIVITY_TYPES = ("call", "email", "meeting", "task", "note", "sms", "demo")
CAMPAIGN_CHANNELS = (
    "email",
    "paid_search",
    "social",
    "webinar",
    "event",
    "content",
    "direct_mail",
    "partner",
    "telemarketing",
    "other",
)
MEMBER_TYPES = ("lead", "contact")
MEMBER_STATUSES = (
    "sent",
    "opened",
    "clicked",
    "responded",
    "registered",
    "attended",
    "unsubscribed",
)
SUBSCRIPTION_STATUSES = ("trialing", "active", "past_due", "cancelled", "expired")
INVOICE_STATUSES = ("draft", "open", "paid", "overdue", "void", "uncollectible")
TICKET_PRIORITIES = ("low", "normal", "high", "urgent")
EVENT_TYPES = (
    "page_view",
    "pricing_view",
    "email_open",
    "email_click",
    "email_reply",
    "form_submit",
    "demo_request",
    "content_download",
    "webinar_attend",
    "login",
    "feature_use",
)

# A pragmatic address check: something@domain.tld, no spaces, one @.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
