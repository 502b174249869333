"""Data quality: what ingest set aside and why, how fresh each source is, likely duplicates."""

import streamlit as st

from dashboards import filters, ui
from dashboards.charts import quality as charts
from dashboards.charts.style import show
from dashboards.processing import quality as processing
from dashboards.queries import quality as queries


def render() -> None:
    """Draw the page: quarantine, freshness, loads, completeness, duplicates."""
    filters.current()
    entities, min_score = _page_filters()
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
        _quarantine()

    left, right = st.columns(2)
    with (
        left,
        ui.section(
            "Freshness of every source",
            help="Days between each table's newest record and the newest record of any table; the "
            "status judges its age by the wall clock (warn after 2 days, error after 7).",
        ),
    ):
        _freshness()
    with right, ui.section("Latest loads", help="The last load of every table (ops.ingest_log)."):
        _latest_loads()
    with ui.section(None):
        _freshness_table()

    with ui.section(
        "Completeness of key fields",
        help="Share of empty values in the fields reports rely on (owners, amounts, e-mails…), "
        "measured where the field is expected.",
    ):
        _completeness()

    with ui.section(
        "Duplicate candidates",
        help="Pairs of records that look like the same company or person, for someone to "
        "review and merge in the CRM.",
    ):
        _duplicates(entities, min_score)


def _page_filters() -> tuple[list[str] | None, float]:
    """The page's own filters in the sidebar: kinds of duplicates, lowest match score."""
    filters.page_heading()
    entities = st.sidebar.segmented_control(
        "Duplicates of",
        list(processing.ENTITIES),
        format_func=processing.ENTITIES.get,
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
    return entities, min_score


def _quarantine() -> None:
    quarantine = queries.quarantine()
    if quarantine.is_empty():
        st.success("No row was quarantined.", icon=":material/check_circle:")
        return
    total = quarantine["rows"].sum()
    st.caption(f"{total:,} rows in quarantine across {quarantine['table_name'].n_unique()} tables.")
    show(charts.quarantined(quarantine))
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


def _freshness() -> None:
    fresh = queries.freshness()
    if fresh.is_empty():
        st.info("No freshness figures yet.")
        return
    show(charts.freshness(fresh))
    stale = processing.stale(fresh)
    if stale.height:
        st.caption(
            f":material/warning: {stale.height} table(s) older than 2 days by the wall "
            "clock: is the export still running?"
        )


def _latest_loads() -> None:
    ui.table(
        queries.latest_loads(),
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


def _freshness_table() -> None:
    ui.table(
        queries.freshness(),
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


def _completeness() -> None:
    nulls = processing.incomplete(queries.null_rates())
    if nulls.is_empty():
        st.success("Every key field is filled in.", icon=":material/check_circle:")
    else:
        show(charts.empty_fields(processing.emptiest(nulls)))


def _duplicates(entities: list[str] | None, min_score: float) -> None:
    pairs = queries.duplicates(list(entities or []), float(min_score))
    if not pairs.is_empty():
        st.caption(f"{pairs.height:,} candidate pairs.")
        show(charts.pairs_by_rule(processing.pairs_by_rule(pairs)))
    ui.table(
        processing.entity_labels(pairs),
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
