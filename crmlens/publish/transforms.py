"""The value transforms of a publish mapping: named, vectorised polars expressions.

A mapped column may say ``{from: probability, transform: band, bands: {...}}``; the
transform turns the contract column into what the CRM stores. Each one builds a
polars expression over the whole column (no Python per row):

- ``sentence``: the reasons (JSON list of ``{text, direction, ...}``) → one sentence a
  salesperson reads: "Visited pricing twice this week; no reply to the last two e-mails."
  (``top`` reasons, default 3; ``direction: up`` keeps the reasons that raise the score);
- ``json``: the column as JSON text (for a ``jsonb`` column);
- ``band``: a number → the label of the highest threshold it reaches
  (``bands: {Hot: 0.6, Warm: 0.3, Cold: 0}``) — also how a priority is set;
- ``percent``: a probability 0–1 → 0–100, rounded;
- ``date``: a timestamp → its date;
- ``text``: the value as text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

_REASON = pl.List(pl.Struct({"direction": pl.String, "text": pl.String}))


def _sentence(col: pl.Expr, options: dict[str, Any]) -> pl.Expr:
    reasons = col.str.json_decode(_REASON)
    if options.get("direction"):
        reasons = reasons.list.eval(
            pl.element().filter(pl.element().struct.field("direction") == options["direction"])
        )
    texts = reasons.list.eval(
        pl.element().struct.field("text").str.strip_chars().str.strip_chars_end(".;")
    ).list.head(int(options.get("top", 3)))
    # Every reason after the first continues the sentence: its first letter in lower case,
    # unless the word is an acronym ("CRM", "VP") or a name kept in capitals.
    rest = texts.list.slice(1).list.eval(
        pl.when(pl.element().str.slice(1, 1).str.contains("^[a-z ]$"))
        .then(pl.element().str.slice(0, 1).str.to_lowercase() + pl.element().str.slice(1))
        .otherwise(pl.element())
    )
    first = texts.list.first()
    tail = pl.when(rest.list.len() > 0).then("; " + rest.list.join("; ")).otherwise(pl.lit(""))
    return pl.when(first.is_null() | (first == "")).then(None).otherwise(first + tail + ".")


def _json(col: pl.Expr, options: dict[str, Any]) -> pl.Expr:
    return col.cast(pl.String)


def _band(col: pl.Expr, options: dict[str, Any]) -> pl.Expr:
    bands = sorted(options["bands"].items(), key=lambda kv: kv[1], reverse=True)
    label, threshold = bands[0]
    expr = pl.when(col >= threshold).then(pl.lit(label))
    for label, threshold in bands[1:]:
        expr = expr.when(col >= threshold).then(pl.lit(label))
    return expr.otherwise(None)


def _percent(col: pl.Expr, options: dict[str, Any]) -> pl.Expr:
    return (col.cast(pl.Float64) * 100).round(0).cast(pl.Int64)


def _date(col: pl.Expr, options: dict[str, Any]) -> pl.Expr:
    return col.cast(pl.Date)


def _text(col: pl.Expr, options: dict[str, Any]) -> pl.Expr:
    return col.cast(pl.String)


TRANSFORMS: dict[str, Callable[[pl.Expr, dict[str, Any]], pl.Expr]] = {
    "sentence": _sentence,
    "json": _json,
    "band": _band,
    "percent": _percent,
    "date": _date,
    "text": _text,
}

# The options each transform accepts (any other is a mistake in the mapping).
OPTIONS: dict[str, set[str]] = {
    "sentence": {"top", "direction"},
    "band": {"bands"},
}


def apply(name: str, col: pl.Expr, options: dict[str, Any]) -> pl.Expr:
    """The expression of transform ``name`` over ``col``.

    Args:
        name: a key of :data:`TRANSFORMS`.
        col: the contract column.
        options: the transform's options (``bands``, ``top``, ``direction``).

    Returns:
        The polars expression.
    """
    return TRANSFORMS[name](col, options)
