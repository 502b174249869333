"""Pipeline: what is open, how deals move through the stages, and which ones are at risk."""

import streamlit as st

from dashboards import charts, filters, processing, ui
from dashboards.queries import pipeline as pipeline_queries


def render() -> None:
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
        stages = processing.stage_frame(pipeline_queries.open_by_stage(params))
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
                    tooltip=[
                        "stage",
                        "deals",
                        charts.tip("amount", "value", ",.0f"),
                        charts.tip("avg_age_days", "average age (days)", ".0f"),
                    ],
                )
            )
    with (
        right,
        ui.section(
            "Stage funnel",
            help="Deals created in the period: how many reached each stage (having spent time "
            "in it or moved past it), and the share of the previous stage that got there.",
        ),
    ):
        funnel = processing.funnel(pipeline_queries.stage_funnel(params))
        if funnel.is_empty() or funnel["deals"].max() == 0:
            st.info("No deal was created in this period.")
        else:
            charts.show(charts.funnel(funnel))

    left, right = st.columns(2)
    with (
        left,
        ui.section(
            "Velocity: days in each stage",
            help="Average days the deals created in the period spent in a stage, over the deals "
            "that have left it.",
        ),
    ):
        velocity = (
            funnel.filter(funnel["avg_days_in_stage"].is_not_null()) if funnel.height else funnel
        )
        if velocity.is_empty():
            st.info("No deal has left a stage yet in this period.")
        else:
            charts.show(
                charts.hbar(
                    velocity,
                    "stage",
                    "avg_days_in_stage",
                    value_title="Average days in stage",
                    fmt=".0f",
                    sort=velocity["stage"].to_list(),
                    tooltip=["stage", charts.tip("avg_days_in_stage", "days", ".1f")],
                )
            )
    with (
        right,
        ui.section(
            "Cycle length of won deals", help="Days from creation to winning, by month of closing."
        ),
    ):
        cycle = pipeline_queries.cycle_by_month(params)
        if cycle.is_empty():
            st.info("No deal was won in this period.")
        else:
            charts.show(
                charts.line(
                    cycle,
                    "month",
                    "median_cycle_days",
                    y_title="Median days to win",
                    fmt=".0f",
                    tooltip=[
                        charts.tip("month", "month", None, "T"),
                        "won",
                        charts.tip("median_cycle_days", "median days", ".0f"),
                        charts.tip("avg_cycle_days", "average days", ".0f"),
                    ],
                )
            )

    with ui.section("Aging of open deals", help="Open deals by how long they have been open."):
        aging = processing.stage_frame(pipeline_queries.open_deals_aging(params))
        if aging.is_empty():
            st.info("No open deal for these filters.")
        else:
            charts.show(charts.aging(aging, list(processing.AGE_BUCKETS)))

    with ui.section(
        "Deals at risk",
        help="Open deals with at least one warning sign, largest first, with the deal "
        "model's win probability, the reasons behind it and the next step to take.",
    ):
        risky = processing.stage_labels(
            processing.at_risk(pipeline_queries.deals_at_risk(params), flags)
        )
        if not risky.is_empty():
            summary = processing.risk_summary(risky)
            a, b = st.columns([1, 2])
            a.metric("Deals at risk", f"{risky.height:,}", border=True)
            a.metric("Value at risk", processing.money(risky["amount"].sum()), border=True)
            with b:
                charts.show(
                    charts.hbar(
                        summary,
                        "risk",
                        "amount",
                        value_title="Value of the deals with the flag",
                        bar_color=charts.RISK,
                        tooltip=["risk", "deals", charts.tip("amount", "value", ",.0f")],
                        height=160,
                    )
                )
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
