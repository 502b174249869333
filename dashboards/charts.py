"""The one chart style of the dashboards (Altair), and the charts the pages draw.

Every chart goes through :func:`show`, which applies the same fonts, axes,
colours and legend placement, so a page never styles a chart itself. Colours
carry meaning and mean the same on every page: grades A→D and bands hot/warm/cold
go from green to grey, risk and churn are orange-red, freshness statuses are
traffic lights. Money is shown in SI notation (1.2M, 350k): amounts are in the
CRM's own currency, which the data does not name.
"""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

FONT = "Source Sans Pro, sans-serif"
INK = "#31333F"
MUTED = "#8A8D97"
PRIMARY = "#1F6FEB"
RISK = "#D1495B"
PALETTE = [
    "#1F6FEB",
    "#F28E2B",
    "#2CA58D",
    "#E15759",
    "#8E6BBF",
    "#76B7B2",
    "#EDC948",
    "#B07AA1",
    "#FF9DA7",
    "#9C755F",
]
GRADES = ["A", "B", "C", "D"]
GRADE_COLORS = ["#1A7F37", "#58A55C", "#E3B341", "#B8BCC4"]
BANDS = ["hot", "warm", "cold"]
RISK_LEVELS = ["High risk", "Medium risk", "Low risk"]  # a churn score's bands, for people
BAND_COLORS = ["#D1495B", "#F28E2B", "#8FB8DE"]
STATUS = ["ok", "warn", "error", "empty"]
STATUS_COLORS = ["#2CA58D", "#E3B341", "#D1495B", "#B8BCC4"]
SEVERITIES = ["high", "medium"]
SEVERITY_COLORS = ["#D1495B", "#F28E2B"]
LIMITS = ["warn", "block"]  # a monitoring check's thresholds
LIMIT_COLORS = ["#E3B341", "#D1495B"]
MOVEMENTS = ["new", "expansion", "reactivation", "contraction", "churn"]
MOVEMENT_COLORS = ["#1A7F37", "#58A55C", "#76B7B2", "#F28E2B", "#D1495B"]
MONEY = ".3~s"
MONTH = "%b %Y"
COUNT = ",.0f"
PCT = ".0%"
HEIGHT = 300


def show(chart: alt.TopLevelMixin, *, key: str | None = None) -> None:
    """Draw a chart in the page's style, as wide as its column."""
    styled = (
        chart.configure(font=FONT, background="transparent")
        .configure_view(stroke=None)
        .configure_axis(
            labelColor=INK,
            titleColor=MUTED,
            titleFontWeight="normal",
            titleFontSize=12,
            labelFontSize=12,
            gridColor="#ECEDF0",
            domainColor="#D5D7DD",
            tickColor="#D5D7DD",
        )
        .configure_legend(
            orient="top",
            title=None,
            labelColor=INK,
            labelFontSize=12,
            symbolType="circle",
        )
        .configure_axisQuantitative(tickCount=6)
        .configure_range(category=PALETTE)
        .configure_title(anchor="start", color=INK, fontSize=14, fontWeight="normal")
    )
    st.altair_chart(styled, width="stretch", theme=None, key=key)


def _scale(domain: list[str], colors: list[str]) -> alt.Scale:
    return alt.Scale(domain=domain, range=colors)


def grade_scale() -> alt.Scale:
    return _scale(GRADES, GRADE_COLORS)


def band_scale() -> alt.Scale:
    return _scale(BANDS, BAND_COLORS)


def risk_scale() -> alt.Scale:
    return _scale(RISK_LEVELS, BAND_COLORS)


def status_scale() -> alt.Scale:
    return _scale(STATUS, STATUS_COLORS)


def severity_scale() -> alt.Scale:
    return _scale(SEVERITIES, SEVERITY_COLORS)


# ------------------------------------------------------------------------ generic


def tip(
    field: str, title: str | None = None, fmt: str | None = None, kind: str = "Q"
) -> alt.Tooltip:
    """A tooltip line: the field, a title for people, a number or date format."""
    return alt.Tooltip(f"{field}:{kind}", title=title or field, format=fmt or alt.Undefined)


