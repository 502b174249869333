"""A full-form publish mapping, applied in the warehouse: the rows the CRM table receives.

:func:`materialise` turns ``publish.<table>`` into the target's own rows — its column
names, the transformed values, the constants — in ``publish_mapped.<destination>``,
and returns a score table and destination over those rows, so that the ordinary
sync (:mod:`crmlens.publish.postgres`) hashes them, sends only what changed and
remembers what it sent. Columns that come from the contract's stamp (``scored_at``,
``run_id`` …) are written but do not on their own make a row changed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from crmlens.publish.contract import ScoreTable
from crmlens.publish.transforms import apply
from crmlens.warehouse import quote_ident, replace_table

if TYPE_CHECKING:
    from crmlens.publish.postgres_writes import Destination

log = logging.getLogger(__name__)

MAPPED_SCHEMA = "publish_mapped"


class MappingError(ValueError):
    """A publish mapping that cannot be used, with one line naming file, table and field."""


@dataclass(frozen=True)
class MappedColumn:
    """How one target column is computed: a contract column or expression, transformed."""

    source: str | None  # a contract column
    sql: str | None = None  # or a DuckDB expression over the contract row
    transform: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """A checked full-form mapping of one score table onto one CRM table."""

    mode: str  # update | insert | upsert | replace
    key: tuple[str, ...]  # target columns rows match on
    columns: dict[str, MappedColumn]  # target column -> how it is computed
    constants: dict[str, Any]  # target column -> literal
    where: str  # "publish mapping <file>, <table>", for messages
    condition: str | None = None  # DuckDB condition over the contract row: the rows sent
    on_insert: dict[str, Any] = field(default_factory=dict)  # set on insert, never updated

    @property
    def target_columns(self) -> list[str]:
        """Every column written: key first, then the others."""
        rest = [c for c in [*self.columns, *self.constants, *self.on_insert] if c not in self.key]
        return [*self.key, *rest]


def materialise(
    con: duckdb.DuckDBPyConnection, table: ScoreTable, destination: Destination
) -> tuple[ScoreTable, Destination]:
    """Compute the target's rows from ``publish.<table>``.

    Args:
        con: a read-write connection to the warehouse.
        table: the score table.
        destination: a destination with a :class:`Plan`.

    Returns:
        The score table and destination over ``publish_mapped.<destination name>``
        (its key is the target key; its columns the target's names).

    Raises:
        MappingError: an expression fails, or the key does not identify one row.
    """
    plan = destination.plan
    frame = _contract_rows(con, table, plan)
    exprs = []
    for target, column in plan.columns.items():
        value = pl.col(column.source if column.source else f"__sql__{target}")
        if column.transform:
            value = apply(column.transform, value, column.options)
        exprs.append(value.alias(target))
    exprs += [pl.lit(v).alias(c) for c, v in {**plan.constants, **plan.on_insert}.items()]
    try:
        out = frame.select(exprs).select(plan.target_columns)
    except pl.exceptions.PolarsError as exc:
        raise MappingError(f"{plan.where}: a transform failed: {_first_line(exc)}") from None
    keyed = out.drop_nulls(list(plan.key))
    keyless, out = out.height - keyed.height, keyed
    if keyless:  # such a row could never be matched again: it is not sent
        log.warning("%s: %d rows without a key (%s) not published", plan.where, keyless, plan.key)
    duplicates = out.height - out.select(plan.key).n_unique()
    if duplicates:
        raise MappingError(
            f"{plan.where}, key: {list(plan.key)} does not identify one row "
            f"({duplicates} rows share a key with another)"
        )
    replace_table(con, MAPPED_SCHEMA, destination.name, out)
    stamp = tuple(
        c for c, m in plan.columns.items() if m.source in table.stamp and c not in plan.key
    )
    content = tuple(c for c in plan.target_columns if c not in plan.key and c not in stamp)
    mapped_table = ScoreTable(
        name=table.name,
        source=f"{MAPPED_SCHEMA}.{destination.name}",
        key=plan.key,
        content=content,
        stamp=stamp,
        description=table.description,
    )
    mapped_destination = replace(
        destination,
        key={k: k for k in plan.key},
        columns={c: c for c in plan.target_columns if c not in plan.key},
        rows_from=f"{MAPPED_SCHEMA}.{quote_ident(destination.name)}",
    )
    return mapped_table, mapped_destination


def _contract_rows(con: duckdb.DuckDBPyConnection, table: ScoreTable, plan: Plan) -> pl.DataFrame:
    """``publish.<table>``, with one ``__sql__<target>`` column per expression."""
    select = "*"
    for target, column in plan.columns.items():
        if column.sql:
            select += f", ({column.sql}) as {quote_ident('__sql__' + target)}"
    where = f" where ({plan.condition})" if plan.condition else ""
    try:
        return con.sql(f"select {select} from publish.{table.name}{where}").pl()
    except duckdb.Error as exc:
        raise MappingError(f"{plan.where}: an sql expression failed: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def constant_fits(value: Any, pg_type: str) -> bool:
    """Whether a constant fits a PostgreSQL column (its ``information_schema`` data_type)."""
    if value is None:
        return True
    if pg_type in ("smallint", "integer", "bigint"):
        return isinstance(value, int) and not isinstance(value, bool)
    if pg_type in ("numeric", "real", "double precision"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if pg_type == "boolean":
        return isinstance(value, bool)
    return isinstance(value, str)
