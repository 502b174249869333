"""The families crmlens trains and scores, with the feature builder each one uses."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from models.common.family import Family


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
