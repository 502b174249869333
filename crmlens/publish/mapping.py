"""Publish mappings: the score contract renamed onto a CRM's own tables.

A mapping (YAML) says, per score table, which CRM table receives it, how rows
match, and which CRM column each contract column lands in. Columns absent from the
CRM table are created. Example (``crmlens/specs/publish_operational_crm.yml``)::

    name: operational_crm
    tables:
      lead_scores:
        target: crm.leads            # schema.table in the CRM's database
        match: {lead_id: lead_id}    # contract key -> CRM column
        columns:                     # contract column -> CRM column
          score: lead_score
          grade: lead_grade
          reasons: lead_score_reasons

Only rows whose mapped content changed are updated; a lead that is no longer
scored (it converted) has its score columns cleared, never its row deleted.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from crmlens.publish.contract import SCORE_TABLES, ScoreTable
from crmlens.publish.postgres_writes import Destination


class MappedTable(BaseModel):
    """Where one score table lands in the CRM: its table, how rows match, column names."""

    model_config = ConfigDict(extra="forbid")

    target: str
    match: dict[str, str]
    columns: dict[str, str]


class PublishMapping(BaseModel):
    """A publish mapping as written in YAML."""

    model_config = ConfigDict(extra="forbid")

    name: str
    tables: dict[str, MappedTable]


class MappingError(ValueError):
    """A publish mapping that cannot be used, with a message naming the problem."""


def load_mapping(path: str | Path) -> list[tuple[ScoreTable, Destination]]:
    """Read and check a publish mapping.

    Args:
        path: the mapping (YAML).

    Returns:
        Per mapped score table, the table and its destination in the CRM.

    Raises:
        MappingError: the file is missing or malformed, or names unknown tables or columns.
    """
    path = Path(path)
    if not path.exists():
        raise MappingError(f"publish mapping {path} does not exist")
    try:
        mapping = PublishMapping.model_validate(yaml.safe_load(path.read_text()))
    except (ValidationError, yaml.YAMLError) as exc:
        raise MappingError(f"publish mapping {path} is malformed: {exc}") from None
    out = []
    for name, mapped in mapping.tables.items():
        if name not in SCORE_TABLES:
            raise MappingError(f"publish mapping {path}: {name!r} is not a score table")
        table = SCORE_TABLES[name]
        if set(mapped.match) != set(table.key):
            raise MappingError(f"publish mapping {path}, {name}: match must map {list(table.key)}")
        unknown = [c for c in mapped.columns if c not in table.columns]
        if unknown:
            raise MappingError(
                f"publish mapping {path}, {name}: unknown contract columns {unknown}"
            )
        schema, _, crm_table = mapped.target.rpartition(".")
        out.append(
            (
                table,
                Destination(
                    name=f"{name}__{mapping.name}",
                    schema=schema or "public",
                    table=crm_table,
                    key=dict(mapped.match),
                    columns=dict(mapped.columns),
                    own_table=False,
                ),
            )
        )
    return out
