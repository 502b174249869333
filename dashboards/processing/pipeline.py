"""The Pipeline page's processing: stages in order and in words, the funnel's step
conversion, and the deals at risk with their flags in words.

Stages are the CRM's own: their order comes with the data (``stage_order``, the position in
the CRM's vocabulary), and a CRM's own label is shown as it is; the canonical stage codes
read in words ('needs_analysis' → 'Needs analysis').
"""

from __future__ import annotations

import polars as pl

from dashboards.processing.reasons import with_reasons

# The canonical stage codes in words (a CRM's own labels are shown as they are).
STAGE_LABELS = {
    "prospecting": "Prospecting",
    "qualification": "Qualification",
    "needs_analysis": "Needs analysis",
    "proposal": "Proposal",
    "negotiation": "Negotiation",
    "closed_won": "Won",
}
STAGE_ORDER = {s: i for i, s in enumerate(STAGE_LABELS, start=1)}
RISK_FLAGS = {
    "no_activity_14d": "No activity in 14 days",
    "stage_over_p75": "Stuck in stage",
    "close_date_pushed_twice": "Close date pushed twice",
    "single_contact": "Single-threaded",
}
AGE_BUCKETS = ("0-30 days", "31-60 days", "61-90 days", "91-180 days", "over 180 days")


def stage_labels(frame: pl.DataFrame) -> pl.DataFrame:
    """The stage column in words ('Needs analysis').

    Args:
        frame: rows with a ``stage`` code.

    Returns:
        ``frame`` with the stage in words.
    """
    return frame.with_columns(pl.col("stage").replace(STAGE_LABELS))


def stage_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Stages in process order, labelled for people.

    Args:
        frame: rows with a ``stage``, and its ``stage_order`` from the data (else the
            canonical order is used).

    Returns:
        ``frame`` with ``stage_order`` (99 for a stage without one) and the stage in words,
        in process order.
    """
    canonical = pl.col("stage").replace_strict(STAGE_ORDER, default=99)
    order = pl.col("stage_order").fill_null(99) if "stage_order" in frame.columns else canonical
    return frame.with_columns(
        stage_order=order.cast(pl.Int64),
        stage=pl.col("stage").replace(STAGE_LABELS),
    ).sort("stage_order")


def funnel(frame: pl.DataFrame) -> pl.DataFrame:
    """Stage funnel rows with the conversion from the previous stage and a bar label.

    Args:
        frame: :func:`dashboards.queries.pipeline.stage_funnel`.

    Returns:
        The stages in order and in words, with ``step_rate`` (share of the previous
        stage's deals) and ``label`` ('12 deals · 40% of previous').
    """
    if frame.is_empty():
        return frame
    out = frame.sort("stage_order").with_columns(
        step_rate=pl.col("deals") / pl.col("deals").shift(1).cast(pl.Float64),
        stage=pl.col("stage").replace(STAGE_LABELS),
    )
    label = pl.format("{} deals", pl.col("deals"))
    with_rate = pl.format(
        "{} deals · {}% of previous",
        pl.col("deals"),
        (pl.col("step_rate") * 100).round(0).cast(pl.Int64),
    )
    return out.with_columns(
        label=pl.when(pl.col("step_rate").is_null() | pl.col("step_rate").is_nan())
        .then(label)
        .otherwise(with_rate)
    )


def velocity(funnel_rows: pl.DataFrame) -> pl.DataFrame:
    """The funnel's stages that deals have left (they have an average time in them).

    Args:
        funnel_rows: :func:`funnel`.

    Returns:
        The stages with an ``avg_days_in_stage``.
    """
    if not funnel_rows.height:
        return funnel_rows
    return funnel_rows.filter(funnel_rows["avg_days_in_stage"].is_not_null())


def with_risk_flags(
    frame: pl.DataFrame, column: str = "risk_flags", to: str = "risks"
) -> pl.DataFrame:
    """The deal's risk flags as a list of words ('Stuck in stage', …).

    Args:
        frame: rows with the contract's risk flags as JSON text.
        column: the flags column.
        to: the column to add.

    Returns:
        ``frame`` with ``to`` added; unchanged without ``column``.
    """
    if column not in frame.columns:
        return frame
    parsed = pl.col(column).fill_null("[]").str.json_decode(pl.List(pl.String))
    words = parsed.list.eval(pl.element().replace(RISK_FLAGS))
    return frame.with_columns(words.alias(to))


def at_risk(frame: pl.DataFrame, flags: list[str] | None = None) -> pl.DataFrame:
    """Open deals with at least one risk flag (or one of ``flags`` if given).

    Args:
        frame: :func:`dashboards.queries.pipeline.deals_at_risk`.
        flags: risk flag codes to keep; any flag when empty.

    Returns:
        The deals kept, with ``risks`` (flags in words) and ``why`` (reasons in words).
    """
    frame = with_reasons(with_risk_flags(frame))
    wanted = [RISK_FLAGS.get(f, f) for f in flags] if flags else None
    if wanted:
        keep = pl.col("risks").list.eval(pl.element().is_in(wanted)).list.any()
    else:
        keep = pl.col("risks").list.len() > 0
    return frame.filter(keep)


def risk_summary(frame: pl.DataFrame) -> pl.DataFrame:
    """Per risk flag: deals and value at risk (a deal counts under each of its flags).

    Args:
        frame: :func:`at_risk`.

    Returns:
        ``risk``, ``deals``, ``amount``, the largest value first.
    """
    if frame.is_empty():
        return pl.DataFrame(schema={"risk": pl.String, "deals": pl.UInt32, "amount": pl.Float64})
    return (
        frame.select("risks", pl.col("amount").fill_null(0.0))
        .explode("risks")
        .drop_nulls("risks")
        .group_by("risks")
        .agg(deals=pl.len(), amount=pl.col("amount").sum())
        .rename({"risks": "risk"})
        .sort("amount", descending=True)
    )
