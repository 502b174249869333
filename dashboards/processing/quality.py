"""The Data quality page's processing: stale sources, the emptiest fields, duplicate pairs
by rule."""

from __future__ import annotations

import polars as pl

ENTITIES = {"account": "Accounts", "contact": "Contacts"}


def stale(freshness: pl.DataFrame) -> pl.DataFrame:
    """The tables whose freshness status is a warning or an error.

    Args:
        freshness: :func:`dashboards.queries.quality.freshness`.

    Returns:
        The tables with status warn or error.
    """
    return freshness.filter(pl.col("freshness_status").is_in(["warn", "error"]))


def incomplete(null_rates: pl.DataFrame) -> pl.DataFrame:
    """The fields with empty values, the emptiest first.

    Args:
        null_rates: :func:`dashboards.queries.quality.null_rates` (emptiest first).

    Returns:
        The fields with a null rate above 0.
    """
    return null_rates.filter(pl.col("null_rate") > 0)


def emptiest(incomplete_fields: pl.DataFrame, top: int = 15) -> pl.DataFrame:
    """The ``top`` emptiest fields, named ``table.column`` (``field``).

    Args:
        incomplete_fields: :func:`incomplete`.
        top: how many fields.

    Returns:
        The first ``top`` fields, with ``field``.
    """
    return incomplete_fields.head(top).with_columns(
        field=pl.format("{}.{}", "table_name", "column_name")
    )


def pairs_by_rule(pairs: pl.DataFrame) -> pl.DataFrame:
    """Duplicate pairs per kind and matching rule (``entity``, ``match_rule``, ``rows``).

    Args:
        pairs: :func:`dashboards.queries.quality.duplicates`.

    Returns:
        ``entity``, ``match_rule``, ``rows``.
    """
    return pairs.group_by("entity", "match_rule").agg(rows=pl.len())


def entity_labels(pairs: pl.DataFrame) -> pl.DataFrame:
    """The kind of each duplicate pair in words ('Accounts').

    Args:
        pairs: :func:`dashboards.queries.quality.duplicates`.

    Returns:
        ``pairs`` with ``entity`` in words.
    """
    return pairs.with_columns(pl.col("entity").replace(ENTITIES))
