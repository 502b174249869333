"""Customers: who may leave and why, what renews soon, and how MRR moved."""

import polars as pl
import streamlit as st

from dashboards import filters, ui
from dashboards.charts import customers as charts
from dashboards.charts.style import show
from dashboards.processing import customers as processing
from dashboards.processing.formatting import money
from dashboards.processing.reasons import with_reasons
from dashboards.queries import customers as queries

BANDS = processing.RISK_LEVELS


def render() -> None:
    """Draw the page: churn risk and health, renewals, MRR movements."""
    f = filters.current()
    filters.page_heading()
    bands = st.sidebar.segmented_control(
        "Churn risk",
        list(BANDS),
        format_func=BANDS.get,
        selection_mode="multi",
        key="customers_bands",
        help="Risk bands of the churn score: high is 2.5× the average customer's risk or more.",
    )
    ui.page_header(
        "Customers",
        "The health of every customer with the reasons behind its churn risk and the next "
        "step, the renewals of the next 90 days, and where MRR came from and went. Owner "
        "and segment apply everywhere; the period applies to MRR movements.",
        f.describe(),
    )
    params = f.params()
    with ui.section(None) as loaded:
        scored = processing.in_bands(
            processing.churn_levels(with_reasons(queries.churn_risk(params))), bands
        )
        _headline(scored)
    if loaded.ok:
        _health(scored)
    _renewals(params, bands)
    _movements(params)


def _headline(scored: pl.DataFrame) -> None:
    at_risk = scored.filter(pl.col("band") == "hot")
    a, b, c, d = st.columns(4)
    a.metric("Customers scored", f"{scored.height:,}", border=True)
    b.metric("High churn risk", f"{at_risk.height:,}", border=True)
    c.metric(
        "MRR at high risk",
        money(at_risk["mrr"].sum() if at_risk.height else 0),
        help="Current MRR of the customers in the high-risk band.",
        border=True,
    )
    d.metric(
        "Average health",
        "–" if scored.is_empty() else f"{scored['health'].mean():.0f} / 100",
        help="100 minus the churn score.",
        border=True,
    )


def _health(scored: pl.DataFrame) -> None:
    left, right = st.columns([3, 2])
    with (
        left,
        ui.section(
            "Churn risk and MRR",
            help="Each dot a customer: its MRR and its churn score. Top right is where to look first.",
        ),
    ):
        if scored.is_empty():
            st.info("No scored customer matches these filters.")
        else:
            show(charts.risk_vs_mrr(scored))
    with right, ui.section("MRR by risk band", help="Current MRR in each churn-risk band."):
        if scored.is_empty():
            st.info("No scored customer matches these filters.")
        else:
            show(charts.mrr_by_risk(scored))

    with ui.section("Customers by churn risk", help="Highest risk first."):
        ui.table(
            scored,
            name="customer_health",
            columns={
                "account": ui.text_col("Customer"),
                "owner": ui.text_col("Owner", "small"),
                "tier": ui.text_col("Segment", "small"),
                "mrr": ui.money_col("MRR"),
                "health": ui.score_col("Health", "100 minus the churn score."),
                "churn_risk": ui.number_col("Churn risk", "%d"),
                "risk": ui.text_col("Risk", "small"),
                "why": ui.text_col("Why", "large"),
                "next_action": ui.text_col("Next step"),
                "next_renewal": ui.date_col("Next renewal"),
                "account_id": ui.text_col("Account id", "small"),
            },
            limit=500,
            empty="No scored customer matches these filters.",
        )


def _renewals(params: dict, bands: list[str] | None) -> None:
    with ui.section(
        "Renewals in the next 90 days",
        help="Active subscriptions whose renewal date falls within 90 days of the data's today, "
        "with the customer's churn risk.",
    ):
        renewals = processing.in_bands(
            processing.churn_levels(with_reasons(queries.renewals(params))), bands
        )
        if not renewals.is_empty():
            st.caption(
                f"{renewals.height:,} renewals worth {money(renewals['mrr'].sum())} "
                "MRR; the bigger the dot, the higher the churn risk."
            )
            show(charts.renewals_timeline(renewals.drop_nulls("risk").filter(pl.col("mrr") > 0)))
        ui.table(
            renewals,
            name="renewals_90_days",
            columns={
                "renewal_date": ui.date_col("Renews on"),
                "account": ui.text_col("Customer"),
                "owner": ui.text_col("Owner", "small"),
                "plan": ui.text_col("Plan", "small"),
                "seats": ui.number_col("Seats", "%d"),
                "mrr": ui.money_col("MRR"),
                "churn_risk": ui.number_col("Churn risk", "%d"),
                "why": ui.text_col("Why", "large"),
                "next_action": ui.text_col("Next step"),
                "subscription_id": ui.text_col("Subscription", "small"),
            },
            empty="No renewal in the next 90 days for these filters.",
        )


def _movements(params: dict) -> None:
    with ui.section(
        "MRR movements",
        help="Per month: MRR won from new and returning customers and from growth (up), lost "
        "to shrinking and leaving customers (down); the line is the net change.",
    ):
        movements = queries.mrr_movements(params)
        if movements.is_empty():
            st.info("No MRR in this period for these filters.")
        else:
            show(charts.mrr_bridge(processing.mrr_bridge(movements)))
            ui.table(
                movements,
                name="mrr_movements",
                columns={
                    "month": ui.date_col("Month"),
                    "new": ui.money_col("New"),
                    "expansion": ui.money_col("Expansion"),
                    "reactivation": ui.money_col("Reactivation"),
                    "contraction": ui.money_col("Contraction"),
                    "churn": ui.money_col("Churned"),
                    "mrr_end": ui.money_col("MRR at month end"),
                },
            )


render()
