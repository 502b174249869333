"""The Campaigns page's processing: credited revenue and return on cost per attribution
model."""

from __future__ import annotations

import polars as pl

MODELS = {"first_touch": "First touch", "last_touch": "Last touch", "linear": "Linear"}


def campaign_roi(campaigns: pl.DataFrame, attribution: pl.DataFrame) -> pl.DataFrame:
    """Per campaign: cost, credited revenue under each model, and ROI under each.

    Args:
        campaigns: :func:`dashboards.queries.campaigns.campaigns`.
        attribution: :func:`dashboards.queries.campaigns.attribution`.

    Returns:
        ``campaigns`` with ``revenue_<model>`` and ``roi_<model>`` for each model (ROI null
        for a campaign without cost).
    """
    wide = (
        attribution.pivot(on="attribution_model", index="campaign_id", values="revenue")
        if attribution.height
        else pl.DataFrame(schema={"campaign_id": pl.String})
    )
    for model in MODELS:
        if model not in wide.columns:
            wide = wide.with_columns(pl.lit(0.0).alias(model))
    out = campaigns.join(wide, on="campaign_id", how="left").with_columns(
        [pl.col(m).fill_null(0.0).alias(f"revenue_{m}") for m in MODELS]
    )
    roi = [
        pl.when(pl.col("cost") > 0)
        .then((pl.col(f"revenue_{m}") - pl.col("cost")) / pl.col("cost"))
        .alias(f"roi_{m}")
        for m in MODELS
    ]
    return out.with_columns(roi).drop(list(MODELS))


def under_model(roi: pl.DataFrame, model: str) -> pl.DataFrame:
    """:func:`campaign_roi` with ``revenue`` and ``roi`` of the chosen model.

    Args:
        roi: :func:`campaign_roi`.
        model: first_touch, last_touch or linear.

    Returns:
        ``roi`` with ``revenue`` and ``roi`` columns of that model.
    """
    return roi.with_columns(revenue=pl.col(f"revenue_{model}"), roi=pl.col(f"roi_{model}"))


def attribution_by(frame: pl.DataFrame, campaigns: pl.DataFrame, level: str) -> pl.DataFrame:
    """Credited revenue and pipeline per campaign (or channel) and model, named for people.

    Args:
        frame: :func:`dashboards.queries.campaigns.attribution`.
        campaigns: :func:`dashboards.queries.campaigns.campaigns`.
        level: ``name`` (per campaign) or ``channel``.

    Returns:
        ``level``, ``attribution_model``, ``revenue``, ``pipeline``, ``model`` (in words),
        the most revenue first.
    """
    named = frame.join(campaigns.select("campaign_id", "name", "channel"), on="campaign_id")
    return (
        named.group_by(level, "attribution_model")
        .agg(revenue=pl.col("revenue").sum(), pipeline=pl.col("pipeline").sum())
        .with_columns(model=pl.col("attribution_model").replace(MODELS))
        .sort("revenue", descending=True)
    )
