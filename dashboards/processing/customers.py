"""The Customers page's processing: churn bands in words, and the MRR bridge."""

from __future__ import annotations

import polars as pl

# A churn score's bands, for people: hot is a customer to call.
RISK_LEVELS = {"hot": "High risk", "warm": "Medium risk", "cold": "Low risk"}
_GAINS = ["new", "expansion", "reactivation"]
_LOSSES = ["contraction", "churn"]


def churn_levels(frame: pl.DataFrame) -> pl.DataFrame:
    """A churn score's band in words: hot → 'High risk' (a customer to call), cold → 'Low risk'.

    Args:
        frame: rows with the score's ``band``.

    Returns:
        ``frame`` with ``risk`` (null for a band this page does not know).
    """
    return frame.with_columns(risk=pl.col("band").replace_strict(RISK_LEVELS, default=None))


def in_bands(frame: pl.DataFrame, bands: list[str] | None) -> pl.DataFrame:
    """The rows whose churn band is one of ``bands``; all rows when none is chosen.

    Args:
        frame: rows with a churn ``band``.
        bands: the bands chosen (hot, warm, cold); None or empty for all.

    Returns:
        The rows kept.
    """
    return frame.filter(pl.col("band").is_in(list(bands))) if bands else frame


def mrr_bridge(frame: pl.DataFrame) -> pl.DataFrame:
    """Movements long and signed (losses negative), with the month's net change.

    Args:
        frame: :func:`dashboards.queries.customers.mrr_movements`.

    Returns:
        ``month``, ``movement``, ``amount`` (signed), ``net``.
    """
    if frame.is_empty():
        return pl.DataFrame(
            schema={
                "month": pl.Date,
                "movement": pl.String,
                "amount": pl.Float64,
                "net": pl.Float64,
            }
        )
    net = frame.select(
        "month", net=sum(pl.col(c) for c in _GAINS) - sum(pl.col(c) for c in _LOSSES)
    )
    long = frame.unpivot(
        index="month", on=_GAINS + _LOSSES, variable_name="movement", value_name="amount"
    )
    signed = long.with_columns(
        amount=pl.when(pl.col("movement").is_in(_LOSSES))
        .then(-pl.col("amount"))
        .otherwise(pl.col("amount"))
    )
    return signed.join(net, on="month").sort("month", "movement")
