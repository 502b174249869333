"""Turning query results into what a page shows: plain functions of DataFrames.

Nothing here touches Streamlit or the database, so every function is tested on
hand-made frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

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
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
AGE_BUCKETS = ("0-30 days", "31-60 days", "61-90 days", "91-180 days", "over 180 days")
_REASON = pl.List(pl.Struct({"direction": pl.String, "text": pl.String}))


# ---------------------------------------------------------------------- formatting


def money(value: float | None) -> str:
    """1234567 → '1.23M'; amounts are in the CRM's currency, which the data does not name."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    sign = "-" if value < 0 else ""
    value = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{sign}{value / limit:.3g}{suffix}"
    return f"{sign}{value:,.0f}"


def pct(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}%}"


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not denominator or numerator is None:
        return None
    return numerator / denominator


# ----------------------------------------------------------------------------- KPIs


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str
    delta: str | None
    delta_color: str  # normal: up is good; inverse: up is bad
    help: str


def _change(current: float | None, previous: float | None, *, points: bool = False) -> str | None:
    if current is None or previous is None:
        return None
    if points:
        return f"{(current - previous) * 100:+.1f} pts"
    if previous == 0:  # nothing to compare with (e.g. before the data starts)
        return None
    return f"{(current - previous) / abs(previous):+.1%}"


def kpis(current: dict, previous: dict) -> list[Kpi]:
    """The Overview's headline figures, each with its change vs the previous period."""

    def win_rate(k: dict) -> float | None:
        return ratio(k["won_deals"], k["closed_deals"])

    def conversion(k: dict) -> float | None:
        return ratio(k["converted_leads"], k["leads"])

    def churn_rate(k: dict) -> float | None:
        return ratio(k["churned_mrr"], k["mrr_at_start"])

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
            pct(win_rate(current)),
            _change(win_rate(current), win_rate(previous), points=True),
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
            f"customers; {pct(churn_rate(current))} of the MRR at its start).",
        ),
        Kpi(
            "Lead conversion",
            pct(conversion(current)),
            _change(conversion(current), conversion(previous), points=True),
            "normal",
            f"Leads created in the period that became an opportunity ({current['converted_leads']:,}"
            f" of {current['leads']:,}); recent leads have had less time to convert.",
        ),
    ]


# --------------------------------------------------------------------------- scores


def with_reasons(frame: pl.DataFrame, column: str = "reasons", to: str = "why") -> pl.DataFrame:
    """Add the reasons of each score in words: '↑ Budget confirmed · ↓ No reply in 14 days'.

    The contract's reasons are a JSON list of {group, direction, impact, text}, strongest
    first; a reason that raised the score gets ↑, one that lowered it ↓.
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


def with_risk_flags(
    frame: pl.DataFrame, column: str = "risk_flags", to: str = "risks"
) -> pl.DataFrame:
    """The deal's risk flags as a list of words ('Stuck in stage', …)."""
    if column not in frame.columns:
        return frame
    parsed = pl.col(column).fill_null("[]").str.json_decode(pl.List(pl.String))
    words = parsed.list.eval(pl.element().replace(RISK_FLAGS))
    return frame.with_columns(words.alias(to))


RISK_LEVELS = {"hot": "High risk", "warm": "Medium risk", "cold": "Low risk"}


def churn_levels(frame: pl.DataFrame) -> pl.DataFrame:
    """A churn score's band in words: hot → 'High risk' (a customer to call), cold → 'Low risk'."""
    return frame.with_columns(risk=pl.col("band").replace_strict(RISK_LEVELS, default=None))


def at_risk(frame: pl.DataFrame, flags: list[str] | None = None) -> pl.DataFrame:
    """Open deals with at least one risk flag (or one of ``flags`` if given)."""
    frame = with_reasons(with_risk_flags(frame))
    wanted = [RISK_FLAGS.get(f, f) for f in flags] if flags else None
    if wanted:
        keep = pl.col("risks").list.eval(pl.element().is_in(wanted)).list.any()
    else:
        keep = pl.col("risks").list.len() > 0
    return frame.filter(keep)


def risk_summary(frame: pl.DataFrame) -> pl.DataFrame:
    """Per risk flag: deals and value at risk (a deal counts under each of its flags)."""
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


