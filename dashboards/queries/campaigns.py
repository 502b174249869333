"""The Campaigns page's queries: campaign performance and attributed revenue."""

from __future__ import annotations

import polars as pl

from dashboards.data import query_file
from dashboards.queries.scope import query_in_scope


def campaigns(params: dict) -> pl.DataFrame:
    """Campaigns started in the period: reach, response, influence, cost.

    Args:
        params: the filters' parameters (:meth:`dashboards.filters.Filters.params`).

    Returns:
        One row per campaign, by start.
    """
    return query_file("campaigns", params)


def attribution(params: dict) -> pl.DataFrame:
    """Credit per campaign and attribution model, over the deals in scope (owner, segment).

    Args:
        params: the filters' parameters.

    Returns:
        ``campaign_id``, ``attribution_model``, ``deals_credited``, ``pipeline``, ``revenue``.
    """
    return query_in_scope("attribution", params)
