"""What a spec says about its outcomes: the export date and each family's label definition.

A CRM export is a picture of one moment, and only its owner knows which (``as_of``: the
export date, the data's "today"; by default the newest timestamp in the files). How a
family's label is read from the data has sensible defaults, which a spec can change per
family (``labels``)::

    as_of: 2025-06-30
    labels:
      lead_scoring: {horizon_days: 60}                 # converted within 60 days
      deal_scoring: {mode: one_outcome_per_row}        # each deal: won or lost, once
      churn: {mode: one_outcome_per_row, churned: [cancelled, expired]}

``mode: snapshots`` (the default) takes many dated snapshots of an entity, each labelled
by what happened within ``horizon_days`` after it. ``mode: one_outcome_per_row`` is for a
table of past cases: one row per entity, labelled with its final outcome; a row whose
outcome is not settled by the data's today (an open lead, a live deal) does not train.

Ingest records both in the warehouse (``ops.source_settings``), where the clock, the
feature builders and the models read them: after ingest the pipeline reads the
warehouse, never the spec.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from crmlens.contracts import LEAD_STATUSES, SUBSCRIPTION_STATUSES

MODES = ("snapshots", "one_outcome_per_row")
# Each family's default horizon: how long after a snapshot its outcome may take to happen.
DEFAULT_HORIZON_DAYS = {"lead_scoring": 90, "deal_scoring": 180, "churn": 90}
FAMILIES = tuple(DEFAULT_HORIZON_DAYS)
# The statuses a family's `converted` / `churned` may name, and which family takes which.
_STATUS_KEYS = {
    "lead_scoring": ("converted", LEAD_STATUSES),
    "churn": ("churned", SUBSCRIPTION_STATUSES),
}


class LabelSpec(BaseModel):
    """How one family's label is read from the data (every field has a default)."""

    model_config = ConfigDict(extra="forbid")

    horizon_days: int | None = Field(
        default=None,
        gt=0,
        description="Days after a snapshot in which the outcome counts (defaults: lead "
        "scoring 90, deal scoring 180, churn 90). With one_outcome_per_row, an open lead "
        "older than this counts as not converted.",
    )
    mode: Literal["snapshots", "one_outcome_per_row"] = Field(
        default="snapshots",
        description="snapshots: dated snapshots labelled by the horizon; "
        "one_outcome_per_row: one row per entity, labelled with its final outcome.",
    )
    converted: list[str] | None = Field(
        default=None,
        description="lead_scoring: the lead statuses (canonical values) that count as "
        "converted, beside a conversion date; a lead in one of them without a date converts "
        "when it was last updated. Default: a conversion date (one_outcome_per_row: or "
        "the status `converted`).",
    )
    churned: list[str] | None = Field(
        default=None,
        description="churn, one_outcome_per_row: subscription statuses that mean the "
        "customer left even without an end date. Default: cancelled, expired.",
    )


def check_labels(labels: dict[str, LabelSpec]) -> str | None:
    """What is wrong with a spec's ``labels``, in a sentence, or None.

    Args:
        labels: the spec's ``labels``, by family.

    Returns:
        The first problem (``labels.<family>...: ...``), or None when there is none.
    """
    for family, label in labels.items():
        if family not in FAMILIES:
            return f"labels: {family!r} is not a model family (the families: {', '.join(FAMILIES)})"
        for key, statuses in (("converted", label.converted), ("churned", label.churned)):
            if statuses is None:
                continue
            own = _STATUS_KEYS.get(family)
            if own is None or own[0] != key:
                return f"labels.{family}: `{key}` belongs to another family"
            for status in statuses:
                if status not in own[1]:
                    return (
                        f"labels.{family}.{key}: {status!r} is not a canonical status (one of "
                        f"{', '.join(own[1])}); name canonical values"
                    )
    return None


def as_of_moment(value: date | datetime | None) -> datetime | None:
    """A spec's ``as_of`` as the moment it means: a date is its midnight (UTC, naive).

    The same reading as the setting ``as_of`` (``CRMLENS_AS_OF``): the data's today begins
    then, so features see what happened before it.
    """
    if value is None or isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day)


def labels_record(labels: dict[str, LabelSpec]) -> dict[str, dict]:
    """The labels as ingest records them: only what the spec said (defaults stay implicit)."""
    return {
        f: label.model_dump(exclude_none=True, exclude_defaults=True) for f, label in labels.items()
    }