def score_bins(frame: pl.DataFrame, width: int = 5) -> pl.DataFrame:
    """Scores in bins of ``width`` points per grade, for a stacked histogram."""
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
    """Outcome rate by grade from counts (``grade``, ``n``, ``hits``)."""
    return frame.select("grade", n=pl.col(n), rate=pl.col(hits) / pl.col(n).cast(pl.Float64)).sort(
        "grade"
    )


def decile_rates(calibration: pl.DataFrame) -> pl.DataFrame:
    """The published model's test-set deciles as rates (highest-scored decile first)."""
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


# --------------------------------------------------------------------------- alerts


ALERT_KINDS = {
    "hot_lead_not_contacted": "Hot lead not contacted",
    "deal_at_risk": "Deal at risk",
    "health_fell": "Customer health fell",
    "activity_gap": "Rep without activity",
    "pipeline_failure": "Pipeline step failed",
    "scores_blocked": "Scores held back",
}
SEVERITIES = {"high": "High", "medium": "Medium"}


def alert_labels(frame: pl.DataFrame) -> pl.DataFrame:
    """Kind and severity in words (a kind this page does not know keeps its code)."""
    return frame.with_columns(
        kind_label=pl.col("kind").replace(ALERT_KINDS),
        severity_label=pl.col("severity").replace(SEVERITIES),
    )


def alert_counts(frame: pl.DataFrame) -> pl.DataFrame:
    """Alerts per kind (in words) and severity, the most frequent kind first."""
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
    """'5 open alerts, 3 of high severity; 4 raised on 01 Nov 2026, 1 earlier.'"""
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


# ------------------------------------------------------------------------- pipeline


def funnel(frame: pl.DataFrame) -> pl.DataFrame:
    """Stage funnel rows with the conversion from the previous stage and a bar label."""
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


def stage_labels(frame: pl.DataFrame) -> pl.DataFrame:
    """The stage column in words ('Needs analysis')."""
    return frame.with_columns(pl.col("stage").replace(STAGE_LABELS))


def stage_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Stages in process order, labelled for people."""
    return frame.with_columns(
        stage_order=pl.col("stage").replace_strict(STAGE_ORDER, default=99),
        stage=pl.col("stage").replace(STAGE_LABELS),
    ).sort("stage_order")


# --------------------------------------------------------------------------- revenue


def mrr_bridge(frame: pl.DataFrame) -> pl.DataFrame:
    """Movements long and signed (losses negative), with the month's net change."""
    gains = ["new", "expansion", "reactivation"]
    losses = ["contraction", "churn"]
    if frame.is_empty():
        return pl.DataFrame(
            schema={
                "month": pl.Date,
                "movement": pl.String,
                "amount": pl.Float64,
                "net": pl.Float64,
            }
        )
    net = frame.select("month", net=sum(pl.col(c) for c in gains) - sum(pl.col(c) for c in losses))
    long = frame.unpivot(
        index="month", on=gains + losses, variable_name="movement", value_name="amount"
    )
    signed = long.with_columns(
        amount=pl.when(pl.col("movement").is_in(losses))
        .then(-pl.col("amount"))
        .otherwise(pl.col("amount"))
    )
    return signed.join(net, on="month").sort("month", "movement")


def scenarios(frame: pl.DataFrame) -> pl.DataFrame:
    """Commit / most likely / best case per quarter, plus what is already closed."""
    names = {"commit": "commit", "most_likely": "most likely", "best_case": "best case"}
    chosen = frame.filter(pl.col("scenario").is_in(list(names))).with_columns(
        scenario=pl.col("scenario").replace(names)
    )
    closed = (
        frame.group_by("quarter", "quarter_start", "horizon")
        .agg(amount=pl.col("closed_to_date").max())
        .with_columns(
            scenario=pl.lit("closed so far"), description=pl.lit("already won in the quarter")
        )
    )
    columns = ["quarter", "quarter_start", "horizon", "scenario", "amount", "description"]
    return pl.concat([closed.select(columns), chosen.select(columns)]).sort("horizon", "scenario")


