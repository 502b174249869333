"""Publish mappings: the score contract written into a CRM's own tables.

A mapping (YAML) says, per score table, which CRM table receives it, what to do
with its rows (``mode``), how rows are matched (``key``), which CRM column each
value lands in, possibly transformed, and which columns get a constant. Today's
form (``crmlens/specs/publish_operational_crm.yml``) keeps working::

    name: operational_crm
    tables:
      lead_scores:
        target: crm.leads            # schema.table in the CRM's database
        match: {lead_id: lead_id}    # contract key -> CRM column
        columns:                     # contract column -> CRM column
          score: lead_score
          reasons: lead_score_reasons

It updates the matching rows only (missing columns are created; a lead no longer
scored has its score columns cleared). The full form::

    tables:
      lead_scores:
        target: crm.ai_scores
        mode: upsert                 # update | insert | upsert | replace
        key: [external_id, score_type]   # target columns (defined below)
        constants: {company_id: 7, score_type: combined, source: crmlens}
        columns:                     # CRM column <- {from, transform, options}
          external_id: {from: lead_id}
          explanation: {from: reasons, transform: sentence}
          priority: {from: probability, transform: band, bands: {Hot: 0.6, Warm: 0.3, Cold: 0}}
          score_pct: {from: probability, transform: percent}
          factors: {from: reasons, transform: json}
          scored_on: {from: scored_at, transform: date}
          lead_ref: {sql: "'L-' || lead_id"}   # a DuckDB expression over the contract row

(a plain string value in ``columns`` is today's contract column -> CRM column).
One score table may land in several places, or several times in one table (a row per
score type): name each entry freely and say which score table it reads with ``from``::

      lead_combined:
        from: lead_scores
        target: public.lead_scores
        mode: replace
        key: [lead_id, score_type]
        constants: {score_type: combined, company_id: 1}
      lead_engagement:
        from: lead_scores
        ...

An entry may publish only some rows: ``where`` is a DuckDB condition over the contract
row (``where: "band = 'hot'"``: an alert per hot account); with ``replace``, a row that
no longer meets it is deleted like one crmlens no longer outputs.

``replace`` is ``upsert`` plus deleting the rows the mapping owns — those carrying
all of its ``constants`` — that crmlens no longer outputs; rows without them are
never deleted. ``on_insert: {status: pending}`` sets values on the rows it inserts and
never updates them: the CRM's users own them from then on, and a row whose value they
changed (a task started) is no longer the mapping's to delete. The transforms are
:mod:`crmlens.publish.transforms`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crmlens.publish.contract import SCORE_TABLES, ScoreTable
from crmlens.publish.mapped import MappedColumn, MappingError, Plan
from crmlens.publish.postgres_writes import Destination
from crmlens.publish.transforms import OPTIONS, TRANSFORMS

__all__ = ["MappingError", "load_mapping"]

Scalar = str | int | float | bool | None


class ColumnSpec(BaseModel):
    """One CRM column: the contract column (or DuckDB expression) it comes from, transformed."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str | None = Field(default=None, alias="from")
    sql: str | None = None
    transform: str | None = None
    bands: dict[str, float] | None = None
    top: int | None = None
    direction: Literal["up", "down"] | None = None


class MappedTable(BaseModel):
    """Where one score table lands in the CRM and how."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str | None = Field(default=None, alias="from")
    target: str
    mode: Literal["update", "insert", "upsert", "replace"] = "update"
    match: dict[str, str] | None = None
    key: list[str] | dict[str, str | ColumnSpec] | None = None
    columns: dict[str, str | ColumnSpec] = Field(default_factory=dict)
    constants: dict[str, Scalar] = Field(default_factory=dict)
    on_insert: dict[str, Scalar] = Field(default_factory=dict)
    where: str | None = None


class PublishMapping(BaseModel):
    """A publish mapping as written in YAML."""

    model_config = ConfigDict(extra="forbid")

    name: str
    tables: dict[str, MappedTable]


def load_mapping(path: str | Path) -> list[tuple[ScoreTable, Destination]]:
    """Read and check a publish mapping.

    Args:
        path: the mapping (YAML).

    Returns:
        Per mapped score table, the table and its destination in the CRM.

    Raises:
        MappingError: one line naming the file, the table and the field at fault.
    """
    path = Path(path)
    if not path.exists():
        raise MappingError(f"publish mapping {path} does not exist")
    try:
        mapping = PublishMapping.model_validate(yaml.safe_load(path.read_text()))
    except yaml.YAMLError as exc:
        raise MappingError(f"publish mapping {path} is not YAML: {_one_line(exc)}") from None
    except ValidationError as exc:
        # The most specific error; a union's branch names ("str", "ColumnSpec") left out.
        first = max(exc.errors(), key=lambda e: len(e["loc"]))
        branches = ("str", "ColumnSpec", "int", "float", "bool")
        where = ".".join(str(p) for p in first["loc"] if p not in branches and "[" not in str(p))
        raise MappingError(
            f"publish mapping {path}, {where or 'top level'}: {first['msg']}"
        ) from None
    out = []
    for name, mapped in mapping.tables.items():
        where = f"publish mapping {path}, {name}"
        source = mapped.from_ or name
        if source not in SCORE_TABLES:
            field = "from" if mapped.from_ else "tables"
            raise MappingError(
                f"{where}, {field}: {source!r} is not a score table "
                f"(known: {', '.join(SCORE_TABLES)})"
            )
        table = SCORE_TABLES[source]
        schema, _, crm_table = mapped.target.rpartition(".")
        destination = Destination(
            name=f"{name}__{mapping.name}",
            schema=schema or "public",
            table=crm_table,
            key={},
            columns={},
            own_table=False,
        )
        if _is_legacy(mapped):
            out.append((table, _legacy(table, mapped, destination, where)))
        else:
            plan = _plan(table, mapped, where)
            out.append((table, replace(destination, plan=plan)))
    return out


def _is_legacy(mapped: MappedTable) -> bool:
    """Today's form: update by ``match``, contract column -> CRM column, nothing else."""
    return (
        mapped.match is not None
        and mapped.where is None
        and mapped.key is None
        and not mapped.constants
        and not mapped.on_insert
        and mapped.mode == "update"
        and all(isinstance(v, str) for v in mapped.columns.values())
    )


