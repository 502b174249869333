"""Sentence builders the families' reasons share: numbers, counts, money and the company.

Each family writes its reasons (:class:`~models.common.family.Reason`) as polars
expressions over its feature columns; the phrasing a salesperson reads in more than one
family ("Software company of about 120 employees", "12 thousand", "once") is built here,
once, and each family calls it with its own columns.
"""

from __future__ import annotations

import polars as pl

from models.common.family import Reason

UNKNOWN_COMPANY = "Company size and industry unknown"


def whole(value: str | pl.Expr) -> pl.Expr:
    """A number rounded to a whole one, for a sentence.

    Args:
        value: a column name or an expression.

    Returns:
        The value rounded half to even and cast to an integer (null stays null).
    """
    expr = pl.col(value) if isinstance(value, str) else value
    return expr.round(0).cast(pl.Int64)


def plural(n: pl.Expr, one: str, many: str, none: str) -> pl.Expr:
    """A count in words: ``none`` for 0 or unknown, ``one`` for 1, ``many`` above.

    Args:
        n: the count.
        one: the sentence for exactly one.
        many: the sentence for more, with ``{}`` where the count goes.
        none: the sentence for zero or an unknown count.

    Returns:
        The sentence of each row.
    """
    return (
        pl.when(n.is_null() | (n == 0))
        .then(pl.lit(none))
        .when(n == 1)
        .then(pl.lit(one))
        .otherwise(pl.format(many, n))
    )


def money(column: str, thousands_from: float) -> pl.Expr:
    """An amount in words: "1.2 million", "35 thousand", "950".

    Args:
        column: the amount's column.
        thousands_from: the smallest amount written in thousands (below it, in units).

    Returns:
        The amount of each row, in millions from a million, in thousands from
        ``thousands_from``, else whole.
    """
    a = pl.col(column)
    return (
        pl.when(a >= 1e6)
        .then(pl.format("{} million", (a / 1e6).round(1)))
        .when(a >= thousands_from)
        .then(pl.format("{} thousand", whole(a / 1e3)))
        .otherwise(whole(a).cast(pl.String))
    )


def company(features: tuple[str, ...], tier_names: dict[str, str] | None = None) -> Reason:
    """The "company" reason: the buyer's industry and size.

    "Software company of about 120 employees" when both are known. Without the size,
    the industry alone ("Works in software"), or, given ``tier_names``, the account's
    tier instead ("Enterprise account").

    Args:
        features: the family's feature columns this reason speaks for (``industry`` and
            ``employee_count`` among them, and ``tier`` with ``tier_names``).
        tier_names: the tiers' names, to fall back on the tier rather than the industry.

    Returns:
        The reason of group ``company``.
    """
    industry, size = pl.col("industry"), pl.col("employee_count")
    text = pl.when(size.is_not_null() & industry.is_not_null()).then(
        pl.format("{} company of about {} employees", industry, size.cast(pl.Int64))
    )
    if tier_names is None:
        text = text.when(industry.is_not_null()).then(pl.format("Works in {}", industry))
    else:
        tier = pl.col("tier")
        text = text.when(tier.is_not_null()).then(
            pl.format("{} account", tier.replace_strict(tier_names, default=tier))
        )
    return Reason("company", features, text.otherwise(pl.lit(UNKNOWN_COMPANY)))
