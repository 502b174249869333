"""Overview: the headline figures of the period, each against the period before, and the
alerts someone should act on now."""

import streamlit as st

from dashboards import filters, ui
from dashboards.charts import overview as charts
from dashboards.charts import pipeline as pipeline_charts
from dashboards.charts.style import show
from dashboards.data import MissingTable
from dashboards.processing import overview as processing
from dashboards.processing import pipeline as pipeline_processing
from dashboards.queries import overview as queries
from dashboards.queries import pipeline as pipeline_queries


def render() -> None:
    """Draw the page: headline figures, alerts, bookings, MRR and open pipeline."""
    f = filters.current()
    prev = f.previous()
    ui.page_header(
        "Overview",
        "How the business is doing in the chosen period. Each figure shows its change "
        f"against the {f.days} days before ({prev.start:%d %b %Y} – {prev.end:%d %b %Y}).",
        f.describe(),
    )
    with ui.section(None):
        ui.kpi_row(processing.kpis(queries.kpis(f.params()), queries.kpis(prev.params())))

    with ui.section(
        "Alerts",
        help="What someone should act on: hot leads nobody answered, deals at risk, customers "
        "whose health fell, reps without activity, failed pipeline steps, scores held back. The "
        "latest day's alerts and those of the week before it, each lead, deal or customer "
        "once. The team and owner filters apply; the pipeline's own alerts always show.",
    ):
        _alerts(f)

    left, right = st.columns(2)
    with left, ui.section("Bookings by month", help="Value of the deals won, by month of closing."):
        _bookings(f.params())
    with right, ui.section("MRR", help="Monthly recurring revenue at each month's end."):
        _mrr(f.params())

    with ui.section("Open pipeline by stage", help="Deals open now, at their current amounts."):
        _open_pipeline(f.params())


def _alerts(f: filters.Filters) -> None:
    try:
        found = queries.open_alerts(f.params())
    except MissingTable:
        st.info(
            "No alert is recorded in this publication of the data: it was published before "
            "the pipeline raised alerts. They appear here after its next run.",
            icon=":material/notifications_off:",
        )
        return
    if found.is_empty():
        st.info(
            "No open alert" + (" for these owners" if f.by_owner else "") + ": nothing needs "
            "attention right now.",
            icon=":material/check_circle:",
        )
        return
    st.caption(processing.alert_summary(found))
    counts, listed = st.columns([1, 3])
    with counts:
        show(charts.alerts_by_kind(processing.alert_counts(found)))
    with listed:
        ui.table(
            processing.alert_labels(found),
            name="alerts",
            columns={
                "severity_label": ui.text_col("Severity", "small"),
                "title": ui.text_col("Alert", "large"),
                "owner": ui.text_col("Owner", "small"),
                "raised_on": ui.date_col("Raised on"),
                "kind_label": ui.text_col("Kind", "small"),
                "detail": ui.text_col("Detail", "large"),
            },
        )


def _bookings(params: dict) -> None:
    monthly = queries.monthly_bookings(params)
    if monthly.is_empty():
        st.info("No deal closed in this period.")
    else:
        show(charts.bookings_by_month(processing.with_win_rate(monthly)))


def _mrr(params: dict) -> None:
    mrr = queries.monthly_mrr(params)
    if mrr.is_empty():
        st.info("No recurring revenue in this period.")
    else:
        show(charts.mrr(mrr))


def _open_pipeline(params: dict) -> None:
    stages = pipeline_processing.stage_frame(pipeline_queries.open_by_stage(params))
    if stages.is_empty():
        st.info("No open deal for these filters.")
    else:
        show(pipeline_charts.open_by_stage(stages))


render()
