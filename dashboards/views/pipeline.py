"""Pipeline: what is open, how deals move through the stages, and which ones are at risk."""

import polars as pl
import streamlit as st

from dashboards import filters, ui
from dashboards.charts import pipeline as charts
from dashboards.charts.style import show
from dashboards.processing import pipeline as processing
from dashboards.processing.formatting import money
from dashboards.queries import pipeline as queries


def render() -> None:
    """Draw the page: open pipeline, funnel, velocity, cycle length, aging, deals at risk."""
    f = filters.current()
    filters.page_heading()
    flags = st.sidebar.multiselect(
        "Risk flag",
        list(processing.RISK_FLAGS),
        format_func=processing.RISK_FLAGS.get,
        key="pipeline_flags",
        placeholder="Any risk flag",
        help="Show the at-risk deals with these flags only.",
    )
    ui.page_header(
        "Pipeline",
        "Open deals now, how deals created in the period moved through the stages, how "
        "long they take, and the open deals that need attention, with the reasons why.",
        f.describe(),
    )
    params = f.params()

    left, right = st.columns(2)
    with left, ui.section("Open pipeline by stage", help="Deals open now, current amounts."):
        _open_pipeline(params)
    with (
        right,
        ui.section(
            "Stage funnel",
            help="Deals created in the period: how many reached each stage (having spent time "
            "in it or moved past it), and the share of the previous stage that got there.",
        ),
    ):
        funnel = _funnel(params)

    left, right = st.columns(2)
    with (
        left,
        ui.section(
            "Velocity: days in each stage",
            help="Average days the deals created in the period spent in a stage, over the deals "
            "that have left it.",
        ),
    ):
        _velocity(funnel)
    with (
        right,
        ui.section(
            "Cycle length of won deals", help="Days from creation to winning, by month of closing."
        ),
    ):
        _cycle(params)

    with ui.section("Aging of open deals", help="Open deals by how long they have been open."):
        _aging(params)

    with ui.section(
        "Deals at risk",
        help="Open deals with at least one warning sign, largest first, with the deal "
        "model's win probability, the reasons behind it and the next step to take.",
    ):
        _at_risk(params, flags)


def _open_pipeline(params: dict) -> None:
    stages = processing.stage_frame(queries.open_by_stage(params))
    if stages.is_empty():
        st.info("No open deal for these filters.")
    else:
        show(charts.open_by_stage(stages, with_age=True))


def _funnel(params: dict) -> pl.DataFrame:
    """Draw the funnel; return its rows, which the velocity section reuses."""
    funnel = processing.funnel(queries.stage_funnel(params))
    if funnel.is_empty() or funnel["deals"].max() == 0:
        st.info("No deal was created in this period.")
    else:
        show(charts.funnel(funnel))
    return funnel


def _velocity(funnel: pl.DataFrame) -> None:
    velocity = processing.velocity(funnel)
    if velocity.is_empty():
        st.info("No deal has left a stage yet in this period.")
    else:
        show(charts.velocity(velocity))


def _cycle(params: dict) -> None:
    cycle = queries.cycle_by_month(params)
    if cycle.is_empty():
        st.info("No deal was won in this period.")
    else:
        show(charts.cycle(cycle))


def _aging(params: dict) -> None:
    aging = processing.stage_frame(queries.open_deals_aging(params))
    if aging.is_empty():
        st.info("No open deal for these filters.")
    else:
        show(charts.aging(aging, list(processing.AGE_BUCKETS)))


def _at_risk(params: dict, flags: list[str]) -> None:
    risky = processing.stage_labels(processing.at_risk(queries.deals_at_risk(params), flags))
    if not risky.is_empty():
        a, b = st.columns([1, 2])
        a.metric("Deals at risk", f"{risky.height:,}", border=True)
        a.metric("Value at risk", money(risky["amount"].sum()), border=True)
        with b:
            show(charts.value_at_risk(processing.risk_summary(risky)))
    ui.table(
        risky,
        name="deals_at_risk",
        columns={
            "deal": ui.text_col("Deal"),
            "amount": ui.money_col("Amount"),
            "score": ui.score_col("Win chance", "The deal model's win probability, 0-100."),
            "risks": ui.list_col("Risk flags"),
            "why": ui.text_col("Why", "large"),
            "next_action": ui.text_col("Next step", "medium"),
            "stage": ui.text_col("Stage", "small"),
            "owner": ui.text_col("Owner", "small"),
            "account": ui.text_col("Account"),
            "grade": ui.text_col("Grade", "small"),
            "expected_close_date": ui.date_col("Expected close"),
            "age_days": ui.number_col("Days open", "%.0f"),
            "days_since_last_activity": ui.number_col("Days since activity", "%.0f"),
            "opportunity_id": ui.text_col("Deal id", "small"),
        },
        limit=300,
        empty="No open deal shows a risk flag for these filters.",
    )


render()
