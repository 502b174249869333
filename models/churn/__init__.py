"""Churn: the probability that a customer account cancels, or does not renew, within 90 days.

Baseline (the score CRMs ship today: a customer-health scorecard in the manner
of Gainsight's, HubSpot's or ChurnZero's, shown as risk = 100 − health): points
for product use falling (up to 25, in proportion to the fall over the last 30
days against the 60 before), no login for 14 days or more (15; 7 for a week),
open urgent tickets (10) and frequent urgent tickets (5), low CSAT (10 below 3
of 5, 5 below 4), late invoices (10 each, up to 20), seats cut by 10 % or more
(10), a month-to-month plan (10) and a young customer (10 under 6 months, 5
under a year). A source without product-usage events (none of the frame's
accounts has a login on record) earns nobody usage or login points, as a
scorecard without a usage feed would.

Cold-start gate, set by evidence: enough positive snapshots that the newest fifth
(the test) holds the 31 a ROC AUC needs for a 95 % interval of ±0.1 at 0.75
(Hanley & McNeil; :func:`models.common.family.positive_rows_for_auc`: 155 in the set),
from at least 50 accounts that churned and 100 that stayed, 300 in all. A churned
account shows in up to three monthly snapshots of a 90-day horizon, each a decision
point with its own label; the account count keeps the evidence from resting on a
handful of stories. (The former bar, 100 churned accounts, was a round number: the
small synthetic CRM's 99 missed it while its test measured AUC to about ±0.05.)

Every score carries its strongest reasons up and down, in words (from
LightGBM's per-row contributions), and a next best action for the customer
success manager.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from models.common.family import Family, Gate, Reason, numeric, positive_rows_for_auc
from models.common.reasons import company, money, plural, whole

# A churn probability at which a CSM should act (about 5× the synthetic CRM's 90-day rate).
AT_RISK_SCORE = 15
LOGIN_GAP_DAYS = 14


def _tracks_usage(frame: pl.DataFrame) -> bool:
    """Whether the source records product use at all (some account has a login)."""
    return (
        "days_since_last_login" in frame.columns
        and frame["days_since_last_login"].is_not_null().any()
    )


def rule_parts(frame: pl.DataFrame) -> dict[str, np.ndarray]:
    """The health scorecard's risk points in parts keyed by reason group (module docstring)."""
    usage = _tracks_usage(frame)
    trend = numeric(frame, "usage_trend", 1.0)
    login_gap = numeric(frame, "days_since_last_login", np.inf)
    csat = numeric(frame, "avg_csat_180d", None)  # unknown CSAT earns no points
    seats_change = numeric(frame, "seats_change_pct", 0.0)
    plan = (
        pl.col("plan").cast(pl.String).str.to_lowercase().str.contains("month").fill_null(False)
        if "plan" in frame.columns
        else pl.lit(False)
    )
    tenure = numeric(frame, "tenure_days", np.inf)
    parts = frame.select(
        usage=(25.0 * (1.0 - trend).clip(0.0, 1.0)) if usage else pl.lit(0.0),
        login=(
            pl.when(login_gap >= LOGIN_GAP_DAYS).then(15.0).when(login_gap >= 7).then(7.0)
        ).otherwise(0.0)
        if usage
        else pl.lit(0.0),
        tickets=(
            pl.when(numeric(frame, "open_urgent_tickets") > 0).then(10.0).otherwise(0.0)
            + pl.when(numeric(frame, "urgent_tickets_90d") >= 2).then(5.0).otherwise(0.0)
        ),
        csat=pl.when(csat < 3).then(10.0).when(csat < 4).then(5.0).otherwise(0.0),
        invoices=(10.0 * numeric(frame, "late_invoices_180d")).clip(0.0, 20.0),
        seats=pl.when(seats_change <= -10).then(10.0).otherwise(0.0),
        plan=pl.when(plan).then(10.0).otherwise(0.0),
        tenure=pl.when(tenure < 182).then(10.0).when(tenure < 365).then(5.0).otherwise(0.0),
    )
    return {name: parts[name].cast(pl.Float64).to_numpy() for name in parts.columns}


