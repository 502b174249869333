"""Point-in-time features of leads, and the lead-scoring training set.

Snapshots are taken at fixed ages of a lead (0, 3, 7, 14, 30, 60, 120 and 240
days after it was created), while it is still open (neither converted nor disqualified
before that moment): the moments a lead score is looked at. Age 0 is the moment
of creation, when only the lead's own fields and any anonymous browsing already
stitched to it are known. The label is "converted within 90 days after the
snapshot", and a snapshot enters a training set only once those 90 days have
passed (its label is observed). The source's spec may set another horizon, or the
mode ``one_outcome_per_row`` for a table of past leads: then each lead is one
snapshot at its creation, labelled with its final outcome, and only the leads whose
outcome is settled by the data's today train (:mod:`features.labels`).

Features, all from rows timed strictly before ``as_of``:

- fit: source, first campaign's channel, the account's industry, size, tier and
  region (or the lead's own company fields), the contact's seniority and title,
  creation month and weekday, the lead's custom attributes (typed as the CRM has
  them: a CRM's custom fields carry much of its signal);
- engagement: events of the lead, or of its contact, by type in the last 7, 30
  and 90 days, days since the last pricing view, demo request, e-mail click, form
  and any event;
- activities: reps' calls, e-mails, meetings… in the last 30 and 90 days, days
  since the last one, hours from creation to the first response;
- age of the lead at the snapshot;
- context: the source's dated series as known at the snapshot (``ctx_<series>_<column>``,
  :mod:`features.context`).

The lead's *current* status is never a feature: it is what happened afterwards.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandera.polars as pa
import polars as pl

from crmlens import sql
from crmlens.contracts import ACTIVITY_TYPES
from crmlens.sources.labels import DEFAULT_HORIZON_DAYS
from features import context
from features.common import (
    FeatureSet,
    counts_per_type_and_window,
    custom_columns,
    event_window_sql,
    fill_counts,
    qualified,
    run,
    select,
    select_list,
    split_custom,
)
from features.labels import LabelConfig, read_label

# Young leads are scored most often; older ones still are, so training covers them too.
SNAPSHOT_AGES_DAYS = (0, 3, 7, 14, 30, 60, 120, 240)
LABEL_HORIZON_DAYS = DEFAULT_HORIZON_DAYS["lead_scoring"]
WINDOWS = (7, 30, 90)
RECENCY_TYPES = ("pricing_view", "demo_request", "email_click", "form_submit")
ACTIVITY_WINDOWS = (30, 90)
CATEGORICAL = [
    "source",
    "campaign_channel",
    "industry",
    "tier",
    "region",
    "seniority",
    "title",
]
BASE_NUMERIC = [
    "lead_age_days",
    "created_month",
    "created_weekday",
    "employee_count",
    "annual_revenue",
    "known_contact",
]
# Columns the fit block may take from the account, else from the lead's custom fields.
_FIT_FROM_ACCOUNT = ("industry", "employee_count")
# ...and those the lead's own custom fields fill in when the account (or contact) has none.
_LEAD_FALLBACKS = (*_FIT_FROM_ACCOUNT, "title")


class LeadFeaturesSchema(pa.DataFrameModel):
    """The lead feature table: one row per (lead, as_of); custom attributes may follow."""

    lead_id: str = pa.Field(nullable=False, description="The lead.")
    as_of: datetime = pa.Field(
        nullable=False, description="Snapshot time; every input is before it."
    )
    lead_age_days: float = pa.Field(ge=0, description="Days since the lead was created.")
    events_total: int = pa.Field(
        ge=0, description="Events of the lead in the 90 days before as_of."
    )
    activities_total: int = pa.Field(ge=0, description="Rep activities on the lead before as_of.")
    days_since_last_event: float = pa.Field(
        nullable=True, ge=0, description="Recency of engagement."
    )
    hours_to_first_response: float = pa.Field(
        nullable=True, ge=0, description="Creation to first rep activity."
    )
    counts: int = pa.Field(
        alias=r"^[a-z_]+_(7|30|90)d$",
        regex=True,
        ge=0,
        description="Event and activity counts per window.",
    )

    class Config:
        strict = False
        unique = ["lead_id", "as_of"]


def training_snapshots(
    con: duckdb.DuckDBPyConnection,
    today: datetime,
    ages: tuple[int, ...] = SNAPSHOT_AGES_DAYS,
    horizon_days: int | None = None,
    label: LabelConfig | None = None,
) -> pl.DataFrame:
    """Every open-lead snapshot whose label is observed (or, one outcome per row, every
    lead whose final outcome is settled).

    Args:
        con: Warehouse connection (reads the staging views).
        today: The data's today: a snapshot's horizon must have ended by then.
        ages: Days after a lead's creation at which it is snapshotted.
        horizon_days: Days after the snapshot in which a conversion counts (default: the
            label definition's).
        label: The label definition (default: the source's, from the warehouse).

    Returns:
        lead_id, as_of, snapshot_age_days, label (1: converted within the horizon) and
        label_known_at, by as_of then lead_id.
    """
    label = label or read_label(con, "lead_scoring")
    horizon = label.horizon_days if horizon_days is None else horizon_days
    params = {"today": today, "horizon_days": horizon, "converted": list(label.statuses)}
    if label.one_outcome_per_row:
        return select(con, "lead_final_outcomes", **params)
    return select(con, "lead_training_snapshots", ages=list(ages), **params)


def scoring_population(con: duckdb.DuckDBPyConnection, as_of: datetime) -> pl.DataFrame:
    """The leads open at ``as_of``: the population a daily scoring run scores.

    Args:
        con: Warehouse connection.
        as_of: The scoring moment.

    Returns:
        lead_id and as_of, by lead_id.
    """
    return select(con, "lead_scoring_population", as_of=as_of)


def build(con: duckdb.DuckDBPyConnection, snapshots: pl.DataFrame) -> FeatureSet:
    """Features of each (lead_id, as_of) snapshot; extra snapshot columns are kept.

    Args:
        con: Warehouse connection (reads the staging views).
        snapshots: lead_id and as_of, and any other columns (a label) to carry along.

    Returns:
        The feature frame (validated by :class:`LeadFeaturesSchema`) and the roles of
        its columns.
    """
    lead_custom = custom_columns(con, "leads")
    custom = {
        c: t for c, t in lead_custom.items() if c not in (*_FIT_FROM_ACCOUNT, "title")
    }  # industry, size and title are taken through coalesce(account or contact, lead)
    custom_numeric, custom_categorical = split_custom(custom)
    event_aggs, event_cols = event_window_sql(WINDOWS, RECENCY_TYPES)
    activity_aggs, activity_cols = _activity_counts()
    query = sql.fill_fragments(
        sql.load("features", "lead_features"),
        **{f"lead_{c}": f", l.{c}" if c in lead_custom else "" for c in _LEAD_FALLBACKS},
        custom_columns=qualified(custom_numeric + custom_categorical, "l"),
        event_aggregates=event_aggs,
        activity_aggregates=activity_aggs,
    )
    frame = run(con, query, snapshots)
    counts = [
        c for c in event_cols + activity_cols + ["activities_total"] if not c.startswith("days_")
    ]
    frame = fill_counts(frame, counts).drop("contact_id", "account_id", "created_at")
    numeric = (
        BASE_NUMERIC
        + event_cols
        + activity_cols
        + ["activities_total", "days_since_last_activity", "hours_to_first_response"]
        + custom_numeric
    )
    categorical = CATEGORICAL + custom_categorical
    LeadFeaturesSchema.validate(frame)
    features = FeatureSet(
        frame=frame, id_column="lead_id", numeric=numeric, categorical=categorical
    )
    return context.attach(con, features)


def _activity_counts() -> tuple[str, list[str]]:
    """Reps' activities per type and window: the select-list fragment and its columns."""
    exprs, names = counts_per_type_and_window(
        "a", "activity_type", ACTIVITY_TYPES, ACTIVITY_WINDOWS, prefix="activity_"
    )
    return select_list(exprs), names
