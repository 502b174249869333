"""The ``vocabularies:`` of a source spec: the CRM's own labels, mapped onto canonical ones.

Example::

    vocabularies:
      opportunity_stages:         # ordered; meaning open|won|lost; probability optional
        - {label: Engaging, meaning: open, probability: 0.3}
        - {label: Won, meaning: won}
        - {label: Lost, meaning: lost}
      lead_statuses: {Open: new, Working: working, MQL: mql, SQL: sql, Dead: disqualified}
      activity_types: {Phone Call: call}

A postgres spec may read the stages from the CRM's own table instead: a ``select`` that
runs on the source database at load time and returns ``label``, ``meaning`` and
(optionally) ``probability``, one row per stage, in order::

    vocabularies:
      opportunity_stages:
        select: >-
          select name as label,
                 case when is_won then 'won' when is_lost then 'lost' else 'open' end as meaning,
                 probability / 100.0 as probability
          from crm_pipeline_stages order by order_index

:func:`crmlens.sources.postgres.read_vocabularies` runs it and checks its rows.

The fields a spec may declare, and which lists are closed, are
:data:`crmlens.contracts.VOCABULARIES`; ingest resolves them (:mod:`crmlens.ingest.vocabulary`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crmlens.contracts import OTHER, VOCABULARIES


class StageLabel(BaseModel):
    """One stage of a CRM's sales process, in the order deals move through them."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(description="The stage as the CRM names it.")
    meaning: Literal["open", "won", "lost"] = Field(
        description="A deal in it is open, won or lost."
    )
    probability: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Default probability of winning a deal in it (won 1, lost 0; an open "
        "stage without one: the observed win rate of deals that reached it).",
    )

    @field_validator("label", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        # YAML reads `1` or `2.5` as a number; a stage named so is still a label.
        return str(value) if isinstance(value, int | float) else value


class SourceSelect(BaseModel):
    """A vocabulary the source database holds: the select that reads it, at load time."""

    model_config = ConfigDict(extra="forbid")

    select: str = Field(
        description="PostgreSQL select returning label, meaning and probability (optional), "
        "one row per stage, in order."
    )


def _labels(value: Any) -> Any:
    # YAML reads keys like `1` as numbers; the CRM's label is text.
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    return value


class Vocabularies(BaseModel):
    """The CRM's own labels of the enumerated fields, mapped onto canonical values.

    Closed lists (stages, lead statuses) accept a label declared here or a canonical
    value; open lists accept any value (one neither declared nor canonical means
    ``other``). Undeclared stages that are not canonical are inferred from the data.
    """

    model_config = ConfigDict(extra="forbid")

    opportunity_stages: list[StageLabel] | SourceSelect = Field(
        default_factory=list,
        description="The CRM's stages, in order, with their meaning; or (postgres specs) a "
        "select reading them from the CRM's own table at load time.",
    )
    lead_statuses: dict[str, str] = Field(default_factory=dict)
    activity_types: dict[str, str] = Field(default_factory=dict)
    event_types: dict[str, str] = Field(default_factory=dict)
    campaign_channels: dict[str, str] = Field(default_factory=dict)
    account_tiers: dict[str, str] = Field(default_factory=dict)
    account_types: dict[str, str] = Field(default_factory=dict)

    _keys_are_labels = field_validator(
        "lead_statuses",
        "activity_types",
        "event_types",
        "campaign_channels",
        "account_tiers",
        "account_types",
        mode="before",
    )(_labels)

    def mapping(self, name: str) -> dict[str, str]:
        """CRM label -> canonical value of vocabulary ``name`` (stages: label -> meaning)."""
        if name == "opportunity_stages":
            return {s.label: s.meaning for s in self.stages}
        return dict(getattr(self, name))

    @property
    def stages(self) -> list[StageLabel]:
        """The declared stages, in order (none while a select has not been read)."""
        return [] if isinstance(self.opportunity_stages, SourceSelect) else self.opportunity_stages

    @property
    def stages_select(self) -> str | None:
        """The select reading the stages from the source database, if the spec gives one."""
        stages = self.opportunity_stages
        return stages.select if isinstance(stages, SourceSelect) else None


def check_vocabularies(vocabularies: Vocabularies) -> str | None:
    """What is wrong with a spec's vocabularies, in words (None: nothing).

    Each declared label maps onto a canonical value (open lists: or ``other``), and a
    stage is declared once.
    """
    seen: set[str] = set()
    for stage in vocabularies.stages:
        if stage.label in seen:
            return f"vocabularies.opportunity_stages: {stage.label!r} is declared twice"
        seen.add(stage.label)
    for name, vocabulary in VOCABULARIES.items():
        if name == "opportunity_stages":
            continue
        allowed = vocabulary.values if vocabulary.closed else (*vocabulary.values, OTHER)
        allowed = tuple(dict.fromkeys(allowed))
        for label, value in vocabularies.mapping(name).items():
            if value not in allowed:
                return (
                    f"vocabularies.{name}: {label!r} maps onto {value!r}, which is not a "
                    f"canonical value (the canonical values are: {', '.join(allowed)})"
                )
    return None
