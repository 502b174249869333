"""The Pipeline page's queries: open deals by stage and age, the stage funnel, cycle
lengths, and the deals at risk (the Overview shows the open deals by stage too)."""

from __future__ import annotations

import polars as pl

from dashboards.queries.scope import query_in_scope


def open_by_stage(params: dict) -> pl.DataFrame:
    """Open deals now, by stage: count, value, average age.

    Args:
        params: the filters' parameters (:meth:`dashboards.filters.Filters.params`).

    Returns:
        ``stage``, ``deals``, ``amount``, ``avg_age_days``, one row per stage.
    """
    return query_in_scope("open_by_stage", params)


def stage_funnel(params: dict) -> pl.DataFrame:
    """Deals created in the period: how many reached each stage, and the days spent there.

    A deal reached a stage when it spent time in it (its history) or is now past it;
    days in a stage are averaged over the deals that have left it.

    Args:
        params: the filters' parameters.

    Returns:
        ``stage``, ``stage_order``, ``deals``, ``amount``, ``avg_days_in_stage``, one row
        per stage (won included) in process order.
    """
    return query_in_scope("stage_funnel", params)


def cycle_by_month(params: dict) -> pl.DataFrame:
    """Deals won in the period, by month of closing: cycle length (days created → won).

    Args:
        params: the filters' parameters.

    Returns:
        ``month``, ``won``, ``median_cycle_days``, ``avg_cycle_days``, by month.
    """
    return query_in_scope("cycle_by_month", params)


def open_deals_aging(params: dict) -> pl.DataFrame:
    """Open deals by age bucket and stage.

    Args:
        params: the filters' parameters.

    Returns:
        ``stage``, ``age_bucket``, ``deals``, ``amount``.
    """
    return query_in_scope("open_deals_aging", params)


def deals_at_risk(params: dict) -> pl.DataFrame:
    """Open scored deals with their score, grade, risk flags, reasons and next action.

    Args:
        params: the filters' parameters.

    Returns:
        One row per open scored deal, largest first; ``risk_flags`` and ``reasons`` as
        the score contract's JSON text.
    """
    return query_in_scope("deals_at_risk", params)