def hbar(
    frame: pl.DataFrame,
    category: str,
    value: str,
    *,
    value_title: str,
    category_title: str | None = None,
    color: str | None = None,
    scale: alt.Scale | None = None,
    bar_color: str = PRIMARY,
    fmt: str = MONEY,
    sort: list[str] | str = "-x",
    tooltip: list | None = None,
    height: int | None = None,
) -> alt.Chart:
    """Horizontal bars, one per category (stacked by ``color`` if given)."""
    enc_color = (
        alt.Color(f"{color}:N", scale=scale or alt.Undefined, title=None)
        if color
        else alt.value(bar_color)
    )
    rows = frame[category].n_unique() if frame.height else 1
    return (
        alt.Chart(frame)
        .mark_bar(cornerRadiusEnd=2)
        .encode(
            y=alt.Y(f"{category}:N", sort=sort, title=category_title),
            x=alt.X(f"sum({value}):Q", title=value_title, axis=alt.Axis(format=fmt)),
            color=enc_color,
            tooltip=tooltip or [category, alt.Tooltip(f"sum({value}):Q", format=",.0f")],
        )
        .properties(height=height or max(120, min(26 * rows, 520)))
    )


def time_bars(
    frame: pl.DataFrame,
    x: str,
    y: str,
    *,
    y_title: str,
    color: str | None = None,
    scale: alt.Scale | None = None,
    fmt: str = MONEY,
    unit: str = "yearmonth",
    tooltip: list | None = None,
) -> alt.Chart:
    """Bars over time (monthly by default), stacked by ``color`` if given."""
    enc_color = (
        alt.Color(f"{color}:N", scale=scale or alt.Undefined, title=None)
        if color
        else alt.value(PRIMARY)
    )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(f"{unit}({x}):O", title=None, axis=alt.Axis(labelAngle=-40)),
            y=alt.Y(f"sum({y}):Q", title=y_title, axis=alt.Axis(format=fmt)),
            color=enc_color,
            tooltip=tooltip
            or [alt.Tooltip(f"{unit}({x}):O"), alt.Tooltip(f"sum({y}):Q", format=",.0f")],
        )
        .properties(height=HEIGHT)
    )


def line(
    frame: pl.DataFrame,
    x: str,
    y: str,
    *,
    y_title: str,
    color: str | None = None,
    fmt: str = MONEY,
    x_type: str = "T",
    tooltip: list | None = None,
) -> alt.Chart:
    """A line with points (one per ``color`` if given)."""
    enc = {
        "x": alt.X(
            f"{x}:{x_type}",
            title=None,
            axis=alt.Axis(format=MONTH) if x_type == "T" else alt.Undefined,
        ),
        "y": alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=fmt)),
        "tooltip": tooltip or [alt.Tooltip(f"{x}:{x_type}"), alt.Tooltip(f"{y}:Q", format=",.2f")],
    }
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=None)
    else:
        enc["color"] = alt.value(PRIMARY)
    return (
        alt.Chart(frame)
        .mark_line(point=True, strokeWidth=2)
        .encode(**enc)
        .properties(height=HEIGHT)
    )


def scatter(
    frame: pl.DataFrame,
    x: str,
    y: str,
    *,
    x_title: str,
    y_title: str,
    color: str | None = None,
    scale: alt.Scale | None = None,
    size: str | None = None,
    tooltip: list | None = None,
    x_fmt: str = MONEY,
    y_fmt: str = MONEY,
    log_x: bool = False,
    log_y: bool = False,
) -> alt.Chart:
    """Dots; ``log_x``/``log_y`` spread skewed amounts (positive values only)."""
    enc = {
        "x": alt.X(
            f"{x}:Q",
            title=x_title,
            scale=alt.Scale(type="log" if log_x else "linear"),
            axis=alt.Axis(format=x_fmt),
        ),
        "y": alt.Y(
            f"{y}:Q",
            title=y_title,
            scale=alt.Scale(type="log" if log_y else "linear"),
            axis=alt.Axis(format=y_fmt),
        ),
        "tooltip": tooltip or [x, y],
    }
    enc["color"] = (
        alt.Color(f"{color}:N", scale=scale or alt.Undefined, title=None)
        if color
        else alt.value(PRIMARY)
    )
    if size:
        enc["size"] = alt.Size(f"{size}:Q", legend=None, scale=alt.Scale(range=[20, 400]))
    return (
        alt.Chart(frame)
        .mark_circle(opacity=0.7, stroke="white", strokeWidth=0.5)
        .encode(**enc)
        .properties(height=HEIGHT + 60)
    )