# --- reasons in words ----------------------------------------------------------------


def _usage_sentence() -> pl.Expr:
    last = pl.col("usage_30d")
    monthly_before = pl.col("usage_31_90d") / 2.0
    change = 100.0 * (last / monthly_before - 1.0)
    return (
        pl.when((last == 0) & (monthly_before == 0))
        .then(pl.lit("No product use in the last 90 days"))
        .when(last == 0)
        .then(pl.lit("No product use in the last 30 days"))
        .when(monthly_before == 0)
        .then(pl.lit("Started using the product in the last 30 days"))
        .when(change <= -5)
        .then(pl.format("Product use fell {} % in the last 30 days", whole(-change)))
        .when(change >= 5)
        .then(pl.format("Product use rose {} % in the last 30 days", whole(change)))
        .otherwise(pl.lit("Product use steady in the last 30 days"))
    )


def _login_sentence() -> pl.Expr:
    d = pl.col("days_since_last_login")
    return (
        pl.when(d.is_null())
        .then(pl.lit("No logins on record"))
        .when(d < 1)
        .then(pl.lit("Logged in today"))
        .when(d < 1.5)
        .then(pl.lit("Last login yesterday"))
        .when(d >= LOGIN_GAP_DAYS)
        .then(pl.format("No one has logged in for {} days", whole(d)))
        .otherwise(pl.format("Last login {} days ago", whole(d)))
    )


def _adoption_sentence() -> pl.Expr:
    users, seats = pl.col("active_users_30d"), pl.col("seats")
    return (
        pl.when(seats.is_not_null() & (seats > 0))
        .then(pl.format("{} active users on {} seats in the last 30 days", users, whole(seats)))
        .otherwise(
            plural(
                users,
                "1 active user in the last 30 days",
                "{} active users in the last 30 days",
                "No active users in the last 30 days",
            )
        )
    )


def _seats_sentence() -> pl.Expr:
    now, before = pl.col("seats"), pl.col("seats_90d_ago")
    return (
        pl.when(now.is_null())
        .then(pl.lit("No seat count on file"))
        .when(before.is_null())
        .then(pl.format("New customer in the last 90 days, {} seats", whole(now)))
        .when(now < before)
        .then(pl.format("Seats cut from {} to {}", whole(before), whole(now)))
        .when(now > before)
        .then(pl.format("Seats grew from {} to {}", whole(before), whole(now)))
        .otherwise(pl.format("Seats unchanged at {}", whole(now)))
    )


def _renewal_sentence() -> pl.Expr:
    d = pl.col("days_to_renewal")
    return (
        pl.when(d.is_null())
        .then(pl.lit("No renewal date ahead"))
        .when(d == 0)
        .then(pl.lit("Renews today"))
        .when(d == 1)
        .then(pl.lit("Renews tomorrow"))
        .otherwise(pl.format("Renews in {} days", whole(d)))
    )


def _invoice_sentence() -> pl.Expr:
    late, overdue = pl.col("late_invoices_180d"), pl.col("overdue_invoices")
    return (
        pl.when(overdue > 1)
        .then(pl.format("{} invoices overdue and unpaid", overdue))
        .when(overdue == 1)
        .then(pl.lit("An invoice is overdue and unpaid"))
        .otherwise(
            plural(
                late,
                "1 late invoice in the last 6 months",
                "{} late invoices in the last 6 months",
                "Invoices paid on time in the last 6 months",
            )
        )
    )


def _ticket_sentence() -> pl.Expr:
    n, urgent = pl.col("tickets_90d"), pl.col("urgent_tickets_90d")
    open_urgent = pl.col("open_urgent_tickets")
    return (
        pl.when(open_urgent > 0)
        .then(plural(open_urgent, "An urgent ticket is open", "{} urgent tickets are open", ""))
        .when(n.is_null() | (n == 0))
        .then(pl.lit("No support tickets in the last 90 days"))
        .when(urgent > 0)
        .then(pl.format("{} support tickets in the last 90 days, {} high or urgent", n, urgent))
        .otherwise(
            plural(
                n,
                "1 support ticket in the last 90 days",
                "{} support tickets in the last 90 days",
                "",
            )
        )
    )


