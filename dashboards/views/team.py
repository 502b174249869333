"""Team and time: who sells, when the team works, and where its hours go."""

import polars as pl
import streamlit as st

from dashboards import charts, filters, processing, ui
from dashboards.queries import team as team_queries

RANKS = {
    "bookings": "Bookings",
    "won": "Deals won",
    "win_rate": "Win rate",
    "activities": "Activities",
}


def render() -> None:
    f = filters.current()
    filters.page_heading()
    rank = st.sidebar.selectbox("Rank reps by", list(RANKS), format_func=RANKS.get, key="team_rank")
    ui.page_header(
        "Team and time",
        "The reps' results and effort in the period, when the team works (weekday × hour), "
        "which clients take the team's time, and what that time brings back. Team and "
        "owner choose the reps; segment chooses the clients.",
        f.describe(),
    )
    params = f.params()

    with ui.section(
        "Rep leaderboard", help="Deals closed and activity logged in the period's months."
    ):
        board = team_queries.leaderboard(params)
        active = board.filter((pl.col("closed") > 0) | (pl.col("activities") > 0))
        if active.is_empty():
            st.info("No rep closed a deal or logged an activity in this period.")
        else:
            top = active.sort(rank, descending=True, nulls_last=True).head(20)
            fmt = {"bookings": charts.MONEY, "win_rate": charts.PCT}.get(rank, charts.COUNT)
            charts.show(
                charts.hbar(
                    top,
                    "rep",
                    rank,
                    value_title=RANKS[rank],
                    color="team",
                    fmt=fmt,
                    sort="-x",
                    tooltip=[
                        "rep",
                        "team",
                        charts.tip("bookings", "bookings", ",.0f"),
                        "won",
                        charts.tip("win_rate", "win rate", ".0%"),
                        "activities",
                    ],
                )
            )
        ui.table(
            active.sort(rank, descending=True, nulls_last=True),
            name="rep_leaderboard",
            columns={
                "rep": ui.text_col("Rep"),
                "team": ui.text_col("Team"),
                "role": ui.text_col("Role", "small"),
                "bookings": ui.money_col("Bookings"),
                "won": ui.number_col("Won", "%d"),
                "closed": ui.number_col("Closed", "%d"),
                "win_rate": ui.pct_col("Win rate"),
                "activities": ui.number_col("Activities", "localized"),
                "active_days": ui.number_col("Active days", "%d"),
                "leads_assigned": ui.number_col("Leads assigned", "localized"),
                "hours_to_first_response": ui.number_col(
                    "Hours to first response", "%.1f", "Median over the months of the period."
                ),
            },
            empty="No rep closed a deal or logged an activity in this period.",
        )

    with ui.section(
        "When the team works",
        help="Activities by weekday and hour of day (UTC, as the CRM stores them), over all "
        "history; darker is busier.",
    ):
        cells = processing.heatmap(team_queries.activity_heatmap(params))
        peak = processing.busiest(cells)
        if peak is None:
            st.info("No activity logged by these reps.")
        else:
            st.caption(f"Busiest hour: {peak} UTC.")
            charts.show(charts.heatmap(cells))

    left, right = st.columns(2)
    with (
        left,
        ui.section(
            "Time per client",
            help="The 15 clients the reps spent most hours on in the period, by kind of activity.",
        ),
    ):
        time = team_queries.time_per_client(params)
        if time.is_empty():
            st.info("No client time logged in this period.")
        else:
            charts.show(
                charts.hbar(
                    time,
                    "account",
                    "hours",
                    value_title="Hours",
                    color="activity_type",
                    fmt=",.0f",
                    tooltip=[
                        "account",
                        "activity_type",
                        charts.tip("hours", "hours", ",.1f"),
                        charts.tip("cost", "cost", ",.0f"),
                    ],
                )
            )
    with (
        right,
        ui.section(
            "Revenue per hour",
            help="Each dot a client: hours logged on it and the revenue it brought (won deals and "
            "invoices, all history). Top left: much revenue for little time.",
        ),
    ):
        per_hour = team_queries.revenue_per_hour(params).filter(
            (pl.col("revenue") > 0) & (pl.col("hours") > 0)
        )
        if per_hour.is_empty():
            st.info("No client with logged time for these filters.")
        else:
            charts.show(
                charts.scatter(
                    per_hour,
                    "hours",
                    "revenue",
                    x_title="Hours logged",
                    y_title="Revenue",
                    color="tier",
                    x_fmt=",.0f",
                    tooltip=[
                        "account",
                        "tier",
                        charts.tip("hours", "hours", ",.1f"),
                        charts.tip("revenue", "revenue", ",.0f"),
                        charts.tip("revenue_per_hour", "revenue per hour", ",.0f"),
                    ],
                    log_x=True,
                    log_y=True,
                )
            )
    with ui.section(None):
        ui.table(
            team_queries.revenue_per_hour(params),
            name="revenue_per_hour",
            columns={
                "account": ui.text_col("Client"),
                "tier": ui.text_col("Segment", "small"),
                "lifecycle": ui.text_col("Lifecycle", "small"),
                "hours": ui.number_col("Hours", "%.1f"),
                "cost": ui.money_col("Cost of time"),
                "revenue": ui.money_col("Revenue"),
                "revenue_per_hour": ui.money_col("Revenue per hour"),
                "account_id": ui.text_col("Account id", "small"),
            },
            limit=300,
            empty="No client with logged time for these filters.",
        )


render()
