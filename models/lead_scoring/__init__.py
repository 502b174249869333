"""Lead scoring: the probability that an open lead converts to an opportunity within 90 days.

Baseline (the points score CRMs ship, e.g. HubSpot's and Pardot's defaults):
engagement 25 % (e-mail opens up to 30 points, clicks up to 30, replies up to 25,
calls up to 15), fit/demographics 15 %, qualification answers (budget, timeline,
decision maker) 20 %, intent signals (demo requests, pricing views) 25 %, manual
15 % — crmlens has no manual rating, so that part is always 0. Qualified at 70
points, MQL at 75. Columns a source lacks count as 0 points. (The published
``qualification`` reads the published score against the settings ``mql_points`` and
``qualified_points`` instead: :mod:`models.common.routing`.)

A source without the recipe's fields still gets the engagement and fit points CRMs
ship, from what it has: when no row has an e-mail open, click, reply or call, the
engagement part counts every touch of the last 30 days (any activity or event, 10
points each up to 70) plus 30 for a touch in the last 14 days; when no row has a
seniority, company size or industry, fit counts the profile fields known (title,
industry, size, revenue, region, tier, a known contact: 20 points each, up to 100).
A source with none of these has no rule baseline (:func:`models.common.floor.has_rule_baseline`).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from models.common.family import Family, Gate, Reason, numeric
from models.common.reasons import company, plural, whole

SENIORITY_POINTS = {
    "c_level": 40,
    "vp": 35,
    "director": 30,
    "manager": 20,
    "individual_contributor": 10,
}
TIMELINE_POINTS = {"this_quarter": 35, "next_quarter": 20, "this_year": 10}


def rule_parts(frame: pl.DataFrame) -> dict[str, np.ndarray]:
    """The CRM-style points score in parts keyed by reason group (weights applied)."""
    size = numeric(frame, "employee_count")
    seniority = (
        pl.col("seniority").replace_strict(SENIORITY_POINTS, default=0, return_dtype=pl.Float64)
        if "seniority" in frame.columns
        else pl.lit(0.0)
    )
    size_points = (
        pl.when(size >= 1000)
        .then(40)
        .when(size >= 200)
        .then(30)
        .when(size >= 50)
        .then(20)
        .when(size > 0)
        .then(10)
        .otherwise(0)
    )
    industry = (
        pl.col("industry").is_not_null().cast(pl.Float64) * 20
        if "industry" in frame.columns
        else pl.lit(0.0)
    )
    timeline = (
        pl.col("timeline").replace_strict(TIMELINE_POINTS, default=0, return_dtype=pl.Float64)
        if "timeline" in frame.columns
        else pl.lit(0.0)
    )
    # Fit is capped at 100 before weighting: scale its two parts down together.
    fit_total = seniority + size_points + industry
    fit_scale = pl.when(fit_total > 100).then(100 / fit_total).otherwise(1.0)
    intent_demo = (numeric(frame, "demo_request_90d") > 0).cast(pl.Float64) * 60
    intent_pricing = pl.min_horizontal(10 * numeric(frame, "pricing_view_30d"), pl.lit(40.0))
    parts = frame.select(
        # engagement 25 %
        email_open=0.25 * pl.min_horizontal(3 * numeric(frame, "email_open_30d"), pl.lit(30.0)),
        email_click=0.25 * pl.min_horizontal(10 * numeric(frame, "email_click_30d"), pl.lit(30.0)),
        email_reply=0.25
        * pl.min_horizontal(12.5 * numeric(frame, "email_reply_30d"), pl.lit(25.0)),
        rep_activity=0.25
        * pl.min_horizontal(5 * numeric(frame, "activity_call_30d"), pl.lit(15.0)),
        # fit 15 %
        seniority=0.15 * seniority * fit_scale,
        company=0.15 * (size_points + industry) * fit_scale,
        # qualification answers 20 %
        budget_confirmed=0.20 * numeric(frame, "budget_confirmed") * 40,
        timeline=0.20 * timeline,
        decision_maker=0.20 * numeric(frame, "decision_maker") * 25,
        # intent 25 % (capped at 100 before weighting; demo 60 + pricing 40 never exceeds it)
        demo_request=0.25 * intent_demo,
        pricing_view=0.25 * intent_pricing,
        # manual 15 %: crmlens has no manual rating, so always 0
    )
    out = {name: parts[name].to_numpy() for name in parts.columns}
    if frame.height and not _records(frame, ENGAGEMENT_FIELDS):
        out["rep_activity"] = 0.25 * _touch_points(frame)
    if frame.height and not _records(frame, FIT_FIELDS):
        out["company"] = 0.15 * _profile_points(frame)
    return out


ENGAGEMENT_FIELDS = ("email_open_30d", "email_click_30d", "email_reply_30d", "activity_call_30d")
FIT_FIELDS = ("seniority", "employee_count", "industry")


def _records(frame: pl.DataFrame, columns: tuple[str, ...]) -> bool:
    """Whether the source records any of these fields: some row has a value (a count
    above 0; a category or size at all)."""
    for column in columns:
        if column not in frame.columns:
            continue
        values = frame[column].drop_nulls()
        if values.dtype.is_numeric():
            values = values.filter(values > 0)
        if values.len():
            return True
    return False


PROFILE_FIELDS = ("title", "industry", "employee_count", "annual_revenue", "region", "tier")
RECENT_TOUCH_DAYS = 14


def _touch_points(frame: pl.DataFrame) -> np.ndarray:
    """Generic engagement: every touch of the last 30 days (any activity or event type),
    10 points each up to 70, and 30 for a touch in the last 14 days."""
    counts = [c for c in frame.columns if c.endswith("_30d") and frame[c].dtype.is_numeric()]
    touches = pl.sum_horizontal([numeric(frame, c) for c in counts]) if counts else pl.lit(0.0)
    recent = [
        c for c in ("days_since_last_activity", "days_since_last_event") if c in frame.columns
    ]
    latest = pl.min_horizontal([numeric(frame, c, np.inf) for c in recent]) if recent else None
    points = pl.min_horizontal(10.0 * touches, pl.lit(70.0))
    if latest is not None:
        points = points + pl.when(latest <= RECENT_TOUCH_DAYS).then(30.0).otherwise(0.0)
    return frame.select(points.cast(pl.Float64).alias("p"))["p"].to_numpy()


def _profile_points(frame: pl.DataFrame) -> np.ndarray:
    """Generic fit: 20 points per profile field known, up to 100."""
    known = [pl.col(c).is_not_null().cast(pl.Float64) for c in PROFILE_FIELDS if c in frame.columns]
    if "known_contact" in frame.columns:
        known.append(pl.col("known_contact").cast(pl.Float64).fill_null(0.0))
    if not known:
        return np.zeros(frame.height)
    points = pl.min_horizontal(20.0 * pl.sum_horizontal(known), pl.lit(100.0))
    return frame.select(points.cast(pl.Float64).alias("p"))["p"].to_numpy()


def _count_sentence(column: str, singular: str, many: str, window: str, none: str) -> pl.Expr:
    return plural(pl.col(column), f"{singular} once {window}", f"{many} {{}} times {window}", none)


def _days_ago(column: str, did: str, never: str) -> pl.Expr:
    d = pl.col(column)
    return (
        pl.when(d.is_null())
        .then(pl.lit(never))
        .when(d < 1)
        .then(pl.lit(f"{did} today"))
        .otherwise(pl.format(f"{did} {{}} days ago", whole(d)))
    )


REP_ACTIVITY_FEATURES = tuple(
    f"activity_{t}_{d}d"
    for t in ("call", "email", "meeting", "task", "note", "sms", "demo")
    for d in (30, 90)
)


def _windows(event: str) -> tuple[str, ...]:
    return (f"{event}_7d", f"{event}_30d", f"{event}_90d")


REASONS = (
    Reason(
        "pricing_view",
        (*_windows("pricing_view"), "days_since_pricing_view"),
        _count_sentence(
            "pricing_view_30d",
            "Viewed the pricing page",
            "Viewed the pricing page",
            "in the last 30 days",
            "Has not looked at pricing in the last 30 days",
        ),
    ),
    Reason(
        "demo_request",
        (*_windows("demo_request"), "days_since_demo_request"),
        _days_ago("days_since_demo_request", "Requested a demo", "Has not requested a demo"),
    ),
    Reason(
        "email_click",
        (*_windows("email_click"), "days_since_email_click"),
        _count_sentence(
            "email_click_30d",
            "Clicked a marketing e-mail",
            "Clicked marketing e-mails",
            "in the last 30 days",
            "No e-mail clicks in the last 30 days",
        ),
    ),
    Reason(
        "email_open",
        _windows("email_open"),
        _count_sentence(
            "email_open_30d",
            "Opened a marketing e-mail",
            "Opened marketing e-mails",
            "in the last 30 days",
            "Has not opened our e-mails in the last 30 days",
        ),
    ),
    Reason(
        "email_reply",
        _windows("email_reply"),
        _count_sentence(
            "email_reply_90d",
            "Replied to an e-mail",
            "Replied to e-mails",
            "in the last 90 days",
            "Has not replied to any e-mail",
        ),
    ),
    Reason(
        "web_visits",
        (
            *_windows("page_view"),
            *_windows("content_download"),
            "days_since_last_event",
            "events_total",
        ),
        _count_sentence(
            "page_view_30d",
            "Visited the website",
            "Visited the website",
            "in the last 30 days",
            "No website visits in the last 30 days",
        ),
    ),
    Reason(
        "form_submit",
        (*_windows("form_submit"), "days_since_form_submit"),
        _days_ago("days_since_form_submit", "Filled in a form", "Has not filled in a form"),
    ),
    Reason(
        "webinar",
        _windows("webinar_attend"),
        _count_sentence(
            "webinar_attend_90d",
            "Attended a webinar",
            "Attended webinars",
            "in the last 90 days",
            "Has not attended a webinar",
        ),
    ),
    Reason(
        "rep_activity",
        (*REP_ACTIVITY_FEATURES, "activities_total", "days_since_last_activity"),
        _days_ago(
            "days_since_last_activity",
            "Last contacted by the team",
            "Not contacted by the team yet",
        ),
    ),
    Reason(
        "response_time",
        ("hours_to_first_response",),
        pl.when(pl.col("hours_to_first_response").is_null())
        .then(pl.lit("No one has responded yet"))
        .otherwise(
            pl.format(
                "First response came {} hours after the lead arrived",
                whole("hours_to_first_response"),
            )
        ),
    ),
    Reason(
        "lead_age",
        ("lead_age_days",),
        pl.format("Lead is {} days old", whole("lead_age_days")),
    ),
    Reason(
        "source",
        ("source", "campaign_channel"),
        pl.when(pl.col("source").is_null())
        .then(pl.lit("Source unknown"))
        .otherwise(pl.format("Came in through {}", pl.col("source").str.replace_all("_", " "))),
    ),
    company(("industry", "employee_count", "annual_revenue", "tier", "region")),
    Reason(
        "seniority",
        ("seniority", "title", "known_contact"),
        pl.when(pl.col("title").is_not_null())
        .then(pl.format("Contact's title: {}", pl.col("title")))
        .when(pl.col("seniority").is_not_null())
        .then(pl.format("Contact seniority: {}", pl.col("seniority").str.replace_all("_", " ")))
        .otherwise(pl.lit("Contact's role unknown")),
    ),
)

# Custom fields of the synthetic CRM (other CRMs' custom fields get a generic sentence).
CUSTOM_REASONS = (
    Reason(
        "budget_confirmed",
        ("budget_confirmed",),
        pl.when(pl.col("budget_confirmed").cast(pl.Boolean))
        .then(pl.lit("Budget confirmed"))
        .when(pl.col("budget_confirmed").is_null())
        .then(pl.lit("Budget not discussed yet"))
        .otherwise(pl.lit("No budget confirmed")),
    ),
    Reason(
        "timeline",
        ("timeline",),
        pl.when(pl.col("timeline").is_null() | (pl.col("timeline") == "unknown"))
        .then(pl.lit("Buying timeline unknown"))
        .otherwise(pl.format("Plans to buy {}", pl.col("timeline").str.replace_all("_", " "))),
    ),
    Reason(
        "decision_maker",
        ("decision_maker",),
        pl.when(pl.col("decision_maker").cast(pl.Boolean))
        .then(pl.lit("Is the decision maker"))
        .otherwise(pl.lit("Is not the decision maker")),
    ),
)


# Fit: who they are; engagement: how they interact; intent: their buying signals
# (models.common.components). Reason groups outside them (source, lead age) count only
# in the combined score.
COMPONENTS = {
    "fit": ("company", "seniority", "decision_maker"),
    "engagement": (
        "email_open",
        "email_click",
        "email_reply",
        "web_visits",
        "webinar",
        "rep_activity",
        "response_time",
    ),
    "intent": ("demo_request", "pricing_view", "form_submit", "budget_confirmed", "timeline"),
}
# The rule's maximum points of each component (its weights above): fit 15 + decision
# maker 5; engagement 25; intent 25 + budget 8 + timeline 7.
COMPONENT_POINTS = {"fit": 20.0, "engagement": 25.0, "intent": 40.0}


def next_action() -> pl.Expr:
    """Rules on score and recency a rep can act on today."""
    score = pl.col("score")
    quiet = pl.col("days_since_last_activity").is_null() | (pl.col("days_since_last_activity") >= 7)
    demo = pl.col("days_since_demo_request").fill_null(999) <= 7
    return (
        pl.when(demo & quiet)
        .then(pl.lit("Book the demo they asked for"))
        .when(demo)
        .then(pl.lit("Confirm the demo date"))
        .when((score >= 50) & quiet)
        .then(pl.lit("Call today"))
        .when(score >= 50)
        .then(pl.lit("Follow up this week"))
        .when(score >= 20)
        .then(pl.lit("Add to a nurture sequence"))
        .otherwise(pl.lit("Leave with marketing"))
    )


FAMILY = Family(
    name="lead_scoring",
    entity="lead",
    id_column="lead_id",
    registered_model="crmlens-lead-scoring",
    horizon_days=90,
    positive_label="converted to an opportunity within 90 days",
    one_outcome_per_entity=True,
    gate=Gate(min_entities=1000, min_positive_entities=120, min_negative_entities=120),
    rule_parts=rule_parts,
    reasons=REASONS + CUSTOM_REASONS,
    silent_features=("snapshot_age_days", "created_month", "created_weekday"),
    next_action=next_action,
    qualifies=True,
    components=COMPONENTS,
    component_points=COMPONENT_POINTS,
)

# The score CRMs ship, by name (the family's rule on its own parts).
rule_points = FAMILY.rule_points