def scenario_table(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per quarter: closed so far, commit, most likely, best case."""
    wide = frame.pivot(on="scenario", index=["quarter", "horizon"], values="amount")
    order = ["quarter", "closed so far", "commit", "most likely", "best case"]
    return wide.sort("horizon").select([c for c in order if c in wide.columns])


# ------------------------------------------------------------------------ campaigns


MODELS = {"first_touch": "First touch", "last_touch": "Last touch", "linear": "Linear"}


def campaign_roi(campaigns: pl.DataFrame, attribution: pl.DataFrame) -> pl.DataFrame:
    """Per campaign: cost, credited revenue under each model, and ROI under each."""
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


def attribution_by(frame: pl.DataFrame, campaigns: pl.DataFrame, level: str) -> pl.DataFrame:
    """Credited revenue and pipeline per campaign (or channel) and model, named for people."""
    named = frame.join(campaigns.select("campaign_id", "name", "channel"), on="campaign_id")
    return (
        named.group_by(level, "attribution_model")
        .agg(revenue=pl.col("revenue").sum(), pipeline=pl.col("pipeline").sum())
        .with_columns(model=pl.col("attribution_model").replace(MODELS))
        .sort("revenue", descending=True)
    )


# ----------------------------------------------------------------------------- team


def heatmap(frame: pl.DataFrame) -> pl.DataFrame:
    """Every weekday × hour cell (zeros included), with weekday names."""
    grid = pl.DataFrame({"weekday": list(range(1, 8))}).join(
        pl.DataFrame({"hour": list(range(24))}), how="cross"
    )
    typed = frame.with_columns(pl.col("weekday").cast(pl.Int64), pl.col("hour").cast(pl.Int64))
    return (
        grid.join(typed, on=["weekday", "hour"], how="left")
        .with_columns(
            pl.col("activities").fill_null(0),
            pl.col("hours").fill_null(0.0),
            weekday_name=pl.col("weekday").replace_strict(dict(enumerate(WEEKDAYS, start=1))),
        )
        .sort("weekday", "hour")
    )


def busiest(frame: pl.DataFrame) -> str | None:
    """'Tue 10:00' for the cell with the most activities."""
    if frame.is_empty() or frame["activities"].sum() == 0:
        return None
    top = frame.sort("activities", descending=True).row(0, named=True)
    return f"{WEEKDAYS[top['weekday'] - 1]} {top['hour']:02d}:00"


# --------------------------------------------------------------------------- models


METRICS = {
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC",
    "lift_top_decile": "Lift in top 10 %",
    "brier": "Brier (lower is better)",
}


def metrics_long(evaluations: pl.DataFrame, split: str = "test") -> pl.DataFrame:
    """The candidates' metrics on one split, long (model, metric, value)."""
    rows = evaluations.filter(pl.col("split") == split)
    if rows.is_empty():
        return pl.DataFrame(schema={"model": pl.String, "metric": pl.String, "value": pl.Float64})
    return (
        rows.unpivot(index="model", on=list(METRICS), variable_name="metric", value_name="value")
        .drop_nulls("value")
        .with_columns(metric=pl.col("metric").replace(METRICS))
    )


def drift(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per publication: grade shares, and the score distribution's shift (PSI) from the first.

    ``frame`` is :func:`dashboards.queries.score_drift`. PSI (population stability index)
    over ten score bins: under 0.1 stable, 0.1-0.25 moving, over 0.25 shifted.
    """
    empty_grades = pl.DataFrame(
        schema={"publication": pl.String, "order": pl.Int64, "grade": pl.String,
                "rows": pl.Int64, "share": pl.Float64}
    )  # fmt: skip
    if frame.is_empty():
        return empty_grades, pl.DataFrame(
            schema={"publication": pl.String, "order": pl.Int64, "psi": pl.Float64}
        )
    pubs = (
        frame.group_by("run_id")
        .agg(
            scored_at=pl.col("scored_at").min(),
            model_name=pl.col("model_name").first(),
            model_version=pl.col("model_version").first(),
            scoring_path=pl.col("scoring_path").first(),
            first_row=pl.col("first_row").min(),
            rows=pl.col("rows").sum(),
            mean_score=(pl.col("mean_score") * pl.col("rows")).sum() / pl.col("rows").sum(),
        )
        .sort("scored_at", "first_row", "run_id")
        .with_row_index("order")
        .with_columns(
            order=pl.col("order").cast(pl.Int64),
            publication=pl.format(
                "{}. {} · {} {}",  # "2. 2026-11-01 · model v3"
                pl.col("order") + 1,
                pl.col("scored_at").dt.strftime("%Y-%m-%d"),
                pl.when(pl.col("scoring_path") == "rule_based")
                .then(pl.lit("rules"))
                .otherwise(pl.lit("model")),
                pl.when(pl.col("scoring_path") == "rule_based")
                .then(pl.lit(""))
                .otherwise(pl.format("v{}", pl.col("model_version"))),
            ),
        )
    )
    grades = (
        frame.group_by("run_id", "grade")
        .agg(rows=pl.col("rows").sum())
        .join(pubs.select("run_id", "order", "publication", total="rows"), on="run_id")
        .with_columns(share=pl.col("rows") / pl.col("total"), rows=pl.col("rows").cast(pl.Int64))
        .select("publication", "order", "grade", "rows", "share")
        .sort("order", "grade")
    )
    bins = (
        frame.group_by("run_id", "bin")
        .agg(rows=pl.col("rows").sum())
        .join(pubs.select("run_id", "order", "publication", total="rows"), on="run_id")
        .with_columns(share=pl.col("rows") / pl.col("total"))
    )
    base_run = pubs["run_id"][0]
    base = bins.filter(pl.col("run_id") == base_run).select("bin", base="share")
    grid = pubs.select("run_id", "order", "publication").join(
        pl.DataFrame({"bin": list(range(10))}, schema={"bin": bins.schema["bin"]}), how="cross"
    )
    eps = 1e-4
    psi = (
        grid.join(bins.select("run_id", "bin", "share"), on=["run_id", "bin"], how="left")
        .join(base, on="bin", how="left")
        .with_columns(
            p=pl.col("share").fill_null(0.0).clip(eps, 1.0),
            q=pl.col("base").fill_null(0.0).clip(eps, 1.0),
        )
        .group_by("publication", "order")
        .agg(psi=((pl.col("p") - pl.col("q")) * (pl.col("p") / pl.col("q")).log()).sum())
        .join(pubs.select("order", "mean_score", "rows"), on="order")
        .sort("order")
    )
    return grades, psi


MONITORING_KINDS = {"drift": "Drift (score PSI)", "calibration": "Calibration (ECE)"}
CHECK_STATUS = {"ok": "OK", "warn": "Warning", "block": "Blocked"}


def monitoring_labels(frame: pl.DataFrame, families: dict[str, str]) -> pl.DataFrame:
    """Family, kind and status of monitoring checks in words."""
    return frame.with_columns(
        family_label=pl.col("family").replace(families),
        kind_label=pl.col("kind").replace(MONITORING_KINDS),
        status_label=pl.col("status").replace(CHECK_STATUS),
    )


def monitoring_limits(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    """The thresholds the latest check of ``kind`` applied, one row per level (level, value)."""
    checks = frame.filter(pl.col("kind") == kind)
    if checks.is_empty():
        return pl.DataFrame(schema={"level": pl.String, "value": pl.Float64})
    last = checks.sort("checked_at").row(-1, named=True)
    limits = [("warn", last["warn_at"]), ("block", last["block_at"])]
    return pl.DataFrame(
        [(level, float(value)) for level, value in limits if value is not None],
        schema={"level": pl.String, "value": pl.Float64},
        orient="row",
    )


def monitoring_latest(frame: pl.DataFrame) -> pl.DataFrame:
    """The latest check per family and kind, with why in words.

    Drift says why itself (``reasons``: what crossed which threshold, or "stable");
    calibration's is its error against the allowed one.
    """
    if frame.is_empty():
        return frame.with_columns(why=pl.lit(None, pl.String))
    latest = frame.sort("checked_at").group_by("family", "kind").last()
    ece = pl.format(
        "ECE {} (warning above {}) on {} matured rows",
        pl.col("value").round(3).cast(pl.String).str.pad_end(5, "0"),  # 0.09 → 0.090
        pl.col("warn_at"),
        pl.col("rows").cast(pl.String).fill_null("?"),
    )
    return latest.with_columns(
        why=pl.when(pl.col("kind") == "drift")
        .then(pl.col("reasons"))
        .when(pl.col("kind") == "calibration")
        .then(ece)
        .otherwise(pl.col("reasons"))
    ).sort("family", "kind")


def psi_verdict(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 0.1:
        return "stable"
    if value < 0.25:
        return "moving"
    return "shifted"