def _tenure_sentence() -> pl.Expr:
    d = pl.col("tenure_days")
    return (
        pl.when(d.is_null())
        .then(pl.lit("Not a customer yet"))
        .when(d < 1.5)
        .then(pl.lit("Became a customer yesterday"))
        .when(d < 60)
        .then(pl.format("Customer for {} days", whole(d)))
        .when(d < 730)
        .then(pl.format("Customer for {} months", whole(d / 30.44)))
        .otherwise(pl.format("Customer for {} years", (d / 365.25).round(1)))
    )


def _yes_no(column: str, yes: str, no: str, other: str | None = None) -> Reason:
    """A telco-style Yes / No / "No internet service" field."""
    value = pl.col(column).cast(pl.String)
    text = (
        pl.when(value.is_in(["Yes", "true"]))
        .then(pl.lit(yes))
        .when(value.is_in(["No", "false"]))
        .then(pl.lit(no))
    )
    text = text.otherwise(
        pl.lit(other) if other else pl.format(f"{column.replace('_', ' ')}: {{}}", value)
    )
    return Reason(column, (column,), text)


REASONS = (
    Reason(
        "usage",
        ("usage_30d", "usage_31_90d", "usage_trend", "logins_30d"),
        _usage_sentence(),
    ),
    Reason("login", ("days_since_last_login",), _login_sentence()),
    Reason("adoption", ("active_users_30d", "active_users_per_seat"), _adoption_sentence()),
    Reason(
        "seats",
        ("seats", "seats_90d_ago", "seats_change", "seats_change_pct"),
        _seats_sentence(),
    ),
    Reason("renewal", ("days_to_renewal",), _renewal_sentence()),
    Reason(
        "invoices",
        ("late_invoices_180d", "overdue_invoices", "unpaid_amount"),
        _invoice_sentence(),
    ),
    Reason(
        "csat",
        ("avg_csat_180d",),
        pl.when(pl.col("avg_csat_180d").is_null())
        .then(pl.lit("No CSAT answers in the last 6 months"))
        .otherwise(pl.format("Average CSAT {} of 5", pl.col("avg_csat_180d").round(1))),
    ),
    Reason(
        "tickets",
        (
            "tickets_90d",
            "urgent_tickets_90d",
            "open_tickets",
            "open_urgent_tickets",
            "avg_resolution_hours_180d",
        ),
        _ticket_sentence(),
    ),
    Reason("tenure", ("tenure_days", "tenure_months"), _tenure_sentence()),
    Reason(
        "mrr",
        ("mrr", "active_subscriptions", "monthly_charges", "total_charges"),
        pl.format("Pays {} a month", money("mrr", thousands_from=1e4)),
    ),
    Reason(
        "plan",
        ("plan",),
        pl.when(pl.col("plan").is_null())
        .then(pl.lit("No plan on file"))
        .otherwise(pl.format("On the {} plan", pl.col("plan"))),
    ),
    company(("industry", "employee_count", "tier")),
)