def grouped_bars(
    frame: pl.DataFrame, category: str, value: str, group: str, *, y_title: str, fmt: str = MONEY
) -> alt.Chart:
    """Bars side by side: one group of bars per category, one bar per ``group``."""
    return (
        alt.Chart(frame)
        .mark_bar(cornerRadiusEnd=2)
        .encode(
            x=alt.X(f"{category}:N", title=None, axis=alt.Axis(labelAngle=-30)),
            xOffset=alt.XOffset(f"{group}:N"),
            y=alt.Y(f"{value}:Q", title=y_title, axis=alt.Axis(format=fmt)),
            color=alt.Color(f"{group}:N", title=None),
            tooltip=[category, group, tip(value, y_title, ",.0f")],
        )
        .properties(height=HEIGHT)
    )


# ----------------------------------------------------------------------- specific


def cost_vs_revenue(frame: pl.DataFrame) -> alt.LayerChart:
    """Campaigns by cost and credited revenue (log axes, both positive), with the
    break-even diagonal: above it, a campaign paid for itself."""
    positive = frame.filter((pl.col("cost") > 0) & (pl.col("revenue") > 0))
    low = float(min(positive["cost"].min() or 1, positive["revenue"].min() or 1))
    high = float(max(positive["cost"].max() or 1, positive["revenue"].max() or 1))
    log = alt.Scale(type="log")
    even = (
        alt.Chart(pl.DataFrame({"v": [low, high]}))
        .mark_line(color=MUTED, strokeDash=[4, 4])
        .encode(x=alt.X("v:Q", scale=log), y=alt.Y("v:Q", scale=log))
    )
    dots = (
        alt.Chart(positive)
        .mark_circle(opacity=0.75, size=90, stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("cost:Q", title="Cost", scale=log, axis=alt.Axis(format=MONEY)),
            y=alt.Y("revenue:Q", title="Credited revenue", scale=log, axis=alt.Axis(format=MONEY)),
            color=alt.Color("channel:N", title=None),
            tooltip=[
                "name",
                "channel",
                tip("cost", "cost", ",.0f"),
                tip("revenue", "credited revenue", ",.0f"),
                tip("roi", "ROI", ".0%"),
            ],
        )
    )
    return (even + dots).properties(height=HEIGHT)


def funnel(frame: pl.DataFrame) -> alt.Chart:
    """Stage funnel: deals reaching each stage, labelled with the step conversion.

    ``frame`` has stage, stage_order, deals, step_rate (share of the previous stage).
    """
    base = alt.Chart(frame).encode(
        y=alt.Y("stage:N", sort=alt.EncodingSortField("stage_order"), title=None),
    )
    bars = base.mark_bar(color=PRIMARY, cornerRadiusEnd=2).encode(
        x=alt.X("deals:Q", title="Deals that reached the stage"),
        tooltip=[
            "stage",
            alt.Tooltip("deals:Q", format=","),
            alt.Tooltip("step_rate:Q", title="from previous stage", format=PCT),
            alt.Tooltip("amount:Q", title="value", format=",.0f"),
        ],
    )
    labels = base.mark_text(align="left", dx=4, color=INK).encode(
        x="deals:Q", text=alt.Text("label:N")
    )
    return (bars + labels).properties(height=230)


def aging(frame: pl.DataFrame, buckets: list[str]) -> alt.Chart:
    """Open value by age bucket, stacked by stage (``age_bucket``, ``stage``, ``amount``)."""
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("age_bucket:N", sort=buckets, title="Open for", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("sum(amount):Q", title="Open pipeline", axis=alt.Axis(format=MONEY)),
            color=alt.Color("stage:N", title=None, sort=alt.EncodingSortField("stage_order")),
            order=alt.Order("stage_order:Q"),
            tooltip=[
                "age_bucket",
                "stage",
                tip("deals", "deals", ","),
                tip("amount", "value", ",.0f"),
            ],
        )
        .properties(height=HEIGHT - 40)
    )


def freshness(frame: pl.DataFrame) -> alt.LayerChart:
    """Age of each table's newest record in days, coloured by status, with the 2- and 7-day
    thresholds (``table_name``, ``hours_since``, ``freshness_status``, ``days_behind_data``)."""
    aged = frame.with_columns(age_days=pl.col("hours_since") / 24)
    bars = (
        alt.Chart(aged)
        .mark_bar(cornerRadiusEnd=2)
        .encode(
            y=alt.Y("table_name:N", sort="-x", title=None),
            x=alt.X("age_days:Q", title="Days since the newest record (wall clock)"),
            color=alt.Color("freshness_status:N", scale=status_scale(), title=None),
            tooltip=[
                "table_name",
                "freshness_status",
                "newest_at",
                tip("age_days", "days old", ".1f"),
                tip("days_behind_data", "days behind the newest table", ".1f"),
            ],
        )
    )
    limits = (
        alt.Chart(pl.DataFrame({"days": [2.0, 7.0]}))
        .mark_rule(color=MUTED, strokeDash=[4, 4])
        .encode(x="days:Q")
    )
    return (bars + limits).properties(height=max(140, 24 * frame.height))


