"""The Overview page's processing: the headline figures against the previous period, the
monthly win rate, and the open alerts in words."""

from __future__ import annotations

import polars as pl

from dashboards.processing.formatting import Kpi, money, pct, ratio

ALERT_KINDS = {
    "hot_lead_not_contacted": "Hot lead not contacted",
    "deal_at_risk": "Deal at risk",
    "health_fell": "Customer health fell",
    "activity_gap": "Rep without activity",
    "pipeline_failure": "Pipeline step failed",
    "scores_blocked": "Scores held back",
}
SEVERITIES = {"high": "High", "medium": "Medium"}


def _change(current: float | None, previous: float | None, *, points: bool = False) -> str | None:
    if current is None or previous is None:
        return None
    if points:
        return f"{(current - previous) * 100:+.1f} pts"
    if previous == 0:  # nothing to compare with (e.g. before the data starts)
        return None
    return f"{(current - previous) / abs(previous):+.1%}"


def _win_rate(k: dict) -> float | None:
    return ratio(k["won_deals"], k["closed_deals"])


def _conversion(k: dict) -> float | None:
    return ratio(k["converted_leads"], k["leads"])


def _churn_rate(k: dict) -> float | None:
    return ratio(k["churned_mrr"], k["mrr_at_start"])


def kpis(current: dict, previous: dict) -> list[Kpi]:
    """The Overview's headline figures, each with its change vs the previous period.

    Args:
        current: :func:`dashboards.queries.overview.kpis` of the period.
        previous: the same of the period just before.

    Returns:
        Open pipeline, bookings, win rate, MRR, churned MRR and lead conversion.
    """
    return [
        Kpi(
            "Open pipeline",
            money(current["open_pipeline"]),
            _change(current["open_pipeline"], previous["open_pipeline"]),
            "normal",
            "Value of the deals open at the end of the period (created by then, not yet "
            "closed), at their current amounts.",
        ),
        Kpi(
            "Bookings",
            money(current["bookings"]),
            _change(current["bookings"], previous["bookings"]),
            "normal",
            "Value of the deals won in the period.",
        ),
        Kpi(
            "Win rate",
            pct(_win_rate(current)),
            _change(_win_rate(current), _win_rate(previous), points=True),
            "normal",
            f"Deals won ÷ deals closed in the period ({current['won_deals']:,} of "
            f"{current['closed_deals']:,}).",
        ),
        Kpi(
            "MRR",
            money(current["mrr"]),
            _change(current["mrr"], previous["mrr"]),
            "normal",
            "Monthly recurring revenue at the end of the period's last month.",
        ),
        Kpi(
            "Churned MRR",
            money(current["churned_mrr"]),
            _change(current["churned_mrr"], previous["churned_mrr"]),
            "inverse",
            f"MRR of the customers who left in the period ({current['churned_customers']:,} "
            f"customers; {pct(_churn_rate(current))} of the MRR at its start).",
        ),
        Kpi(
            "Lead conversion",
            pct(_conversion(current)),
            _change(_conversion(current), _conversion(previous), points=True),
            "normal",
            f"Leads created in the period that became an opportunity ({current['converted_leads']:,}"
            f" of {current['leads']:,}); recent leads have had less time to convert.",
        ),
    ]


def with_win_rate(monthly: pl.DataFrame) -> pl.DataFrame:
    """Monthly bookings with the month's win rate (won ÷ closed).

    Args:
        monthly: :func:`dashboards.queries.overview.monthly_bookings`.

    Returns:
        ``monthly`` with ``win_rate``.
    """
    return monthly.with_columns(win_rate=pl.col("won") / pl.col("closed"))


def alert_labels(frame: pl.DataFrame) -> pl.DataFrame:
    """Kind and severity in words (a kind this page does not know keeps its code).

    Args:
        frame: alerts with ``kind`` and ``severity``.

    Returns:
        ``frame`` with ``kind_label`` and ``severity_label``.
    """
    return frame.with_columns(
        kind_label=pl.col("kind").replace(ALERT_KINDS),
        severity_label=pl.col("severity").replace(SEVERITIES),
    )


def alert_counts(frame: pl.DataFrame) -> pl.DataFrame:
    """Alerts per kind (in words) and severity, the most frequent kind first.

    Args:
        frame: alerts with ``kind`` and ``severity``.

    Returns:
        ``kind_label``, ``severity``, ``alerts``.
    """
    if frame.is_empty():
        return pl.DataFrame(
            schema={"kind_label": pl.String, "severity": pl.String, "alerts": pl.UInt32}
        )
    return (
        alert_labels(frame)
        .group_by("kind_label", "severity")
        .agg(alerts=pl.len())
        .sort("alerts", "kind_label", descending=[True, False])
    )


def alert_summary(frame: pl.DataFrame) -> str:
    """The open alerts in a sentence.

    Args:
        frame: :func:`dashboards.queries.overview.open_alerts`.

    Returns:
        E.g. '5 open alerts, 3 of high severity; 4 raised on 01 Nov 2026, 1 earlier in the
        week.'
    """
    if frame.is_empty():
        return "No open alert."
    high = frame.filter(pl.col("severity") == "high").height
    latest = frame.filter(pl.col("latest"))
    plural = "s" if frame.height != 1 else ""
    text = f"{frame.height:,} open alert{plural}, {high:,} of high severity"
    if latest.height:
        days = " / ".join(f"{d:%d %b %Y}" for d in sorted(set(latest["raised_on"])))
        text += f"; {latest.height:,} raised on {days}"
        if latest.height < frame.height:
            text += f", {frame.height - latest.height:,} earlier in the week"
    return text + "."
