"""The rows in the sidebar's scope, defined once for every page that reads them.

The owner and segment filters pick deals, MRR movements and leads the same way on every
page, so each of those sets is one file, ``dashboards/sql/scoped_<set>.sql``, and a page's
query reads it as a CTE: ``opps`` (the deals, with their account's tier), ``mrr`` (the MRR
movements) and ``leads``. The query marks where each set goes with ``/* fragment: opps */``:

- a marker in front of the query's ``select`` becomes a ``with`` clause of its own;
- markers just after the query's ``with`` (the query has CTEs of its own) become the first
  entries of that clause.
"""

from __future__ import annotations

import re

import polars as pl

from crmlens.sql import fill_fragments, load
from dashboards.data import query

# The CTE name a query reads -> the file that selects its rows.
SCOPED_SETS = {
    "opps": "scoped_opportunities",
    "mrr": "scoped_mrr_movements",
    "leads": "scoped_leads",
}


def with_scope(text: str) -> str:
    """A page's query with the scoped sets it marks put in as CTEs.

    Args:
        text: the query, e.g. ``load("dashboards", "open_by_stage")``.

    Returns:
        The query with each ``/* fragment: <set> */`` marker replaced by its CTE.
    """
    fragments = {}
    for name, file in SCOPED_SETS.items():
        marker = f"/* fragment: {name} */"
        if marker not in text:
            continue
        cte = f"{name} as (\n{load('dashboards', file)})"
        opens_query = re.search(re.escape(marker) + r"\s*select\b", text)
        fragments[name] = f"with {cte}" if opens_query else f"{cte},"
    return fill_fragments(text, **fragments)


def query_in_scope(name: str, params: dict) -> pl.DataFrame:
    """Run ``dashboards/sql/<name>.sql`` over the rows in the filters' scope, cached.

    Args:
        name: the file name without ``.sql``.
        params: the filters' parameters (:meth:`dashboards.filters.Filters.params`) and
            any the query adds.

    Returns:
        The result, as polars (see :func:`dashboards.data.query`).
    """
    return query(with_scope(load("dashboards", name)), params)
