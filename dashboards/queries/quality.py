"""The Data quality page's queries: quarantine, freshness, loads, completeness, duplicates."""

from __future__ import annotations

import polars as pl

from dashboards.data import query_file


def quarantine() -> pl.DataFrame:
    """Rows in quarantine per table and reason.

    Returns:
        ``table_name``, ``reason_code``, ``rows``, ``input_rows``, ``share_of_input``,
        ``sample_reason``, ``last_loaded_at``, the most rows first.
    """
    return query_file("quarantine")


def freshness() -> pl.DataFrame:
    """How fresh every source table is.

    Returns:
        One row per table: its newest record, ``hours_since`` (wall clock),
        ``days_behind_data`` and ``freshness_status``.
    """
    return query_file("freshness")


def latest_loads() -> pl.DataFrame:
    """The latest load of every table (ops.ingest_log).

    Returns:
        One row per table: when, rows in, loaded and quarantined, inserted, updated.
    """
    return query_file("latest_loads")


def duplicates(entities: list[str], min_score: float) -> pl.DataFrame:
    """Pairs of records that may be the same company or person.

    Args:
        entities: only these kinds (``account``, ``contact``); all when empty.
        min_score: the lowest match score shown.

    Returns:
        One row per pair, the surest first.
    """
    return query_file("duplicates", {"entities": entities, "min_score": min_score})


def null_rates() -> pl.DataFrame:
    """Share of empty values in the key fields, where each is expected.

    Returns:
        ``table_name``, ``column_name``, ``population``, ``rows``, ``nulls``, ``null_rate``.
    """
    return query_file("null_rates")
