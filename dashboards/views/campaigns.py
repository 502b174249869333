"""Campaigns: reach and response, the revenue each one is credited with, and its return."""

import polars as pl
import streamlit as st

from dashboards import filters, ui
from dashboards.charts import campaigns as charts
from dashboards.charts.style import show
from dashboards.processing import campaigns as processing
from dashboards.processing.formatting import money, pct
from dashboards.queries import campaigns as queries

LEVELS = {"channel": "Channel", "name": "Campaign"}


def render() -> None:
    """Draw the page: totals, credited revenue, the models compared, cost and return."""
    f = filters.current()
    model, level = _page_filters()
    ui.page_header(
        "Campaigns",
        "Campaigns started in the period: who they reached, the deals and revenue they are "
        "credited with under each attribution model, and their return on cost. Owner and "
        "segment apply to the credited deals.",
        f.describe(),
    )
    params = f.params()

    with ui.section(None) as loaded:
        campaigns = queries.campaigns(params)
        if campaigns.is_empty():
            st.info("No campaign started in this period.")
            return
        credit = queries.attribution(params)
        roi = processing.campaign_roi(campaigns, credit)
        _headline(campaigns, roi, model)
    if not loaded.ok:
        return

    left, right = st.columns(2)
    with (
        left,
        ui.section(
            f"Credited revenue by {LEVELS[level].lower()}",
            help="Won deal value credited under the chosen model.",
        ),
    ):
        _credited(credit, campaigns, level, model)
    with (
        right,
        ui.section(
            "Attribution models compared",
            help="The same revenue credited three ways: where the models disagree, a campaign "
            "opens conversations (first touch) or closes them (last touch).",
        ),
    ):
        _compared(credit, campaigns)

    with ui.section(
        "Cost and return",
        help="Each dot a campaign: its cost and the revenue credited to it (chosen model). "
        "Above the diagonal, it paid for itself.",
    ):
        _cost_and_return(roi, model)

    with ui.section("Campaign performance"):
        _performance(roi, model)


def _page_filters() -> tuple[str, str]:
    """The page's own filters in the sidebar: attribution model, grouping."""
    filters.page_heading()
    model = st.sidebar.radio(
        "Attribution",
        list(processing.MODELS),
        format_func=processing.MODELS.get,
        index=2,
        key="campaigns_model",
        help="First touch credits the campaign that reached the buyer first; last touch the "
        "last one before the deal; linear shares the credit equally.",
    )
    level = st.sidebar.radio(
        "Group by", list(LEVELS), format_func=LEVELS.get, key="campaigns_level"
    )
    return model, level


def _headline(campaigns: pl.DataFrame, roi: pl.DataFrame, model: str) -> None:
    cost = campaigns["cost"].sum() or 0.0
    revenue = roi[f"revenue_{model}"].sum()
    a, b, c, d = st.columns(4)
    a.metric("Campaigns", f"{campaigns.height:,}", border=True)
    b.metric("Cost", money(cost), border=True)
    c.metric(
        "Credited revenue",
        money(revenue),
        help=f"Won deal value credited under the {processing.MODELS[model].lower()} model.",
        border=True,
    )
    d.metric(
        "Return on cost",
        pct((revenue - cost) / cost, 0) if cost else "–",
        help="(credited revenue − cost) ÷ cost.",
        border=True,
    )


def _credited(credit: pl.DataFrame, campaigns: pl.DataFrame, level: str, model: str) -> None:
    by = processing.attribution_by(credit, campaigns, level).filter(
        pl.col("attribution_model") == model
    )
    if by.is_empty() or by["revenue"].sum() == 0:
        st.info("No won deal is credited to these campaigns for these filters.")
    else:
        show(charts.credited_revenue(by, level))


def _compared(credit: pl.DataFrame, campaigns: pl.DataFrame) -> None:
    compare = processing.attribution_by(credit, campaigns, "channel")
    if compare.is_empty():
        st.info("No deal is credited to these campaigns.")
    else:
        show(charts.models_compared(compare))


def _cost_and_return(roi: pl.DataFrame, model: str) -> None:
    chosen = processing.under_model(roi, model)
    uncredited = chosen.filter(pl.col("revenue") <= 0).height
    if uncredited:
        st.caption(f"{uncredited} campaign(s) with no credited revenue are not drawn.")
    show(charts.cost_vs_revenue(chosen))


def _performance(roi: pl.DataFrame, model: str) -> None:
    ui.table(
        roi.sort(f"revenue_{model}", descending=True),
        name="campaign_performance",
        columns={
            "name": ui.text_col("Campaign"),
            "channel": ui.text_col("Channel", "small"),
            "started_at": ui.datetime_col("Started"),
            "members": ui.number_col("Members", "localized"),
            "response_rate": ui.pct_col("Response rate"),
            "leads": ui.number_col("Leads", "localized"),
            "opportunities": ui.number_col("Deals influenced", "localized"),
            "won": ui.number_col("Won", "localized"),
            "cost": ui.money_col("Cost"),
            "cost_per_lead": ui.money_col("Cost per lead"),
            "revenue_first_touch": ui.money_col("Revenue (first touch)"),
            "revenue_last_touch": ui.money_col("Revenue (last touch)"),
            "revenue_linear": ui.money_col("Revenue (linear)"),
            "roi_first_touch": ui.pct_col("ROI (first touch)"),
            "roi_last_touch": ui.pct_col("ROI (last touch)"),
            "roi_linear": ui.pct_col("ROI (linear)"),
            "campaign_id": ui.text_col("Campaign id", "small"),
        },
    )


render()
