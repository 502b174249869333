"""Campaigns: reach and response, the revenue each one is credited with, and its return."""

import polars as pl
import streamlit as st

from dashboards import charts, filters, processing, ui
from dashboards.queries import campaigns as campaign_queries

LEVELS = {"channel": "Channel", "name": "Campaign"}


def render() -> None:
    f = filters.current()
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
    ui.page_header(
        "Campaigns",
        "Campaigns started in the period: who they reached, the deals and revenue they are "
        "credited with under each attribution model, and their return on cost. Owner and "
        "segment apply to the credited deals.",
        f.describe(),
    )
    params = f.params()

    with ui.section(None) as loaded:
        campaigns = campaign_queries.campaigns(params)
        if campaigns.is_empty():
            st.info("No campaign started in this period.")
            return
        credit = campaign_queries.attribution(params)
        roi = processing.campaign_roi(campaigns, credit)
        cost = campaigns["cost"].sum() or 0.0
        revenue = roi[f"revenue_{model}"].sum()
        a, b, c, d = st.columns(4)
        a.metric("Campaigns", f"{campaigns.height:,}", border=True)
        b.metric("Cost", processing.money(cost), border=True)
        c.metric(
            "Credited revenue",
            processing.money(revenue),
            help=f"Won deal value credited under the {processing.MODELS[model].lower()} model.",
            border=True,
        )
        d.metric(
            "Return on cost",
            processing.pct((revenue - cost) / cost, 0) if cost else "–",
            help="(credited revenue − cost) ÷ cost.",
            border=True,
        )
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
        by = processing.attribution_by(credit, campaigns, level).filter(
            pl.col("attribution_model") == model
        )
        if by.is_empty() or by["revenue"].sum() == 0:
            st.info("No won deal is credited to these campaigns for these filters.")
        else:
            charts.show(
                charts.hbar(
                    by.head(15),
                    level,
                    "revenue",
                    value_title="Credited revenue",
                    tooltip=[
                        level,
                        charts.tip("revenue", "revenue", ",.0f"),
                        charts.tip("pipeline", "pipeline", ",.0f"),
                    ],
                )
            )
    with (
        right,
        ui.section(
            "Attribution models compared",
            help="The same revenue credited three ways: where the models disagree, a campaign "
            "opens conversations (first touch) or closes them (last touch).",
        ),
    ):
        compare = processing.attribution_by(credit, campaigns, "channel")
        if compare.is_empty():
            st.info("No deal is credited to these campaigns.")
        else:
            charts.show(
                charts.grouped_bars(
                    compare, "channel", "revenue", "model", y_title="Credited revenue"
                )
            )

    with ui.section(
        "Cost and return",
        help="Each dot a campaign: its cost and the revenue credited to it (chosen model). "
        "Above the diagonal, it paid for itself.",
    ):
        chosen = roi.with_columns(revenue=pl.col(f"revenue_{model}"), roi=pl.col(f"roi_{model}"))
        uncredited = chosen.filter(pl.col("revenue") <= 0).height
        if uncredited:
            st.caption(f"{uncredited} campaign(s) with no credited revenue are not drawn.")
        charts.show(charts.cost_vs_revenue(chosen))

    with ui.section("Campaign performance"):
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
