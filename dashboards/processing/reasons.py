"""A score's reasons in words, as every page that lists scores shows them."""

from __future__ import annotations

import polars as pl

_REASON = pl.List(pl.Struct({"direction": pl.String, "text": pl.String}))


def with_reasons(frame: pl.DataFrame, column: str = "reasons", to: str = "why") -> pl.DataFrame:
    """Add the reasons of each score in words: '↑ Budget confirmed · ↓ No reply in 14 days'.

    The contract's reasons are a JSON list of {group, direction, impact, text}, strongest
    first; a reason that raised the score gets ↑, one that lowered it ↓.

    Args:
        frame: rows with the contract's reasons as JSON text.
        column: the reasons column.
        to: the column to add.

    Returns:
        ``frame`` with ``to`` added (empty text for no reason); unchanged without ``column``.
    """
    if column not in frame.columns:
        return frame
    parsed = pl.col(column).fill_null("[]").str.json_decode(_REASON)
    words = parsed.list.eval(
        pl.when(pl.element().struct.field("direction") == "down")
        .then(pl.lit("↓ "))
        .otherwise(pl.lit("↑ "))
        + pl.element().struct.field("text")
    ).list.join(" · ")
    return frame.with_columns(words.alias(to))
