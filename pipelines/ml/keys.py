"""Names of the ML assets and the warehouse tables they write, per model family."""

from __future__ import annotations

from dagster import AssetKey

from models.families import FamilySpec


def training_key(spec: FamilySpec) -> AssetKey:
    """``features/<entity>_training_set``."""
    return AssetKey(["features", f"{spec.family.entity}_training_set"])


def challenger_key(spec: FamilySpec) -> AssetKey:
    """``ml/<family>_challenger``."""
    return AssetKey(["ml", f"{spec.name}_challenger"])


def champion_key(spec: FamilySpec) -> AssetKey:
    """``ml/<family>_champion``."""
    return AssetKey(["ml", f"{spec.name}_champion"])


def scores_key(spec: FamilySpec) -> AssetKey:
    """``ml/<entity>_scores``."""
    return AssetKey(["ml", spec.scores_table])


def scoring_features_table(spec: FamilySpec) -> str:
    """features.<entity>_scoring: the feature rows of today's scoring run (drift reads it)."""
    return f"{spec.family.entity}_scoring"


def reference_table(spec: FamilySpec) -> str:
    """features.<entity>_scoring_reference: the first scoring run of the current model."""
    return f"{spec.family.entity}_scoring_reference"