def _legacy(table: ScoreTable, mapped: MappedTable, base: Destination, where: str) -> Destination:
    if set(mapped.match or {}) != set(table.key):
        raise MappingError(f"{where}, match: must map {list(table.key)}")
    unknown = [c for c in mapped.columns if c not in table.columns]
    if unknown:
        raise MappingError(f"{where}, columns: unknown contract columns {unknown}")
    return replace(base, key=dict(mapped.match or {}), columns=dict(mapped.columns))


def _plan(table: ScoreTable, mapped: MappedTable, where: str) -> Plan:
    """The full form, checked: every column, transform and key known."""
    columns: dict[str, MappedColumn] = {}
    for contract_key, crm_column in (mapped.match or {}).items():
        columns[crm_column] = _column(table, ColumnSpec(**{"from": contract_key}), where, "match")
    for target, spec in _key_columns(mapped).items():
        columns[target] = _column(table, spec, where, f"key.{target}")
    for name, spec in mapped.columns.items():
        if isinstance(spec, str):  # today's form: contract column -> CRM column
            columns[spec] = _column(table, ColumnSpec(**{"from": name}), where, f"columns.{name}")
        else:
            columns[name] = _column(table, spec, where, f"columns.{name}")
    both = sorted(set(columns) & set(mapped.constants))
    if both:
        raise MappingError(f"{where}, constants.{both[0]}: also a mapped column")
    both = sorted((set(columns) | set(mapped.constants)) & set(mapped.on_insert))
    if both:
        raise MappingError(f"{where}, on_insert.{both[0]}: also a mapped column or constant")
    if isinstance(mapped.key, list):
        key = tuple(mapped.key)
    else:
        key = tuple((mapped.match or {}).values()) + tuple(_key_columns(mapped))
    if not key:
        raise MappingError(f"{where}, key: a key is required (target column(s) rows match on)")
    for k in key:
        if k not in columns and k not in mapped.constants:
            raise MappingError(f"{where}, key: {k!r} is neither a mapped column nor a constant")
    if mapped.mode == "replace" and not mapped.constants:
        raise MappingError(
            f"{where}, constants: replace needs a constant marking the rows crmlens owns "
            "(e.g. source: crmlens)"
        )
    return Plan(
        mode=mapped.mode,
        key=key,
        columns=columns,
        constants=dict(mapped.constants),
        on_insert=dict(mapped.on_insert),
        where=where,
        condition=mapped.where,
    )


def _key_columns(mapped: MappedTable) -> dict[str, ColumnSpec]:
    if not isinstance(mapped.key, dict):
        return {}
    return {
        t: ColumnSpec(**{"from": s}) if isinstance(s, str) else s for t, s in mapped.key.items()
    }


def _column(table: ScoreTable, spec: ColumnSpec, where: str, field: str) -> MappedColumn:
    """A column spec checked against the contract and the transforms."""
    if (spec.from_ is None) == (spec.sql is None):
        raise MappingError(f"{where}, {field}: give exactly one of from or sql")
    if spec.from_ is not None and spec.from_ not in table.columns:
        raise MappingError(
            f"{where}, {field}: {spec.from_!r} is not a column of {table.name} "
            f"(known: {', '.join(table.columns)})"
        )
    options = {k: v for k in ("bands", "top", "direction") if (v := getattr(spec, k)) is not None}
    if spec.transform is not None and spec.transform not in TRANSFORMS:
        raise MappingError(
            f"{where}, {field}: unknown transform {spec.transform!r} "
            f"(known: {', '.join(TRANSFORMS)})"
        )
    allowed = OPTIONS.get(spec.transform or "", set())
    extra = sorted(set(options) - allowed)
    if extra:
        raise MappingError(
            f"{where}, {field}: {extra[0]!r} is not an option of transform {spec.transform!r}"
        )
    if spec.transform == "band" and not spec.bands:
        raise MappingError(f"{where}, {field}: transform band needs bands: {{label: threshold}}")
    return MappedColumn(source=spec.from_, sql=spec.sql, transform=spec.transform, options=options)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
