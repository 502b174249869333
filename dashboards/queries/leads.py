"""The Leads page's queries: the open scored leads and how past grades converted."""

from __future__ import annotations

import polars as pl

from dashboards.data import query_file
from dashboards.queries.scope import query_in_scope


def lead_options() -> pl.DataFrame:
    """Lead sources present among scored leads.

    Returns:
        ``source`` (``unknown`` for none), sorted.
    """
    return query_file("lead_options")


def scored_leads(params: dict, sources: list[str], grades: list[str], search: str) -> pl.DataFrame:
    """Open scored leads with grade, reasons and next action, highest score first.

    Args:
        params: the filters' parameters (:meth:`dashboards.filters.Filters.params`).
        sources: only these lead sources (all when empty).
        grades: only these grades (all when empty).
        search: matches the company, the e-mail or the lead id (case-insensitive,
            literal); empty matches every lead.

    Returns:
        One row per lead: company, owner, source, status, score, grade, reasons (JSON
        text), next action and the scoring path.
    """
    return query_in_scope(
        "scored_leads", params | {"sources": sources, "grades": grades, "search": search}
    )


def lead_conversion_by_grade(params: dict, sources: list[str], days: int = 90) -> pl.DataFrame:
    """Leads scored at least ``days`` ago: did they convert within ``days``, by grade?

    Uses each lead's first published score in the period, so a grade is judged on what
    the rep saw before the outcome.

    Args:
        params: the filters' parameters.
        sources: only these lead sources (all when empty).
        days: the conversion window, and how old a score must be to be judged.

    Returns:
        ``grade``, ``leads``, ``converted``, by grade.
    """
    return query_in_scope("lead_conversion_by_grade", params | {"sources": sources, "days": days})
