"""Leads: who to call first, why, and whether the score can be trusted."""

import polars as pl
import streamlit as st

from dashboards import filters, ui
from dashboards.charts import leads as charts
from dashboards.charts.style import GRADES, show
from dashboards.data import DataUnavailable
from dashboards.processing import leads as processing
from dashboards.processing.reasons import with_reasons
from dashboards.queries import leads as queries
from dashboards.queries import models as model_queries

GRADE_HELP = "A: 2.5× as likely to convert as the average lead or more; B: 1.25×; C: 0.6×; D: less."


def render() -> None:
    """Draw the page: the open scored leads, their spread, and whether past grades held."""
    f = filters.current()
    sources, grades, search = _page_filters()
    ui.page_header(
        "Leads",
        "Every open lead scored for its chance to become an opportunity within 90 days, "
        "with the reasons and the next step. Owner, segment, source, grade and search apply "
        "to the list; the period applies to the check of past scores.",
        f.describe(),
    )
    params = f.params()

    with ui.section(None) as loaded:
        leads = queries.scored_leads(params, list(sources), list(grades or []), search)
        _headline(leads)
    if not loaded.ok:
        return

    with ui.section("Leads to work", help="Highest score first."):
        _leads_table(leads)

    left, right = st.columns(2)
    with left, ui.section("Score distribution", help="Open leads by score, coloured by grade."):
        if leads.is_empty():
            st.info("No open lead matches these filters.")
        else:
            show(charts.score_histogram(processing.score_bins(leads)))
    with (
        right,
        ui.section(
            "Does the score work?",
            help="Leads scored at least 90 days ago (first score in the period): how many "
            "converted within 90 days, by the grade they had. A working score converts A above "
            "B above C above D.",
        ),
    ):
        _does_it_work(params, sources)


def _page_filters() -> tuple[list[str], list[str] | None, str]:
    """The page's own filters in the sidebar: sources, grades, search text."""
    filters.page_heading()
    try:
        sources_available = queries.lead_options()["source"].to_list()
    except DataUnavailable:
        sources_available = []
    sources = st.sidebar.multiselect(
        "Lead source", sources_available, key="leads_sources", placeholder="All sources"
    )
    grades = st.sidebar.segmented_control(
        "Grade", GRADES, selection_mode="multi", key="leads_grades", help=GRADE_HELP
    )
    search = st.sidebar.text_input(
        "Search", key="leads_search", placeholder="Company, e-mail or lead id"
    ).strip()
    return sources, grades, search


def _headline(leads: pl.DataFrame) -> None:
    a, b, c, d = st.columns(4)
    a.metric("Open leads scored", f"{leads.height:,}", border=True)
    hot = leads.filter(pl.col("grade") == "A").height
    b.metric("Grade A", f"{hot:,}", help=GRADE_HELP, border=True)
    c.metric(
        "Average score",
        "–" if leads.is_empty() else f"{leads['score'].mean():.0f}",
        border=True,
    )
    d.metric(
        "Scored by",
        processing.scored_by(leads),
        help="A trained model once there is enough history; rule-based points before.",
        border=True,
    )


def _leads_table(leads: pl.DataFrame) -> None:
    ui.table(
        leads,
        name="scored_leads",
        columns={
            "company": ui.text_col("Company"),
            "owner": ui.text_col("Owner", "small"),
            "source": ui.text_col("Source", "small"),
            "score": ui.score_col(help="Chance to convert within 90 days, 0-100."),
            "grade": ui.text_col("Grade", "small", GRADE_HELP),
            "why": ui.text_col("Why", "large"),
            "next_action": ui.text_col("Next step"),
            "status": ui.text_col("Status", "small"),
            "created_at": ui.datetime_col("Created"),
            "lead_id": ui.text_col("Lead id", "small"),
        },
        limit=500,
        prepare=with_reasons,
        empty="No open lead matches these filters.",
    )


def _does_it_work(params: dict, sources: list[str]) -> None:
    outcomes = queries.lead_conversion_by_grade(params, list(sources))
    if outcomes.height and outcomes["leads"].sum() > 0:
        show(
            charts.rate_by_grade(processing.grade_rates(outcomes), title="Converted within 90 days")
        )
    else:
        _holdout()


def _holdout() -> None:
    """Before scores have aged 90 days: the model's test set, by score decile."""
    try:
        deciles = processing.decile_rates(model_queries.calibration("lead_scoring"))
    except DataUnavailable:  # never trained: the cold-start path publishes rule-based scores
        deciles = pl.DataFrame()
    if deciles.is_empty():
        st.info(
            "No published score is 90 days old yet, and no model has been trained: this "
            "check appears once either exists."
        )
        return
    st.caption(
        "No published score is 90 days old yet. Meanwhile, the model's test set (leads it "
        "never saw in training), by score decile (10 = highest scores):"
    )
    frame = deciles.select("decile", rate=pl.col("observed"), n=pl.col("rows"))
    show(charts.rate_by_decile(frame))


render()