# Custom fields of the synthetic CRM and of the telco file; any other CRM's custom
# fields get the framework's generic sentence.
CUSTOM_REASONS = (
    Reason(
        "nps_score",
        ("nps_score",),
        pl.when(pl.col("nps_score").is_null())
        .then(pl.lit("No NPS answer"))
        .when(pl.col("nps_score") <= 6)
        .then(pl.format("Detractor: NPS {} of 10", whole("nps_score")))
        .when(pl.col("nps_score") <= 8)
        .then(pl.format("Passive: NPS {} of 10", whole("nps_score")))
        .otherwise(pl.format("Promoter: NPS {} of 10", whole("nps_score"))),
    ),
    _yes_no("uses_competitor", "Also uses a competitor's product", "No competitor in use"),
    Reason(
        "contract",
        ("contract",),
        pl.when(pl.col("contract").is_null())
        .then(pl.lit("Contract type unknown"))
        .otherwise(pl.format("{} contract", pl.col("contract"))),
    ),
    Reason(
        "internet_service",
        ("internet_service",),
        pl.when(pl.col("internet_service") == "No")
        .then(pl.lit("No internet service"))
        .otherwise(pl.format("{} internet", pl.col("internet_service"))),
    ),
    Reason(
        "payment_method",
        ("payment_method", "paperless_billing"),
        pl.format("Pays by {}", pl.col("payment_method").str.to_lowercase()),
    ),
    _yes_no("tech_support", "Has tech support", "No tech support", "No internet service"),
    _yes_no("online_security", "Has online security", "No online security", "No internet service"),
    _yes_no("online_backup", "Has online backup", "No online backup", "No internet service"),
    _yes_no(
        "device_protection",
        "Has device protection",
        "No device protection",
        "No internet service",
    ),
    _yes_no("streaming_tv", "Streams TV", "Does not stream TV", "No internet service"),
    _yes_no("streaming_movies", "Streams movies", "Does not stream movies", "No internet service"),
    _yes_no("multiple_lines", "Has multiple lines", "Has a single line", "No phone service"),
    _yes_no("phone_service", "Has phone service", "No phone service"),
    _yes_no("senior_citizen", "Senior citizen", "Not a senior citizen"),
    _yes_no("has_partner", "Has a partner", "No partner"),
    _yes_no("has_dependents", "Has dependents", "No dependents"),
)


def next_action() -> pl.Expr:
    """What the customer success manager does next, from the score and the account's signals."""
    score = pl.col("score")
    at_risk = score >= AT_RISK_SCORE
    renewal_soon = pl.col("days_to_renewal").fill_null(np.inf) <= 90
    usage_falling = (pl.col("usage_trend").fill_null(1.0) < 0.7) | (
        pl.col("days_since_last_login").fill_null(0.0) >= LOGIN_GAP_DAYS
    )
    seats_cut = pl.col("seats_change").fill_null(0.0) < 0
    overdue = pl.col("overdue_invoices").fill_null(0)
    late = pl.col("late_invoices_180d").fill_null(0)
    billing = (overdue >= 2) | (late >= 3) | (at_risk & ((overdue > 0) | (late >= 2)))
    return (
        pl.when(pl.col("open_urgent_tickets").fill_null(0) > 0)
        .then(pl.lit("Escalate the open urgent tickets"))
        .when(at_risk & renewal_soon)
        .then(pl.lit("Schedule a health check with the champion before renewal"))
        .when(billing)
        .then(pl.lit("Review billing with finance"))
        .when(at_risk & usage_falling)
        .then(pl.lit("Book an adoption session with the users"))
        .when(at_risk & seats_cut)
        .then(pl.lit("Review seat needs with the champion"))
        .when(at_risk)
        .then(pl.lit("Schedule a health check with the champion"))
        .when(renewal_soon)
        .then(pl.lit("Prepare the renewal"))
        .otherwise(pl.lit("Keep the regular check-ins"))
    )


FAMILY = Family(
    name="churn",
    entity="account",
    id_column="account_id",
    registered_model="crmlens-churn",
    score_is_risk=True,
    horizon_days=90,
    positive_label="cancelled or not renewed within 90 days",
    one_outcome_per_entity=False,
    gate=Gate(
        min_entities=300,
        min_positive_entities=50,
        min_negative_entities=100,
        min_positive_rows=positive_rows_for_auc(),
    ),
    rule_parts=rule_parts,
    reasons=REASONS + CUSTOM_REASONS,
    next_action=next_action,
)

# Churn risk points 0-100 (100 − health), by name (the family's rule on its own parts).
rule_points = FAMILY.rule_points
