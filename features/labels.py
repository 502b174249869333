"""Each family's label definition, as the source's spec set it (ingest recorded it).

The spec's ``labels`` (:mod:`crmlens.sources.labels`) reach the feature builders through
the warehouse (``ops.source_settings``): a training set is built from what the warehouse
says about its own data. A family the spec says nothing about keeps the defaults: the
horizon of its builder (leads 90 days, deals 180, churn 90) and dated snapshots.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb

from crmlens import sql
from crmlens.sources.labels import DEFAULT_HORIZON_DAYS
from crmlens.warehouse import fetch_one, table_exists

SNAPSHOTS = "snapshots"
ONE_OUTCOME = "one_outcome_per_row"
# What counts as converted (a lead) or churned (a subscription) when the spec does not say.
_DEFAULT_STATUSES = {"lead_scoring": ["converted"], "churn": ["cancelled", "expired"]}


@dataclass(frozen=True)
class LabelConfig:
    """How one family's label is read: horizon, mode, and the statuses that count.

    Attributes:
        family: ``lead_scoring``, ``deal_scoring`` or ``churn``.
        horizon_days: days after a snapshot in which the outcome counts.
        mode: ``snapshots`` or ``one_outcome_per_row``.
        statuses: statuses that count as the outcome without a date (converted leads,
            churned subscriptions); empty when only dates count.
        declared: whether the spec said anything about this family.
    """

    family: str
    horizon_days: int
    mode: str = SNAPSHOTS
    statuses: tuple[str, ...] = ()
    declared: bool = False

    @property
    def one_outcome_per_row(self) -> bool:
        return self.mode == ONE_OUTCOME

    def describe(self) -> dict[str, object]:
        """The definition as a training run records it (MLflow, the training set)."""
        return {"horizon_days": self.horizon_days, "label_mode": self.mode}


def label_config(family: str, said: dict | None = None) -> LabelConfig:
    """A family's definition from what a spec said about it (``{}`` or None: the defaults).

    Args:
        family: the family.
        said: the spec's ``labels.<family>`` as recorded (keys it left out take defaults).

    Returns:
        The definition.
    """
    said = said or {}
    mode = said.get("mode", SNAPSHOTS)
    key = "converted" if family == "lead_scoring" else "churned"
    statuses = said.get(key)
    if statuses is None:
        # By default a snapshot's conversion needs its date; a final outcome may be a status.
        statuses = _DEFAULT_STATUSES.get(family, []) if mode == ONE_OUTCOME else []
    return LabelConfig(
        family=family,
        horizon_days=int(said.get("horizon_days", DEFAULT_HORIZON_DAYS[family])),
        mode=mode,
        statuses=tuple(statuses),
        declared=bool(said),
    )


def read_labels(con: duckdb.DuckDBPyConnection) -> dict[str, LabelConfig]:
    """Every family's definition, from the warehouse's source settings (defaults if none).

    Args:
        con: a connection to the warehouse.

    Returns:
        Family -> its definition.
    """
    said: dict = {}
    if table_exists(con, "ops", "source_settings"):
        row = fetch_one(con, sql.load("features", "source_labels"))
        said = json.loads(row[0]) if row and row[0] else {}
    return {family: label_config(family, said.get(family)) for family in DEFAULT_HORIZON_DAYS}


def read_label(con: duckdb.DuckDBPyConnection, family: str) -> LabelConfig:
    """One family's definition (see :func:`read_labels`)."""
    return read_labels(con)[family]


def population(con: duckdb.DuckDBPyConnection, family: str) -> int:
    """How many entities of a family the source has, with a settled label or not.

    Args:
        con: a connection to the warehouse (reads the staging views).
        family: the family.

    Returns:
        Its leads, deals, or accounts with a subscription.
    """
    rows = dict(con.execute(sql.load("features", "label_populations")).fetchall())
    return int(rows.get(family, 0))
