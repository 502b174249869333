"""Data quality: what ingest set aside and why, how fresh each source is, likely duplicates."""

import polars as pl
import streamlit as st

from dashboards import charts, filters, ui
from dashboards.queries import quality as quality_queries

ENTITIES = {"account": "Accounts", "contact": "Contacts"}


def render() -> None:
    filters.current()
    filters.page_heading()
    entities = st.sidebar.segmented_control(
        "Duplicates of",
        list(ENTITIES),
        format_func=ENTITIES.get,
        selection_mode="multi",
        key="dq_entities",
    )
    min_score = st.sidebar.slider(
        "Duplicate match score at least",
        0.5,
        1.0,
        0.7,
        0.05,
        key="dq_min_score",
        help="1.0 same e-mail; 0.9 same domain or e-mail name; 0.8 same name; 0.7 same initial.",
    )
    ui.page_header(
        "Data quality",
        "Can these numbers be trusted? Rows the ingest set aside (each with its reason), "
        "how current every source is, how complete the key fields are, and records that "
        "may be duplicates. The sidebar's period, team, owner and segment do not apply here.",
    )

    with ui.section(
        "Quarantined rows",
        help="Rows that failed a check on the way in: kept aside with the reason, never loaded "
        "and never silently dropped.",
    ):
        quarantine = quality_queries.quarantine()
        if quarantine.is_empty():
            st.success("No row was quarantined.", icon=":material/check_circle:")
        else:
            total = quarantine["rows"].sum()
            st.caption(
                f"{total:,} rows in quarantine across {quarantine['table_name'].n_unique()} tables."
            )
            charts.show(
                charts.hbar(
                    quarantine,
                    "table_name",
                    "rows",
                    value_title="Rows quarantined",
                    color="reason_code",
                    fmt=charts.COUNT,
                    tooltip=[
                        "table_name",
                        "reason_code",
                        charts.tip("rows", "rows", ","),
                        charts.tip("share_of_input", "share of input", ".2%"),
                        "sample_reason",
                    ],
                )
            )
            ui.table(
                quarantine,
                name="quarantine_summary",
                columns={
                    "table_name": ui.text_col("Table", "small"),
                    "reason_code": ui.text_col("Reason", "small"),
                    "rows": ui.number_col("Rows", "localized"),
                    "share_of_input": ui.pct_col("Share of input"),
                    "sample_reason": ui.text_col("Example", "large"),
                    "last_loaded_at": ui.datetime_col("Last load"),
                },
            )

    left, right = st.columns(2)
    with (
        left,
        ui.section(
            "Freshness of every source",
            help="Days between each table's newest record and the newest record of any table; the "
            "status judges its age by the wall clock (warn after 2 days, error after 7).",
        ),
    ):
        fresh = quality_queries.freshness()
        if fresh.is_empty():
            st.info("No freshness figures yet.")
        else:
            charts.show(charts.freshness(fresh))
            stale = fresh.filter(pl.col("freshness_status").is_in(["warn", "error"]))
            if stale.height:
                st.caption(
                    f":material/warning: {stale.height} table(s) older than 2 days by the wall "
                    "clock: is the export still running?"
                )
    with right, ui.section("Latest loads", help="The last load of every table (ops.ingest_log)."):
        loads = quality_queries.latest_loads()
        ui.table(
            loads,
            name="latest_loads",
            columns={
                "table_name": ui.text_col("Table", "small"),
                "started_at": ui.datetime_col("Loaded at"),
                "rows_in": ui.number_col("Rows in", "localized"),
                "rows_loaded": ui.number_col("Loaded", "localized"),
                "rows_quarantined": ui.number_col("Quarantined", "localized"),
                "seconds": ui.number_col("Seconds", "%.1f"),
            },
            empty="No load is logged yet.",
        )
    with ui.section(None):
        ui.table(
            quality_queries.freshness(),
            name="freshness",
            columns={
                "table_name": ui.text_col("Table", "small"),
                "freshness_status": ui.text_col("Status", "small"),
                "newest_at": ui.datetime_col("Newest record"),
                "days_behind_data": ui.number_col("Days behind the newest table", "%.1f"),
                "hours_since": ui.number_col("Hours old (wall clock)", "%.0f"),
                "rows": ui.number_col("Rows", "localized"),
                "loaded_at_column": ui.text_col("Measured on", "small"),
            },
            empty="No freshness figures yet.",
        )

    with ui.section(
        "Completeness of key fields",
        help="Share of empty values in the fields reports rely on (owners, amounts, e-mails…), "
        "measured where the field is expected.",
    ):
        nulls = quality_queries.null_rates().filter(pl.col("null_rate") > 0)
        if nulls.is_empty():
            st.success("Every key field is filled in.", icon=":material/check_circle:")
        else:
            charts.show(
                charts.hbar(
                    nulls.head(15).with_columns(
                        field=pl.format("{}.{}", "table_name", "column_name")
                    ),
                    "field",
                    "null_rate",
                    value_title="Empty",
                    fmt=charts.PCT,
                    tooltip=[
                        "field",
                        "population",
                        charts.tip("null_rate", "empty", ".2%"),
                        charts.tip("nulls", "empty rows", ","),
                    ],
                )
            )

    with ui.section(
        "Duplicate candidates",
        help="Pairs of records that look like the same company or person, for someone to "
        "review and merge in the CRM.",
    ):
        pairs = quality_queries.duplicates(list(entities or []), float(min_score))
        if not pairs.is_empty():
            counts = pairs.group_by("entity", "match_rule").agg(rows=pl.len())
            st.caption(f"{pairs.height:,} candidate pairs.")
            charts.show(
                charts.hbar(
                    counts,
                    "match_rule",
                    "rows",
                    value_title="Pairs",
                    color="entity",
                    fmt=charts.COUNT,
                    tooltip=["entity", "match_rule", charts.tip("rows", "pairs", ",")],
                    height=160,
                )
            )
        ui.table(
            pairs.with_columns(pl.col("entity").replace(ENTITIES)),
            name="duplicate_candidates",
            columns={
                "entity": ui.text_col("Kind", "small"),
                "label_a": ui.text_col("Record A", "large"),
                "label_b": ui.text_col("Record B", "large"),
                "match_rule": ui.text_col("Matched on", "small"),
                "score": ui.number_col("Score", "%.1f"),
                "matched_rules": ui.text_col("All rules"),
                "id_a": ui.text_col("Id A", "small"),
                "id_b": ui.text_col("Id B", "small"),
            },
            limit=500,
            empty="No duplicate candidates at this score.",
        )


render()
