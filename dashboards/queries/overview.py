"""The Overview page's queries: headline figures, monthly bookings and MRR, open alerts."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from dashboards.data import query_file
from dashboards.queries.scope import query_in_scope

# Alerts the pipeline raises about itself: no owner, dated by the wall clock.
SYSTEM_ALERTS = ("pipeline_failure", "scores_blocked")


def kpis(params: dict) -> dict:
    """Headline figures of one period (see the Overview page for their definitions).

    Args:
        params: the filters' parameters (:meth:`dashboards.filters.Filters.params`).

    Returns:
        ``open_pipeline``, ``bookings``, ``won_deals``, ``closed_deals``, ``mrr``,
        ``mrr_at_start``, ``churned_mrr``, ``churned_customers``, ``leads`` and
        ``converted_leads``, by name.
    """
    return query_in_scope("kpis", params).row(0, named=True)


def monthly_bookings(params: dict) -> pl.DataFrame:
    """Per month of the period: bookings, deals won and closed.

    Args:
        params: the filters' parameters.

    Returns:
        ``month``, ``bookings``, ``won``, ``closed``, by month.
    """
    return query_in_scope("monthly_bookings", params)


def monthly_mrr(params: dict) -> pl.DataFrame:
    """MRR at each month's end in the period.

    Args:
        params: the filters' parameters.

    Returns:
        ``month``, ``mrr``, ``customers`` (paying at the month's end), by month.
    """
    return query_in_scope("monthly_mrr", params)


def open_alerts(params: dict, days: int = 7) -> pl.DataFrame:
    """Alerts of the latest day and of the ``days`` up to it, the newest per kind and entity.

    Business alerts are raised on the data's today at each scoring run, so their latest day
    is the latest evaluation; the pipeline's own (a failed step, scores held back) on the
    wall clock's today, which can lie far from the data's (old exports, synthetic data):
    each is windowed on its own calendar. An alert raised again on later days (it still
    holds) is shown once, as raised last. The owner filter applies to business alerts; the
    pipeline's have no owner and always show.

    Args:
        params: the filters' parameters.
        days: how many days up to the latest one count as open.

    Returns:
        One row per alert with its owner's name and ``latest`` (raised on the latest day),
        newest first, high severity first within a day.
    """
    extra = {"days": days, "system": list(SYSTEM_ALERTS), "today": datetime.now(UTC).date()}
    return query_file("open_alerts", params | extra)
