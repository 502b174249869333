"""Team and time: who sells, when the team works, and where its hours go."""

import streamlit as st

from dashboards import filters, ui
from dashboards.charts import team as charts
from dashboards.charts.style import show
from dashboards.processing import team as processing
from dashboards.queries import team as queries

RANKS = {
    "bookings": "Bookings",
    "won": "Deals won",
    "win_rate": "Win rate",
    "activities": "Activities",
}


def render() -> None:
    """Draw the page: leaderboard, when the team works, time per client, revenue per hour."""
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
        _leaderboard(params, rank)

    with ui.section(
        "When the team works",
        help="Activities by weekday and hour of day (UTC, as the CRM stores them), over all "
        "history; darker is busier.",
    ):
        _heatmap(params)

    left, right = st.columns(2)
    with (
        left,
        ui.section(
            "Time per client",
            help="The 15 clients the reps spent most hours on in the period, by kind of activity.",
        ),
    ):
        _time_per_client(params)
    with (
        right,
        ui.section(
            "Revenue per hour",
            help="Each dot a client: hours logged on it and the revenue it brought (won deals and "
            "invoices, all history). Top left: much revenue for little time.",
        ),
    ):
        _revenue_per_hour(params)
    with ui.section(None):
        _revenue_per_hour_table(params)


def _leaderboard(params: dict, rank: str) -> None:
    active = processing.active_reps(queries.leaderboard(params))
    if active.is_empty():
        st.info("No rep closed a deal or logged an activity in this period.")
    else:
        show(charts.leaderboard(processing.ranked(active, rank).head(20), rank, RANKS[rank]))
    ui.table(
        processing.ranked(active, rank),
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


def _heatmap(params: dict) -> None:
    cells = processing.heatmap(queries.activity_heatmap(params))
    peak = processing.busiest(cells)
    if peak is None:
        st.info("No activity logged by these reps.")
    else:
        st.caption(f"Busiest hour: {peak} UTC.")
        show(charts.heatmap(cells))


def _time_per_client(params: dict) -> None:
    time = queries.time_per_client(params)
    if time.is_empty():
        st.info("No client time logged in this period.")
    else:
        show(charts.time_per_client(time))


def _revenue_per_hour(params: dict) -> None:
    per_hour = processing.earning(queries.revenue_per_hour(params))
    if per_hour.is_empty():
        st.info("No client with logged time for these filters.")
    else:
        show(charts.revenue_per_hour(per_hour))


def _revenue_per_hour_table(params: dict) -> None:
    ui.table(
        queries.revenue_per_hour(params),
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
