"""The contract's vocabularies: the canonical values of every enumerated field.

A source spec maps a CRM's own labels onto these (DESIGN.md, "Sources"): see
:data:`VOCABULARIES` for the fields a spec may declare (``vocabularies:``), which lists
are closed (a label must be declared or canonical) and which are open (any value is
kept; one outside the canonical list means ``other``).
"""

from __future__ import annotations

from dataclasses import dataclass

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
# mql and sql: a CRM that marks marketing- and sales-qualified leads by status says so.
LEAD_STATUSES = (
    "new",
    "working",
    "nurturing",
    "mql",
    "sql",
    "qualified",
    "converted",
    "disqualified",
)
OPEN_STAGES = ("prospecting", "qualification", "needs_analysis", "proposal", "negotiation")
CLOSED_STAGES = ("closed_won", "closed_lost")
OPPORTUNITY_STAGES = OPEN_STAGES + CLOSED_STAGES
# What a stage means: a deal in it is open, won or lost.
STAGE_MEANINGS = ("open", "won", "lost")
CANONICAL_STAGE_MEANING = {s: "open" for s in OPEN_STAGES} | {
    "closed_won": "won",
    "closed_lost": "lost",
}
# The default probability of winning a deal in each canonical stage (Salesforce's defaults).
CANONICAL_STAGE_PROBABILITY = {
    "prospecting": 0.1,
    "qualification": 0.2,
    "needs_analysis": 0.4,
    "proposal": 0.6,
    "negotiation": 0.8,
    "closed_won": 1.0,
    "closed_lost": 0.0,
}
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

# The value of an open list's label that is none of the canonical ones.
OTHER = "other"


@dataclass(frozen=True)
class Vocabulary:
    """A field whose values a CRM labels its own way (a spec's ``vocabularies.<name>``).

    Attributes:
        name: the key under ``vocabularies:`` and the ``field`` of ``raw.vocabulary``.
        table: the canonical table holding it.
        columns: the columns of that table holding its labels.
        values: the canonical values.
        closed: a closed list accepts only a declared label or a canonical value; an
            open list accepts any value (outside the canonical list it means ``other``).
        other_tables: further tables holding its labels (table -> columns).
    """

    name: str
    table: str
    columns: tuple[str, ...]
    values: tuple[str, ...]
    closed: bool
    other_tables: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def tables(self) -> dict[str, tuple[str, ...]]:
        """Every table holding its labels -> the columns."""
        return {self.table: self.columns, **dict(self.other_tables)}


VOCABULARIES: dict[str, Vocabulary] = {
    v.name: v
    for v in (
        Vocabulary(
            "opportunity_stages",
            "opportunities",
            ("stage",),
            OPPORTUNITY_STAGES,
            closed=True,
            other_tables=(("opportunity_stage_history", ("from_stage", "to_stage")),),
        ),
        Vocabulary("lead_statuses", "leads", ("status",), LEAD_STATUSES, closed=True),
        Vocabulary("activity_types", "activities", ("activity_type",), ACTIVITY_TYPES, False),
        Vocabulary("event_types", "events", ("event_type",), EVENT_TYPES, closed=False),
        Vocabulary("campaign_channels", "campaigns", ("channel",), CAMPAIGN_CHANNELS, False),
        Vocabulary("account_tiers", "accounts", ("tier",), ACCOUNT_TIERS, closed=False),
        Vocabulary("account_types", "accounts", ("account_type",), ACCOUNT_TYPES, False),
    )
}


def vocabularies_of(table: str) -> list[Vocabulary]:
    """The vocabularies whose labels ``table`` holds, in :data:`VOCABULARIES` order."""
    return [v for v in VOCABULARIES.values() if table in v.tables]


def vocabulary_of(table: str, column: str) -> Vocabulary | None:
    """The vocabulary of ``table.column``, if its values are a CRM's own labels."""
    for v in VOCABULARIES.values():
        if column in v.tables.get(table, ()):
            return v
    return None


def normalized(label: str) -> str:
    """A label as a canonical value would spell it: lower case, words joined by ``_``.

    "Closed Won" -> "closed_won", "Needs Analysis" -> "needs_analysis".
    """
    return "_".join("".join(c if c.isalnum() else " " for c in label.lower()).split())
