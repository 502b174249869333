"""The families crmlens trains and scores, with the feature builder each one uses."""

from __future__ import annotations

import dataclasses
import importlib
import re
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType

from features.labels import LabelConfig
from models.common.family import Family, GateContext


@dataclass(frozen=True)
class FamilySpec:
    family: Family
    features: ModuleType  # training_snapshots / scoring_population / build
    training_table: str  # features.<name>
    scores_table: str  # ml.<name>
    staging: tuple[str, ...]  # the staging views its features read
    intermediate: tuple[str, ...] = ()  # and the dbt intermediate models they read

    @property
    def name(self) -> str:
        return self.family.name

    def configured(self, label: LabelConfig) -> FamilySpec:
        """The family as the source's label definition makes it: its horizon, and, with
        one outcome per row, one outcome per entity (no entity both trains and validates).

        Args:
            label: the family's label definition (:func:`features.labels.read_labels`).

        Returns:
            This spec with its family's horizon, positive label and grouping set.
        """
        family = self.family
        positive = re.sub(r"\b\d+ days\b", f"{label.horizon_days} days", family.positive_label)
        if label.one_outcome_per_row:
            positive = re.sub(r" within \d+ days", "", positive) + " (final outcome)"
        family = dataclasses.replace(
            family,
            horizon_days=label.horizon_days,
            positive_label=positive,
            one_outcome_per_entity=family.one_outcome_per_entity or label.one_outcome_per_row,
        )
        return dataclasses.replace(self, family=family)

    def gate_context(self, label: LabelConfig, population: int, today: datetime) -> GateContext:
        """What the gate needs to explain itself (see :class:`GateContext`)."""
        return GateContext(
            family=self.name,
            entity=self.family.entity,
            population=population,
            horizon_days=label.horizon_days,
            mode=label.mode,
            data_end=today,
        )


_SPECS = (
    (
        "models.lead_scoring",
        "features.lead",
        "lead_training",
        "lead_scores",
        ("leads", "events", "activities", "accounts", "contacts", "campaign_members", "campaigns"),
        ("int_lead_touches",),
    ),
    (
        "models.deal_scoring",
        "features.opportunity",
        "opportunity_training",
        "opportunity_scores",
        (
            "opportunities",
            "opportunity_stage_history",
            "activities",
            "accounts",
            "subscriptions",
            "events",
        ),
        (),
    ),
    (
        "models.churn",
        "features.account",
        "account_training",
        "churn_scores",
        ("accounts", "subscriptions", "events", "contacts", "tickets", "invoices"),
        (),
    ),
)


def families() -> list[FamilySpec]:
    """Every family, in a fixed order."""
    out = []
    for model_module, features_module, training, scores, staging, intermediate in _SPECS:
        family = importlib.import_module(model_module).FAMILY
        features = importlib.import_module(features_module)
        out.append(FamilySpec(family, features, training, scores, staging, intermediate))
    return out


def family(name: str) -> FamilySpec:
    """The family named ``name``.

    Raises:
        KeyError: No family has that name.
    """
    for spec in families():
        if spec.name == name:
            return spec
    raise KeyError(f"unknown model family {name!r}; known: {[s.name for s in families()]}")
