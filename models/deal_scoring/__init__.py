"""Deal scoring: the probability that an open opportunity is won, among those that close
within 180 days.

Baseline (the score CRMs ship today, e.g. Salesforce's stage probability): the
stage's default probability from the CRM's vocabulary (declared by its spec, else the
canonical prospecting 10, qualification 20, needs analysis 40, proposal 60, negotiation
80, else the observed win rate of deals that reached it), +10 points if the amount is over 50,000 (+5 over
25,000), +5 if the buyer was contacted in the last 7 days. Cold-start gate: 200
won and 200 lost deals.

Every score carries its strongest reasons up and down (from the published model's
own per-row contributions, in words; on the cold-start path, from the rule's
parts), a next best action, and the deal's risk flags
(:mod:`models.deal_scoring.risk`): no activity in 14 days, in its stage longer
than 3 in 4 deals, close date pushed twice, a single person engaged.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crmlens.contracts import CANONICAL_STAGE_PROBABILITY, OPEN_STAGES
from models.common.family import Family, Gate, Reason
from models.common.reasons import company, money, plural, whole
from models.deal_scoring import risk

# The canonical open stages' default probabilities, in points: what a frame without the
# vocabulary's `stage_probability` (or a stage it does not know) is scored with.
STAGE_PROBABILITY = {
    stage: round(100 * CANONICAL_STAGE_PROBABILITY[stage]) for stage in OPEN_STAGES
}
RECENT_CONTACT_DAYS = 7
TIER_NAMES = {"enterprise": "Enterprise", "mid_market": "Mid-market", "smb": "Small-business"}


def rule_parts(frame: pl.DataFrame) -> dict[str, np.ndarray]:
    """The CRM-style points score in parts keyed by reason group.

    The stage's points are its default probability (``stage_probability``, from the CRM's
    vocabulary); without it, the canonical stage's, and an unknown stage counts as
    prospecting. An unknown amount, or a buyer never contacted, earns no points.
    """
    stage = pl.col("stage").replace_strict(
        STAGE_PROBABILITY, default=STAGE_PROBABILITY["prospecting"], return_dtype=pl.Float64
    )
    if "stage_probability" in frame.columns:
        stage = (100.0 * pl.col("stage_probability").cast(pl.Float64)).fill_null(stage)
    amount = pl.col("amount").cast(pl.Float64).fill_null(0.0)
    size = pl.when(amount > 50_000).then(10.0).when(amount > 25_000).then(5.0).otherwise(0.0)
    recent = (
        pl.col("days_since_last_contact").cast(pl.Float64).fill_null(np.inf) <= RECENT_CONTACT_DAYS
    ).cast(pl.Float64) * 5.0
    parts = frame.select(stage=stage, amount=size, activity=recent)
    return {group: parts[group].to_numpy() for group in parts.columns}


def _stage_name(column: str = "stage") -> pl.Expr:
    return pl.col(column).fill_null("an unknown stage").str.replace_all("_", " ")


def _count(n: pl.Expr, singular: str, plural: str) -> pl.Expr:
    """ "1 meeting", "3 meetings"."""
    return pl.when(n == 1).then(pl.lit(f"1 {singular}")).otherwise(pl.format(f"{{}} {plural}", n))


def _days(column: str) -> pl.Expr:
    """ "1 day", "23 days" (rounded, absolute)."""
    return _count(whole(pl.col(column).abs()), "day", "days")


def _times(n: pl.Expr, none: str, once: str, many: str) -> pl.Expr:
    """``once`` for 1, "twice" for 2, ``many`` (with {} for the count) above, ``none`` for 0."""
    twice = pl.lit(many.replace("{} times", "twice"))
    return pl.when(n == 2).then(twice).otherwise(plural(n, once, many, none))


def _last_contact() -> pl.Expr:
    days = whole("days_since_last_contact")
    return (
        pl.when(days.is_null())
        .then(pl.lit("no contact with the buyer yet"))
        .when(days == 0)
        .then(pl.lit("last contact today"))
        .when(days == 1)
        .then(pl.lit("last contact yesterday"))
        .otherwise(pl.format("last contact {} days ago", days))
    )


TALK_TYPES = ("call", "email", "task", "note", "sms")
MEETING_TYPES = ("meeting", "demo")


def _activity(kinds: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"activity_{t}_{d}d" for t in kinds for d in (14, 30))


REASONS = (
    Reason(
        "stage",
        ("stage", "stage_rank", "stage_changes"),
        pl.format("In the {} stage", _stage_name()),
    ),
    Reason(
        "time_in_stage",
        ("days_in_stage", "stage_p75_days", "stage_time_ratio"),
        pl.when(pl.col("days_in_stage") < 0.5)
        .then(pl.format("Entered {} today", _stage_name()))
        .when(risk.stage_over_p75())
        .then(
            pl.format(
                "In {} for {} (longer than 3 in 4 deals)", _stage_name(), _days("days_in_stage")
            )
        )
        .otherwise(pl.format("In {} for {}", _stage_name(), _days("days_in_stage"))),
    ),
    Reason(
        "deal_age",
        ("deal_age_days", "days_per_stage"),
        pl.when(pl.col("deal_age_days") < 0.5)
        .then(pl.lit("Opened today"))
        .otherwise(pl.format("Open for {}", _days("deal_age_days"))),
    ),
    Reason(
        "close_date_pushes",
        ("close_date_pushes",),
        _times(
            pl.col("close_date_pushes"),
            "Close date never pushed",
            "Close date pushed once",
            "Close date pushed {} times",
        ),
    ),
    Reason(
        "expected_close",
        ("days_to_expected_close",),
        pl.when(pl.col("days_to_expected_close").is_null())
        .then(pl.lit("No expected close date"))
        .when(pl.col("days_to_expected_close") < 0)
        .then(pl.format("Expected close date passed {} ago", _days("days_to_expected_close")))
        .otherwise(pl.format("Expected to close in {}", _days("days_to_expected_close"))),
    ),
    Reason(
        "amount",
        ("amount",),
        pl.when(pl.col("amount").is_null())
        .then(pl.lit("No amount set yet"))
        .otherwise(pl.format("Deal worth {}", money("amount", thousands_from=1e3))),
    ),
    Reason(
        "discount",
        ("amount_change_pct", "amount_changes"),
        pl.when(pl.col("amount_change_pct") <= -1)
        .then(
            pl.format(
                "Amount cut by {} % since it was opened",
                whole(-pl.col("amount_change_pct")),
            )
        )
        .when(pl.col("amount_change_pct") >= 1)
        .then(
            pl.format(
                "Amount raised by {} % since it was opened",
                whole("amount_change_pct"),
            )
        )
        .when(pl.col("amount_change_pct").is_null())
        .then(pl.lit("No amount to compare yet"))
        .otherwise(pl.lit("Amount unchanged since it was opened")),
    ),
    Reason(
        "activity",
        (
            *_activity(TALK_TYPES),
            "activities_14d",
            "activities_30d",
            "activities_total",
            "activities_per_week",
            "days_since_last_activity",
            "days_since_last_contact",
        ),
        pl.when(pl.col("activities_14d").fill_null(0) == 0)
        .then(pl.lit("No activity in the last 14 days"))
        .otherwise(
            pl.format(
                "{} in the last 14 days, {}",
                _count(pl.col("activities_14d"), "activity", "activities"),
                _last_contact(),
            )
        ),
    ),
    Reason(
        "meetings",
        _activity(MEETING_TYPES),
        pl.when((pl.col("activity_meeting_30d") + pl.col("activity_demo_30d")).fill_null(0) == 0)
        .then(pl.lit("No meeting or demo in the last 30 days"))
        .when(pl.col("activity_demo_30d") == 0)
        .then(
            pl.format(
                "{} in the last 30 days",
                _count(pl.col("activity_meeting_30d"), "meeting", "meetings"),
            )
        )
        .when(pl.col("activity_meeting_30d") == 0)
        .then(
            pl.format(
                "{} in the last 30 days", _count(pl.col("activity_demo_30d"), "demo", "demos")
            )
        )
        .otherwise(
            pl.format(
                "{} and {} in the last 30 days",
                _count(pl.col("activity_meeting_30d"), "meeting", "meetings"),
                _count(pl.col("activity_demo_30d"), "demo", "demos"),
            )
        ),
    ),
    Reason(
        "stakeholders",
        ("stakeholders",),
        pl.when(pl.col("stakeholders").fill_null(0) == 0)
        .then(pl.lit("No one from the buyer engaged yet"))
        .when(pl.col("stakeholders") == 1)
        .then(pl.lit("Only 1 person from the buyer engaged"))
        .otherwise(pl.format("{} people from the buyer engaged", pl.col("stakeholders"))),
    ),
    Reason(
        "competitor",
        ("competitor",),
        pl.when(pl.col("competitor").is_null())
        .then(pl.lit("No competitor known"))
        .otherwise(pl.format("Competing with {}", pl.col("competitor"))),
    ),
    Reason(
        "owner",
        ("owner_win_rate", "owner_closed_deals"),
        pl.when(pl.col("owner_closed_deals").fill_null(0) < 5)
        .then(pl.lit("Owner has closed few deals so far"))
        .otherwise(
            pl.format(
                "Owner wins {} % of the deals they close",
                whole(100 * pl.col("owner_win_rate")),
            )
        ),
    ),
    Reason(
        "customer",
        ("already_customer",),
        pl.when(pl.col("already_customer") == 1)
        .then(pl.lit("Already a customer"))
        .otherwise(pl.lit("Not a customer yet")),
    ),
    company(("industry", "tier", "employee_count"), tier_names=TIER_NAMES),
    Reason(
        "product",
        ("product_line",),
        pl.when(pl.col("product_line").is_null())
        .then(pl.lit("Product not set"))
        .otherwise(pl.format("Selling {}", pl.col("product_line"))),
    ),
    Reason(
        "pace",
        ("worked_pace_per_week",),
        pl.when(pl.col("worked_pace_per_week").is_null())
        .then(pl.lit("Too new to have a working pace"))
        .otherwise(
            pl.format(
                "Worked {} times a week since it was opened",
                pl.col("worked_pace_per_week").round(1),
            )
        ),
    ),
    Reason(
        "stage_speed",
        ("days_per_past_stage",),
        pl.when(pl.col("days_per_past_stage").is_null())
        .then(pl.lit("Still in its first stage"))
        .otherwise(
            pl.format(
                "Spent {} days per stage so far",
                whole("days_per_past_stage"),
            )
        ),
    ),
)


def next_action() -> pl.Expr:
    """What the owner should do next, from the risk flags first, then the score."""
    score = pl.col("score")
    return (
        pl.when(risk.stalled() & risk.high_value())
        .then(pl.lit("Book a meeting with the decision maker this week"))
        .when(risk.close_date_pushed_twice())
        .then(pl.lit("Confirm the close date with the buyer"))
        .when(risk.stalled())
        .then(pl.lit("Call the buyer to restart the conversation"))
        .when(risk.single_contact())
        .then(pl.lit("Bring in a second stakeholder"))
        .when(score >= 60)
        .then(pl.lit("Agree the remaining steps and a signature date"))
        .when(score >= 30)
        .then(pl.lit("Book the next meeting to move it forward"))
        .otherwise(pl.lit("Requalify: confirm need, budget and timing"))
    )


def extra_outputs() -> dict[str, pl.Expr]:
    return {
        "risk_flags": risk.risk_flags(),
        "risk_score": risk.risk_score(),
        "risk_level": risk.risk_level(),
    }


FAMILY = Family(
    name="deal_scoring",
    entity="opportunity",
    id_column="opportunity_id",
    registered_model="crmlens-deal-scoring",
    horizon_days=180,
    positive_label="won",
    one_outcome_per_entity=True,
    gate=Gate(min_entities=400, min_positive_entities=200, min_negative_entities=200),
    rule_parts=rule_parts,
    reasons=REASONS,
    next_action=next_action,
    extra_outputs=extra_outputs,
    extra={"risk_flags": tuple(risk.FLAGS), "output_types": {"risk_score": pl.Int64}},
)

# The score CRMs ship, by name (the family's rule on its own parts).
rule_points = FAMILY.rule_points
