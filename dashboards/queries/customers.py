"""The Customers page's queries: churn risk, renewals and MRR movements."""

from __future__ import annotations

import polars as pl

from dashboards.data import query_file
from dashboards.queries.scope import query_in_scope


def churn_risk(params: dict) -> pl.DataFrame:
    """Scored customers: MRR, churn risk with reasons and next action, next renewal.

    Args:
        params: the filters' parameters (:meth:`dashboards.filters.Filters.params`).

    Returns:
        One row per scored customer, highest risk first: ``health`` (100 − churn risk),
        ``churn_risk``, band, reasons (JSON text), next action and ``next_renewal``.
    """
    return query_file("churn_risk", params)


def renewals(params: dict, days: int = 90) -> pl.DataFrame:
    """Subscriptions renewing within ``days`` of the data's today, with the churn risk.

    Args:
        params: the filters' parameters.
        days: how far ahead to look.

    Returns:
        One row per subscription, soonest first: plan, seats, MRR, renewal date and the
        customer's churn risk, band, reasons and next action.
    """
    return query_file("renewals", params | {"days": days})


def mrr_movements(params: dict) -> pl.DataFrame:
    """MRR movements per month of the period (amounts positive; the page signs them).

    Args:
        params: the filters' parameters.

    Returns:
        ``month``, ``new``, ``expansion``, ``reactivation``, ``contraction``, ``churn``,
        ``mrr_end``, by month.
    """
    return query_in_scope("mrr_movements", params)