def heatmap(frame: pl.DataFrame) -> alt.Chart:
    """Weekday × hour of activities (``weekday_name``, ``weekday``, ``hour``, ``activities``)."""
    return (
        alt.Chart(frame)
        .mark_rect(cornerRadius=2)
        .encode(
            x=alt.X("hour:O", title="Hour of day (UTC)", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("weekday_name:N", sort=alt.EncodingSortField("weekday"), title=None),
            color=alt.Color(
                "activities:Q", scale=alt.Scale(scheme="blues"), title="Activities", legend=None
            ),
            tooltip=[
                alt.Tooltip("weekday_name:N", title="day"),
                "hour:O",
                alt.Tooltip("activities:Q", format=","),
                alt.Tooltip("hours:Q", title="hours logged", format=",.0f"),
            ],
        )
        .properties(height=240)
    )


def forecast(history: pl.DataFrame, ahead: pl.DataFrame, *, y_title: str) -> alt.LayerChart:
    """Actuals as a line, the forecast as a dashed line inside its 80 % and 95 % bands.

    ``history``: period, actual. ``ahead``: period, point, lo80, hi80, lo95, hi95.
    """
    x = alt.X("period:T", title=None, axis=alt.Axis(format=MONTH))
    band95 = (
        alt.Chart(ahead)
        .mark_area(opacity=0.15, color=PRIMARY)
        .encode(x=x, y=alt.Y("lo95:Q", title=y_title, axis=alt.Axis(format=MONEY)), y2="hi95:Q")
    )
    band80 = (
        alt.Chart(ahead).mark_area(opacity=0.3, color=PRIMARY).encode(x=x, y="lo80:Q", y2="hi80:Q")
    )
    point = (
        alt.Chart(ahead)
        .mark_line(strokeDash=[6, 4], point=True, color=PRIMARY)
        .encode(
            x=x,
            y="point:Q",
            tooltip=[
                alt.Tooltip("period:T"),
                alt.Tooltip("point:Q", title="forecast", format=",.0f"),
                alt.Tooltip("lo80:Q", title="80 % low", format=",.0f"),
                alt.Tooltip("hi80:Q", title="80 % high", format=",.0f"),
                alt.Tooltip("lo95:Q", title="95 % low", format=",.0f"),
                alt.Tooltip("hi95:Q", title="95 % high", format=",.0f"),
            ],
        )
    )
    actual = (
        alt.Chart(history)
        .mark_line(point=True, color=INK)
        .encode(
            x=x,
            y="actual:Q",
            tooltip=[alt.Tooltip("period:T"), alt.Tooltip("actual:Q", format=",.0f")],
        )
    )
    return (band95 + band80 + actual + point).properties(height=HEIGHT + 40)


def past_forecasts(frame: pl.DataFrame) -> alt.LayerChart:
    """Published forecasts of complete periods (point and 80 % interval) against the actual."""
    x = alt.X("period:T", title=None, axis=alt.Axis(format=MONTH))
    rule = (
        alt.Chart(frame)
        .mark_rule(color=PRIMARY, opacity=0.5, strokeWidth=3)
        .encode(
            x=x,
            y=alt.Y("lo80:Q", axis=alt.Axis(format=MONEY), title="Forecast vs actual"),
            y2="hi80:Q",
        )
    )
    point = alt.Chart(frame).mark_tick(color=PRIMARY, thickness=2, size=14).encode(x=x, y="point:Q")
    actual = (
        alt.Chart(frame)
        .mark_point(shape="diamond", filled=True, color=INK, size=70)
        .encode(
            x=x,
            y="actual:Q",
            tooltip=[
                alt.Tooltip("period:T"),
                alt.Tooltip("horizon:Q", title="months ahead"),
                alt.Tooltip("point:Q", title="forecast", format=",.0f"),
                alt.Tooltip("actual:Q", format=",.0f"),
                alt.Tooltip("within80:N", title="inside 80 %"),
            ],
        )
    )
    return (rule + point + actual).properties(height=HEIGHT)


def scenarios(frame: pl.DataFrame) -> alt.Chart:
    """Commit / most likely / best case per quarter, with the amount already closed."""
    order = ["closed so far", "commit", "most likely", "best case"]
    colors = ["#8A8D97", "#2CA58D", PRIMARY, "#8E6BBF"]
    return (
        alt.Chart(frame)
        .mark_bar(cornerRadiusEnd=2)
        .encode(
            x=alt.X("quarter:N", title=None, axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("scenario:N", sort=order),
            y=alt.Y("amount:Q", title="Bookings", axis=alt.Axis(format=MONEY)),
            color=alt.Color("scenario:N", scale=alt.Scale(domain=order, range=colors), title=None),
            tooltip=["quarter", "scenario", alt.Tooltip("amount:Q", format=",.0f"), "description"],
        )
        .properties(height=HEIGHT)
    )


def accuracy_by_horizon(frame: pl.DataFrame, *, value: str, title: str, fmt: str) -> alt.Chart:
    """An error measure by horizon, one line per method (the chosen one bold)."""
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("horizon:O", title="Periods ahead", axis=alt.Axis(labelAngle=0)),
            y=alt.Y(f"{value}:Q", title=title, axis=alt.Axis(format=fmt)),
            color=alt.Color("method:N", title=None),
            strokeWidth=alt.condition("datum.chosen", alt.value(3.5), alt.value(1.2)),
            tooltip=["method", "horizon", alt.Tooltip(f"{value}:Q", format=".3f"), "origins"],
        )
        .properties(height=HEIGHT)
    )


