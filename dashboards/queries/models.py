"""The Models page's queries: evaluations, calibration, score drift, monitoring checks,
promotions and what publishes each family's scores (the Leads page shows the lead
model's calibration too)."""

from __future__ import annotations

import polars as pl

from crmlens.settings import get_settings
from crmlens.sql import load
from dashboards.data import MissingTable, query, query_file

FAMILIES = {
    "lead_scoring": "Lead scoring",
    "deal_scoring": "Deal scoring",
    "churn": "Churn",
}
# Each family's score tables. Identifiers cannot be parameters: the .sql file names its
# table with a marker that only ever becomes one of these constants, never user text.
_SCORES_TABLE = {
    "lead_scoring": "publish.lead_scores",
    "deal_scoring": "publish.opportunity_scores",
    "churn": "publish.churn_scores",
}
_HISTORY_TABLE = {
    "lead_scoring": "publish.lead_scores_history",
    "deal_scoring": "publish.opportunity_scores_history",
    "churn": "publish.churn_scores_history",
}


def _on_table(name: str, marker: str, table: str) -> pl.DataFrame:
    """Run ``name``.sql with its table ``$marker`` replaced by ``table``."""
    return query(load("dashboards", name).replace(f"${marker}", table))


def evaluations(family: str) -> pl.DataFrame:
    """Metrics of every candidate of the family's latest training (valid and test).

    Args:
        family: lead_scoring, deal_scoring or churn.

    Returns:
        One row per candidate model and split: ROC AUC, PR AUC, Brier, log loss, lift,
        ECE, rows, the gate that held training back (if one did), and which was published.
    """
    return query_file("evaluations", {"family": family})


def calibration(family: str) -> pl.DataFrame:
    """Test-set calibration deciles of a family's latest training, per candidate model.

    Args:
        family: lead_scoring, deal_scoring or churn.

    Returns:
        ``model``, ``decile``, ``rows``, ``mean_predicted``, ``observed_rate``,
        ``trained_at``, ``published``.
    """
    return query_file("calibration", {"family": family})


def score_drift(family: str) -> pl.DataFrame:
    """Per publication of the family's scores: scores in ten bins, grades, the model.

    A publication is a run id; they are ordered by scored_at, then by when they were
    appended to the history (its first row), since one data day may be scored twice.

    Args:
        family: lead_scoring, deal_scoring or churn.

    Returns:
        One row per run, score bin and grade: ``rows``, ``mean_score``, the model and
        ``first_row``.
    """
    return _on_table("score_drift", "history_table", _HISTORY_TABLE[family])


def model_monitoring() -> pl.DataFrame:
    """Every drift and calibration check of every family (ops.model_monitoring), oldest first.

    ``value`` is the score PSI (drift) or the ECE (calibration); ``warn_at`` and ``block_at``
    are the thresholds the check applied (recorded in its detail; the settings' otherwise).

    Returns:
        One row per check.
    """
    settings = get_settings()
    thresholds = {
        "drift_warn": settings.drift_warn_psi,
        "drift_block": settings.drift_block_psi,
        "max_ece": settings.calibration_warn_ece,
    }
    return query_file("model_monitoring", thresholds)


def promotions(family: str) -> pl.DataFrame:
    """Every champion/challenger decision of the family, newest first.

    Args:
        family: lead_scoring, deal_scoring or churn.

    Returns:
        One row per decision: promoted or not, why, both versions and their holdout AUC
        and ECE.
    """
    return query_file("promotions", {"family": family})


def publishing_model(family: str) -> pl.DataFrame:
    """What publishes the family's scores now (model, version, path), with row counts.

    Args:
        family: lead_scoring, deal_scoring or churn.

    Returns:
        One row per model, version and scoring path in the current score table.
    """
    return _on_table("publishing_model", "scores_table", _SCORES_TABLE[family])


def backtest(family: str) -> pl.DataFrame:
    """The windows of the family's newest replay of the schedule (``crmlens backtest``).

    Args:
        family: lead_scoring, deal_scoring or churn.

    Returns:
        One row per window, oldest first: rows, positives, what published, ROC AUC (and the
        rule's), PR AUC, Brier, ECE, lift; the replay's pooled figures as ``replay_*``.
        Empty when the family was never replayed.
    """
    try:
        return query_file("backtest_windows", {"family": family})
    except MissingTable:
        return pl.DataFrame()
