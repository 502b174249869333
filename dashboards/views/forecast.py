"""Forecast: what the next periods will likely bring, how sure we are, and how good past
forecasts were."""

import polars as pl
import streamlit as st

from dashboards import filters, ui
from dashboards.charts import forecast as charts
from dashboards.charts.style import show
from dashboards.processing import forecast as processing
from dashboards.processing.formatting import money, pct
from dashboards.queries import forecast as queries

METRICS = {"bookings": "Bookings", "new_pipeline": "New pipeline", "mrr": "MRR"}
GRAINS = {"month": "Monthly", "week": "Weekly"}
SPLITS = {
    "total": "Whole company",
    "region": "Region",
    "team": "Team",
    "product_line": "Product line",
}


def render() -> None:
    """Draw the page: the chosen series' forecast, past accuracy, scenarios, backtests."""
    f = filters.current()
    ui.page_header(
        "Forecast",
        "The published revenue forecast with its 80 % and 95 % intervals, the quarter's "
        "scenarios, and how accurate the forecasts have been by how far ahead they look.",
        "Forecasts are published for the whole company and per region, team and product "
        "line: choose one under “On this page”. The period limits the history shown; the "
        "owner and segment filters do not apply here.",
    )
    with ui.section(None) as loaded:
        series = _choose(queries.forecast_segments())
        ahead = queries.forecast_series(*series)
        if ahead.is_empty():
            st.info("No forecast is published for this choice.")
            return
        history = processing.history(queries.forecast_actuals(*series), f.start, ahead)
        _headline(ahead, series[1])
    if not loaded.ok:
        return

    with ui.section(
        f"{METRICS[series[0]]}: actual and forecast",
        help="Solid: what happened. Dashed: the forecast; the shaded bands hold the actual "
        "with 80 % and 95 % probability. The first forecast period is the current, "
        "incomplete one.",
    ):
        _forecast(history, ahead, series[0])

    with ui.section(
        "Past forecasts against what happened",
        help="Every published forecast whose period has ended: the bar is its 80 % interval, "
        "the tick its point forecast, the diamond the actual.",
    ):
        _past(series)

    left, right = st.columns(2)
    with (
        left,
        ui.section(
            "Quarter scenarios",
            help="Total bookings per quarter, from the open pipeline blended with the statistical "
            "forecast: commit is 90 % likely to be reached, best case 10 %.",
        ),
    ):
        _scenarios()
    with (
        right,
        ui.section(
            "Accuracy by horizon",
            help="Backtest error (MASE: below 1 beats repeating last season's value) of each "
            "method, by how many periods ahead it forecast. The published method is the thick line.",
        ),
    ):
        _backtest(series)


def _choose(available: pl.DataFrame) -> tuple[str, str, str, str]:
    """The series to show, picked in the sidebar among those published."""
    filters.page_heading()
    metrics = [m for m in METRICS if m in set(available["metric"].to_list())] or ["bookings"]
    metric = st.sidebar.selectbox("Measure", metrics, format_func=METRICS.get, key="fc_metric")
    rows = available.filter(pl.col("metric") == metric)
    grains = [g for g in GRAINS if g in set(rows["grain"].to_list())] or ["month"]
    grain = (
        st.sidebar.segmented_control(
            "Periods", grains, format_func=GRAINS.get, key="fc_grain", default=grains[0]
        )
        or grains[0]
    )
    rows = rows.filter(pl.col("grain") == grain)
    splits = [s for s in SPLITS if s in set(rows["segment_type"].to_list())] or ["total"]
    split = st.sidebar.selectbox("Split", splits, format_func=SPLITS.get, key="fc_split")
    segments = sorted(rows.filter(pl.col("segment_type") == split)["segment"].to_list()) or ["all"]
    segment = (
        st.sidebar.selectbox(SPLITS[split], segments, key=f"fc_segment_{split}")
        if split != "total"
        else "all"
    )
    return metric, grain, split, segment


def _headline(ahead: pl.DataFrame, grain: str) -> None:
    unit = "month" if grain == "month" else "week"
    current, nxt = ahead.row(0, named=True), ahead.row(min(1, ahead.height - 1), named=True)
    a, b, c, d = st.columns(4)
    a.metric(
        f"This {unit} (forecast)",
        money(current["point"]),
        help=f"80 % interval {money(current['lo80'])} – "
        f"{money(current['hi80'])}. So far: {money(current['partial_actual'])}.",
        border=True,
    )
    b.metric(
        f"Next {unit}",
        money(nxt["point"]),
        help=f"80 % interval {money(nxt['lo80'])} – {money(nxt['hi80'])}.",
        border=True,
    )
    mase, naive = current["backtest_mase"], current["backtest_mase_seasonal_naive"]
    headline, detail = processing.accuracy_words(mase, naive)
    c.metric("How good is it?", headline, help=detail, border=True)
    d.metric(
        "How it forecasts",
        processing.plain_method(current["method"]),
        help=f"Chosen for this series because it missed least in the replays of past "
        f"periods (method: {str(current['method']).replace('_', ' ')}).",
        border=True,
    )


def _forecast(history: pl.DataFrame, ahead: pl.DataFrame, metric: str) -> None:
    show(charts.forecast(history, ahead, y_title=METRICS[metric]))
    fallback = ahead["fallback_reason"].drop_nulls()
    if fallback.len():
        st.caption(f":material/info: Simple method used: {fallback[0]}.")


def _past(series: tuple[str, str, str, str]) -> None:
    past = queries.forecast_accuracy(*series)
    if past.is_empty():
        st.info(
            "No published forecast has reached a complete period yet: this fills in as "
            "periods close after each monthly forecast run."
        )
        return
    inside = past["within80"].mean()
    st.caption(
        f"{past.height} forecasts scored; {pct(inside, 0)} of the actuals "
        "fell inside the 80 % interval."
    )
    show(charts.past_forecasts(past))


def _scenarios() -> None:
    raw = queries.forecast_scenarios()
    if raw.is_empty():
        st.info("No quarter scenarios are published yet.")
        return
    scenarios = processing.scenarios(raw)
    show(charts.scenarios(scenarios))
    ui.table(
        processing.scenario_table(scenarios),
        name="forecast_scenarios",
        columns={
            "quarter": ui.text_col("Quarter", "small"),
            "closed so far": ui.money_col("Closed so far"),
            "commit": ui.money_col("Commit"),
            "most likely": ui.money_col("Most likely"),
            "best case": ui.money_col("Best case"),
        },
    )


def _backtest(series: tuple[str, str, str, str]) -> None:
    backtest = queries.forecast_backtest(*series).drop_nulls("mase")
    if backtest.is_empty():
        st.info("This series is too short for a backtest.")
        return
    show(charts.accuracy_by_horizon(backtest, value="mase", title="MASE", fmt=".2f"))
    ui.table(
        processing.chosen_method(backtest),
        name="forecast_accuracy_by_horizon",
        columns={
            "horizon": ui.number_col("Periods ahead", "%d"),
            "method": ui.text_col("Method", "small"),
            "mase": ui.number_col("MASE", "%.2f"),
            "smape": ui.number_col("sMAPE %", "%.1f"),
            "mae": ui.money_col("Mean abs. error"),
            "coverage80": ui.pct_col("Inside 80 %"),
            "coverage95": ui.pct_col("Inside 95 %"),
            "origins": ui.number_col("Backtests", "%d"),
        },
    )


render()
