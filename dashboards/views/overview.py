"""Overview: the headline figures of the period, each against the period before, and the
alerts someone should act on now."""

import polars as pl
import streamlit as st

from dashboards import charts, filters, processing, ui
from dashboards.data import MissingTable
from dashboards.queries import overview as overview_queries
from dashboards.queries import pipeline as pipeline_queries


def render() -> None:
    f = filters.current()
    prev = f.previous()
    ui.page_header(
        "Overview",
        "How the business is doing in the chosen period. Each figure shows its change "
        f"against the {f.days} days before ({prev.start:%d %b %Y} – {prev.end:%d %b %Y}).",
        f.describe(),
    )
    with ui.section(None):
        ui.kpi_row(
            processing.kpis(overview_queries.kpis(f.params()), overview_queries.kpis(prev.params()))
        )

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
        monthly = overview_queries.monthly_bookings(f.params())
        if monthly.is_empty():
            st.info("No deal closed in this period.")
        else:
            rated = monthly.with_columns(win_rate=pl.col("won") / pl.col("closed"))
            charts.show(
                charts.time_bars(
                    rated,
                    "month",
                    "bookings",
                    y_title="Bookings",
                    tooltip=[
                        charts.tip("month", "month", "%b %Y", "T"),
                        charts.tip("bookings", "bookings", ",.0f"),
                        charts.tip("won", "deals won"),
                        charts.tip("closed", "deals closed"),
                        charts.tip("win_rate", "win rate", ".0%"),
                    ],
                )
            )
    with right, ui.section("MRR", help="Monthly recurring revenue at each month's end."):
        mrr = overview_queries.monthly_mrr(f.params())
        if mrr.is_empty():
            st.info("No recurring revenue in this period.")
        else:
            charts.show(charts.line(mrr, "month", "mrr", y_title="MRR"))

    with ui.section("Open pipeline by stage", help="Deals open now, at their current amounts."):
        stages = processing.stage_frame(pipeline_queries.open_by_stage(f.params()))
        if stages.is_empty():
            st.info("No open deal for these filters.")
        else:
            charts.show(
                charts.hbar(
                    stages,
                    "stage",
                    "amount",
                    value_title="Open pipeline",
                    sort=stages["stage"].to_list(),
                    tooltip=["stage", "deals", charts.tip("amount", "value", ",.0f")],
                )
            )


def _alerts(f: filters.Filters) -> None:
    try:
        found = overview_queries.open_alerts(f.params())
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
        charts.show(
            charts.hbar(
                processing.alert_counts(found),
                "kind_label",
                "alerts",
                value_title="Open alerts",
                color="severity",
                scale=charts.severity_scale(),
                fmt=charts.COUNT,
                tooltip=[
                    charts.tip("kind_label", "alert", kind="N"),
                    charts.tip("severity", "severity", kind="N"),
                    charts.tip("alerts", "alerts", ","),
                ],
            )
        )
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


render()
