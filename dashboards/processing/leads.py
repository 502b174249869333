"""The Leads page's processing: the scores' spread by grade, and how grades converted
(or, before any score is old enough, how the model's test set did by decile)."""

from __future__ import annotations

import polars as pl


def scored_by(leads: pl.DataFrame) -> str:
    """What scored most of these leads, in words: 'a trained model', 'rules', or '–'.

    Args:
        leads: :func:`dashboards.queries.leads.scored_leads`.

    Returns:
        'a trained model' or 'rules' (the most common scoring path), '–' without leads.
    """
    path = leads["scoring_path"].mode().to_list() if leads.height else []
    return "a trained model" if path == ["model"] else ("rules" if path else "–")


def score_bins(frame: pl.DataFrame, width: int = 5) -> pl.DataFrame:
    """Scores in bins of ``width`` points per grade, for a stacked histogram.

    Args:
        frame: rows with ``score`` (0-100) and ``grade``.
        width: points per bin.

    Returns:
        ``bin_start``, ``bin_end``, ``grade``, ``rows``.
    """
    if frame.is_empty():
        return pl.DataFrame(
            schema={
                "bin_start": pl.Int64,
                "bin_end": pl.Int64,
                "grade": pl.String,
                "rows": pl.UInt32,
            }
        )
    start = (pl.col("score").clip(0, 100 - width) // width * width).cast(pl.Int64)
    return (
        frame.group_by(bin_start=start, grade=pl.col("grade"))
        .agg(rows=pl.len())
        .with_columns(bin_end=pl.col("bin_start") + width)
        .sort("bin_start", "grade")
    )


def grade_rates(frame: pl.DataFrame, n: str = "leads", hits: str = "converted") -> pl.DataFrame:
    """Outcome rate by grade from counts.

    Args:
        frame: rows with ``grade`` and the two counts.
        n: the column of rows judged.
        hits: the column of rows with the outcome.

    Returns:
        ``grade``, ``n``, ``rate``, by grade.
    """
    return frame.select("grade", n=pl.col(n), rate=pl.col(hits) / pl.col(n).cast(pl.Float64)).sort(
        "grade"
    )


def decile_rates(calibration: pl.DataFrame) -> pl.DataFrame:
    """The published model's test-set deciles as rates (highest-scored decile first).

    Args:
        calibration: :func:`dashboards.queries.models.calibration`.

    Returns:
        ``decile``, ``predicted``, ``observed``, ``rows``, ``model`` of the published
        model (of every candidate when none was published).
    """
    chosen = calibration.filter(pl.col("published"))
    if chosen.is_empty():
        chosen = calibration
    return (
        chosen.select(
            decile=pl.col("decile"),
            predicted=pl.col("mean_predicted"),
            observed=pl.col("observed_rate"),
            rows=pl.col("rows"),
            model=pl.col("model"),
        )
        .unique(["model", "decile"])
        .sort("decile", descending=True)
    )