def score_histogram(frame: pl.DataFrame) -> alt.Chart:
    """Scores in bins of five, stacked by grade (``bin_start``, ``grade``, ``rows``)."""
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
    """Outcome rate per grade (``grade``, ``rate``, ``n``), labelled."""
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
    """Observed rate per score decile (``decile``, ``rate``, ``n``), highest decile right."""
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


def calibration(frame: pl.DataFrame) -> alt.LayerChart:
    """Predicted vs observed by decile, one line per model, against the diagonal."""
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


def metric_bars(frame: pl.DataFrame) -> alt.Chart:
    """Metrics (``metric``, ``value``) side by side per model (``model``)."""
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


def drift(frame: pl.DataFrame) -> alt.Chart:
    """Share of each grade per publication (``publication``, ``order``, ``grade``, ``share``)."""
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


def mrr_bridge(frame: pl.DataFrame) -> alt.LayerChart:
    """MRR movements per month (gains up, losses down) and the net change as a line.

    ``frame``: month, movement, amount (signed), and net per month.
    """
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):O", title=None, axis=alt.Axis(labelAngle=-40)),
            y=alt.Y("amount:Q", title="MRR change", axis=alt.Axis(format=MONEY)),
            color=alt.Color("movement:N", scale=_scale(MOVEMENTS, MOVEMENT_COLORS), title=None),
            tooltip=[
                alt.Tooltip("yearmonth(month):O", title="month"),
                "movement",
                alt.Tooltip("amount:Q", format=",.0f"),
            ],
        )
    )
    net = (
        alt.Chart(frame)
        .mark_line(color=INK, point=True)
        .encode(
            x="yearmonth(month):O",
            y="mean(net):Q",
            tooltip=[
                alt.Tooltip("yearmonth(month):O", title="month"),
                alt.Tooltip("mean(net):Q", title="net change", format=",.0f"),
            ],
        )
    )
    return (bars + net).properties(height=HEIGHT)


def renewals_timeline(frame: pl.DataFrame) -> alt.Chart:
    """Renewals by date: MRR up the y axis, coloured by churn band."""
    return (
        alt.Chart(frame)
        .mark_circle(opacity=0.8, stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("renewal_date:T", title="Renewal date"),
            y=alt.Y("mrr:Q", title="MRR", scale=alt.Scale(type="log"), axis=alt.Axis(format=MONEY)),
            color=alt.Color("risk:N", scale=risk_scale(), title=None),
            size=alt.Size("churn_risk:Q", legend=None, scale=alt.Scale(range=[30, 400])),
            tooltip=[
                "account",
                "plan",
                alt.Tooltip("mrr:Q", format=",.0f"),
                "renewal_date",
                "churn_risk",
                "why",
            ],
        )
        .properties(height=HEIGHT)
    )


def champion_challenger(frame: pl.DataFrame) -> alt.Chart:
    """ROC AUC of the challenger and the champion at each promotion decision."""
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

    ``frame``: checked_at, value, family_label, status, model_version, scoring_path, run_id;
    ``limits``: level (warn, block), value.
    """
    rules = (
        alt.Chart(limits)
        .mark_rule(strokeDash=[4, 4])
        .encode(
            y="value:Q",
            color=alt.Color("level:N", scale=_scale(LIMITS, LIMIT_COLORS), legend=None),
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
