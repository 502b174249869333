"""The Models page's charts: metrics against the baselines, calibration, score drift,
champion against challenger, and the monitoring checks over time."""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboards.charts.style import HEIGHT, MUTED, PCT, PRIMARY, grade_scale, scale, tip

LIMITS = ["warn", "block"]  # a monitoring check's thresholds
LIMIT_COLORS = ["#E3B341", "#D1495B"]


def metric_bars(frame: pl.DataFrame) -> alt.Chart:
    """Metrics (``metric``, ``value``) side by side per model (``model``).

    Args:
        frame: :func:`dashboards.processing.models.metrics_long` (model, metric, value).

    Returns:
        The chart.
    """
    return (
        alt.Chart(frame)
        .mark_bar(cornerRadiusEnd=2)
        .encode(
            x=alt.X("model:N", title=None, axis=alt.Axis(labels=False, ticks=False)),
            y=alt.Y("value:Q", title=None),
            color=alt.Color("model:N", title=None),
            column=alt.Column("metric:N", title=None, header=alt.Header(labelFontSize=12)),
            tooltip=["model", "metric", alt.Tooltip("value:Q", format=".3f")],
        )
        .properties(width=110, height=200)
        .resolve_scale(y="independent")
    )


def calibration(frame: pl.DataFrame) -> alt.LayerChart:
    """Predicted vs observed by decile, one line per model, against the diagonal.

    Args:
        frame: :func:`dashboards.queries.models.calibration`, models in words.

    Returns:
        The chart.
    """
    top = float(max(frame["mean_predicted"].max() or 0, frame["observed_rate"].max() or 0, 0.05))
    diagonal = (
        alt.Chart(pl.DataFrame({"p": [0.0, top]}))
        .mark_line(color=MUTED, strokeDash=[4, 4])
        .encode(x="p:Q", y="p:Q")
    )
    lines = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("mean_predicted:Q", title="Predicted probability", axis=alt.Axis(format=PCT)),
            y=alt.Y("observed_rate:Q", title="Observed rate", axis=alt.Axis(format=PCT)),
            color=alt.Color("model:N", title=None),
            tooltip=[
                "model",
                "decile",
                alt.Tooltip("mean_predicted:Q", format=".1%"),
                alt.Tooltip("observed_rate:Q", format=".1%"),
                alt.Tooltip("rows:Q", format=","),
            ],
        )
    )
    return (diagonal + lines).properties(height=HEIGHT)


def drift(frame: pl.DataFrame) -> alt.Chart:
    """Share of each grade per publication (``publication``, ``order``, ``grade``, ``share``).

    Args:
        frame: the grade shares of :func:`dashboards.processing.models.drift`.

    Returns:
        The chart.
    """
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(
                "publication:N",
                sort=alt.EncodingSortField("order"),
                title=None,
                axis=alt.Axis(labelAngle=-30, labelLimit=220),
            ),
            y=alt.Y(
                "share:Q", stack="normalize", title="Share of scores", axis=alt.Axis(format=PCT)
            ),
            color=alt.Color("grade:N", scale=grade_scale(), title="Grade"),
            order=alt.Order("grade:N", sort="descending"),
            tooltip=[
                "publication",
                "grade",
                alt.Tooltip("share:Q", format=".1%"),
                alt.Tooltip("rows:Q", format=","),
            ],
        )
        .properties(height=HEIGHT - 20)
    )


def champion_challenger(frame: pl.DataFrame) -> alt.Chart:
    """ROC AUC of the challenger and the champion at each promotion decision.

    Args:
        frame: :func:`dashboards.queries.models.promotions`.

    Returns:
        The chart.
    """
    return (
        alt.Chart(frame)
        .transform_fold(["challenger_auc", "champion_auc"], as_=["role", "auc"])
        .mark_line(point=alt.OverlayMarkDef(size=80))
        .encode(
            x=alt.X("decided_at:T", title=None, axis=alt.Axis(format="%d %b %Y")),
            y=alt.Y("auc:Q", title="Holdout ROC AUC", scale=alt.Scale(zero=False)),
            color=alt.Color(
                "role:N",
                scale=alt.Scale(
                    domain=["challenger_auc", "champion_auc"], range=["#F28E2B", PRIMARY]
                ),
                legend=alt.Legend(labelExpr="replace(datum.label, '_auc', '')"),
                title=None,
            ),
            tooltip=[
                tip("decided_at", "decided", "%Y-%m-%d %H:%M", "T"),
                "role:N",
                tip("auc", "AUC", ".3f"),
                "promote",
                "reason",
            ],
        )
        .properties(height=HEIGHT - 60)
    )


def monitoring(frame: pl.DataFrame, limits: pl.DataFrame, *, y_title: str) -> alt.LayerChart:
    """A check's value over time, one line per family, with its thresholds as dashed rules.

    Args:
        frame: checked_at, value, family_label, status, model_version, scoring_path, run_id.
        limits: :func:`dashboards.processing.models.monitoring_limits` (level, value).
        y_title: the value's name.

    Returns:
        The chart.
    """
    rules = (
        alt.Chart(limits)
        .mark_rule(strokeDash=[4, 4])
        .encode(
            y="value:Q",
            color=alt.Color("level:N", scale=scale(LIMITS, LIMIT_COLORS), legend=None),
            tooltip=[alt.Tooltip("level:N", title="threshold"), tip("value", "value", ".2f")],
        )
    )
    lines = (
        alt.Chart(frame)
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=alt.X("checked_at:T", title=None, axis=alt.Axis(format="%d %b %H:%M")),
            y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=".2f")),
            color=alt.Color("family_label:N", title=None),
            tooltip=[
                tip("checked_at", "checked", "%Y-%m-%d %H:%M", "T"),
                alt.Tooltip("family_label:N", title="model"),
                tip("value", y_title, ".3f"),
                "status",
                alt.Tooltip("model_version:N", title="version"),
                alt.Tooltip("scoring_path:N", title="scored by"),
            ],
        )
    )
    return (rules + lines).resolve_scale(color="independent").properties(height=HEIGHT - 40)


def backtest(frame: pl.DataFrame) -> alt.LayerChart:
    """ROC AUC per replayed window: the published scores and the rule score, against chance.

    Args:
        frame: :func:`dashboards.processing.models.backtest_long` (start, scores, roc_auc).

    Returns:
        The chart.
    """
    chance = (
        alt.Chart(pl.DataFrame({"y": [0.5]}))
        .mark_rule(color=MUTED, strokeDash=[4, 4])
        .encode(y="y:Q")
    )
    lines = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("start:T", title="Window"),
            y=alt.Y("roc_auc:Q", title="ROC AUC", scale=alt.Scale(domain=[0.3, 1.0])),
            color=alt.Color("scores:N", title=None),
            tooltip=[
                alt.Tooltip("start:T", title="Window"),
                "scores",
                alt.Tooltip("roc_auc:Q", format=".3f", title="ROC AUC"),
                alt.Tooltip("rows:Q", format=",", title="Rows"),
            ],
        )
        .properties(height=HEIGHT)
    )
    return chance + lines
