"""The Leads page's charts: the scores' spread by grade, and conversion by grade or decile."""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboards.charts.style import GRADES, HEIGHT, INK, PCT, PRIMARY, grade_scale, tip


def score_histogram(frame: pl.DataFrame) -> alt.Chart:
    """Scores in bins of five, stacked by grade (``bin_start``, ``grade``, ``rows``).

    Args:
        frame: :func:`dashboards.processing.leads.score_bins` (bin_start, bin_end, grade,
            rows).

    Returns:
        The chart.
    """
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("bin_start:Q", bin="binned", title="Score", scale=alt.Scale(domain=[0, 100])),
            x2="bin_end:Q",
            y=alt.Y("sum(rows):Q", title="Count", stack=True),
            color=alt.Color("grade:N", scale=grade_scale(), title="Grade"),
            tooltip=["grade", "bin_start", "bin_end", alt.Tooltip("sum(rows):Q", title="count")],
        )
        .properties(height=HEIGHT - 40)
    )


def rate_by_grade(frame: pl.DataFrame, *, title: str) -> alt.Chart:
    """Outcome rate per grade (``grade``, ``rate``, ``n``), labelled.

    Args:
        frame: ``grade``, ``rate``, ``n`` (:func:`dashboards.processing.leads.grade_rates`).
        title: the rate's axis title.

    Returns:
        The chart.
    """
    base = alt.Chart(frame).encode(
        x=alt.X("grade:N", title="Grade", sort=GRADES, axis=alt.Axis(labelAngle=0))
    )
    bars = base.mark_bar(cornerRadiusEnd=2).encode(
        y=alt.Y("rate:Q", title=title, axis=alt.Axis(format=PCT)),
        color=alt.Color("grade:N", scale=grade_scale(), legend=None),
        tooltip=[
            "grade",
            alt.Tooltip("rate:Q", format=".1%"),
            alt.Tooltip("n:Q", title="leads", format=","),
        ],
    )
    text = base.mark_text(dy=-8, color=INK).encode(
        y="rate:Q", text=alt.Text("rate:Q", format=".0%")
    )
    return (bars + text).properties(height=HEIGHT - 40)


def rate_by_decile(frame: pl.DataFrame) -> alt.Chart:
    """Observed rate per score decile (``decile``, ``rate``, ``n``), highest decile right.

    Args:
        frame: ``decile``, ``rate``, ``n``.

    Returns:
        The chart.
    """
    return (
        alt.Chart(frame)
        .mark_bar(color=PRIMARY, cornerRadiusEnd=2)
        .encode(
            x=alt.X("decile:O", title="Score decile", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("rate:Q", title="Converted", axis=alt.Axis(format=PCT)),
            tooltip=["decile", tip("rate", "converted", ".1%"), tip("n", "leads", ",")],
        )
        .properties(height=HEIGHT - 40)
    )
