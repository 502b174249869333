"""The score contract: what the CRM reads (documented in docs/score-contract.md).

One table per score family. The key names the entity; ``content`` columns are what
a change is judged on; ``stamp`` columns say when and by what run a row was
produced, and do not on their own make a row "changed" (a daily run that finds
the same score does not rewrite it in the CRM).
"""

from __future__ import annotations

from dataclasses import dataclass

STAMP = (
    "model_name",
    "model_version",
    "scoring_path",
    "as_of",
    "scored_at",
    "valid_until",
    "run_id",
)


@dataclass(frozen=True)
class ScoreTable:
    """One score family as the CRM reads it: key, content (what a change is judged on), stamp."""

    name: str
    source: str  # ml.<table> the pipeline scored into
    key: tuple[str, ...]
    content: tuple[str, ...]
    stamp: tuple[str, ...] = STAMP
    description: str = ""

    def __post_init__(self) -> None:
        # A column named twice would be published twice (DuckDB renames the second
        # `x_1`), so the CRM would read columns the contract does not document.
        seen: set[str] = set()
        twice = [c for c in self.columns if c in seen or seen.add(c)]
        if twice:
            raise ValueError(f"score table {self.name}: columns named twice: {', '.join(twice)}")

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column, in the contract's order: key, content, stamp."""
        return (*self.key, *self.content, *self.stamp)


_SCORE = ("score", "probability", "grade", "band", "reasons", "next_action")
# What CRMs route on beside the score (models.common.routing), added after the columns
# above so that every earlier column keeps its place.
_ROUTING = ("confidence", "confidence_interval", "score_trend")
# Lead component scores (models.common.components) and deal risk (models.deal_scoring.risk).
_COMPONENTS = ("fit_score", "engagement_score", "intent_score")
_RISK = ("risk_score", "risk_level", "risk_trend")
_FORECAST = ("horizon", "point", "lo80", "hi80", "lo95", "hi95", "method", "fallback_reason")
_FORECAST_DETAIL = ("backtest_mase", "backtest_coverage80", "backtest_coverage95")
_SCENARIOS = ("commit", "most_likely", "best_case")  # the quarter rows only

SCORE_TABLES: dict[str, ScoreTable] = {
    t.name: t
    for t in (
        ScoreTable(
            "lead_scores",
            "ml.lead_scores",
            ("lead_id",),
            (*_SCORE, *_ROUTING, "qualification", *_COMPONENTS),
            description="Probability that an open lead converts to an opportunity within 90 days.",
        ),
        ScoreTable(
            "opportunity_scores",
            "ml.opportunity_scores",
            ("opportunity_id",),
            (*_SCORE, "risk_flags", *_ROUTING, *_RISK),
            description="Probability that an open deal is won; risk flags.",
        ),
        ScoreTable(
            "churn_scores",
            "ml.churn_scores",
            ("account_id",),
            (*_SCORE, *_ROUTING),
            description="Probability that a customer cancels or does not renew within 90 days.",
        ),
        ScoreTable(
            "suggested_tasks",
            "ml.suggested_tasks",
            ("task_id",),
            (
                "entity_type",
                "entity_id",
                "task_type",
                "subject",
                "priority",
                "due_date",
                "owner_id",
                "reason",
                "expires_at",
            ),
            ("as_of", "scored_at", "valid_until", "run_id"),
            description="What a rep or customer success manager should do next, per lead, "
            "deal and customer: type, priority, due date, owner, reason, expiry (never a "
            "contact task for someone marked do-not-contact or not opted in).",
        ),
        ScoreTable(
            "revenue_forecast",
            "ml.revenue_forecast",
            ("metric", "grain", "segment_type", "segment", "period"),
            (*_FORECAST, *_FORECAST_DETAIL, *_SCENARIOS),
            ("forecast_origin", "scored_at", "valid_until", "run_id", "mlflow_run_id"),
            description="Bookings, MRR and new pipeline forecast by period and segment: "
            "point, 80/95 % intervals, method; quarter rows carry the scenarios.",
        ),
        ScoreTable(
            "series_forecast",
            "ml.series_forecast",
            ("series", "segment", "period"),
            ("grain", *_FORECAST, "backtest_mase", "seasonal_naive_mase"),
            ("forecast_origin", "scored_at", "run_id"),
            description="Forecasts of the series a source spec defines (`series:`: daily "
            "sales, page views, tickets...) by series, segment and period: point, 80/95 % "
            "intervals, method, backtest MASE beside seasonal naive's.",
        ),
    )
}


def score_table(name: str) -> ScoreTable:
    """The contract of a score table.

    Args:
        name: e.g. ``lead_scores``.

    Returns:
        Its :class:`ScoreTable`.

    Raises:
        KeyError: not a score table (the message lists them).
    """
    try:
        return SCORE_TABLES[name]
    except KeyError:
        raise KeyError(f"unknown score table {name!r}; known: {', '.join(SCORE_TABLES)}") from None
