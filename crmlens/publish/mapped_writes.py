"""What a full-form mapping sends to the CRM's table, in the publish's transaction.

The rows that changed arrive in a temporary table shaped like the target (its own
column types: enums, ``jsonb``, dates); then, by the mapping's mode:

- ``update``: the rows matching a key are updated; keys no longer output have the
  mapped columns cleared (never the row deleted);
- ``insert``: rows whose key is not in the table yet are inserted; nothing else;
- ``upsert``: matching rows are updated, the others inserted;
- ``replace``: ``upsert``, then the rows the mapping owns (carrying all of its
  constants and its ``on_insert`` values) whose key crmlens no longer outputs are deleted.

``on_insert`` columns are written when a row is inserted and never updated: the CRM's
users own them afterwards (a task's status), and a row whose value they changed is no
longer crmlens's to delete.

No unique index is needed on the key: matching is a join on the key columns.
Counts are PostgreSQL's own (rows it inserted, updated, deleted).
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
from psycopg import sql

from crmlens import sql as queries
from crmlens.publish.mapped import MappingError, Plan, constant_fits
from crmlens.publish.postgres_writes import Destination, copy_rows, update_from


def target_types(pg: psycopg.Connection, destination: Destination) -> dict[str, str]:
    """Check the target table against the mapping; its column -> data_type.

    Raises:
        MappingError: the table is missing, a key or column is not one of its columns,
            or a constant does not fit its column's type.
    """
    plan = destination.plan
    text = re.sub(r"\$(\w+)", r"%(\1)s", queries.load("crmlens.publish", "target_columns"))
    types = dict(
        pg.execute(text, {"schema": destination.schema, "table": destination.table}).fetchall()
    )
    where = f"{plan.where} ({destination.qualified})"
    if not types:
        raise MappingError(f"{where}, target: the table does not exist")
    for field, names in (
        ("key", plan.key),
        ("columns", list(plan.columns)),
        ("constants", list(plan.constants)),
        ("on_insert", list(plan.on_insert)),
    ):
        for name in names:
            if name not in types:
                raise MappingError(f"{where}, {field}: {name!r} is not a column of the table")
    for field, values in (("constants", plan.constants), ("on_insert", plan.on_insert)):
        for name, value in values.items():
            if not constant_fits(value, types[name]):
                raise MappingError(
                    f"{where}, {field}.{name}: {value!r} does not fit its type {types[name]}"
                )
    return types


def owned(plan: Plan) -> tuple[sql.Composable, list]:
    """The condition (on alias ``t``) of the rows the mapping owns, and its parameters."""
    marks = {**plan.constants, **plan.on_insert}
    if not marks:
        return sql.SQL("true"), []
    condition = sql.SQL(" and ").join(
        sql.SQL("t.{} is not distinct from %s").format(sql.Identifier(c)) for c in marks
    )
    return condition, list(marks.values())


def write_mapped(
    pg: psycopg.Connection,
    destination: Destination,
    columns: list[str],
    rows_file: Path,
    gone: list[tuple],
    full: bool,
) -> tuple[int, int, int]:
    """Send the changed rows and remove the gone ones, by the mapping's mode.

    Args:
        pg: the connection of the publish's transaction.
        destination: the target, with its plan.
        columns: the target columns, in the file's order (key first).
        rows_file: the changed rows (CSV, no header).
        gone: the keys crmlens output last time and no longer does.
        full: every current row is in ``rows_file`` (a full resync).

    Returns:
        Rows inserted, updated and deleted (or cleared).

    Raises:
        MappingError: PostgreSQL refused the rows (a value that does not fit its column,
            a required column the mapping does not fill): nothing is written.
    """
    try:
        return _write(pg, destination, columns, rows_file, gone, full)
    except (psycopg.DataError, psycopg.IntegrityError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise MappingError(
            f"{destination.plan.where} ({destination.qualified}): PostgreSQL refused the "
            f"rows: {first}"
        ) from None


def _write(
    pg: psycopg.Connection,
    destination: Destination,
    columns: list[str],
    rows_file: Path,
    gone: list[tuple],
    full: bool,
) -> tuple[int, int, int]:
    plan = destination.plan
    target = sql.Identifier(destination.schema, destination.table)
    staging = sql.Identifier("_crmlens_incoming")
    _shaped_like(pg, staging, target, columns)
    copy_rows(pg, staging, columns, rows_file)
    pg.execute(sql.SQL("analyze {}").format(staging))  # a hash join, not a loop per row
    on = _on(plan.key, "s")
    values = [c for c in columns if c not in plan.key and c not in plan.on_insert]
    inserted = updated = deleted = 0
    if plan.mode == "replace" and full:
        # The state was lost or moved: every owned row not output now goes (first, while
        # the table's statistics still describe it: a hash anti-join, not a loop per row).
        condition, params = owned(plan)
        deleted = pg.execute(
            sql.SQL(
                "delete from {} as t where {} and not exists (select 1 from {} as s where {})"
            ).format(target, condition, staging, on),
            params,
        ).rowcount
    if plan.mode != "insert" and values:
        updated = pg.execute(update_from(target, staging, values, on)).rowcount
    if plan.mode != "update":
        names = sql.SQL(", ").join(map(sql.Identifier, columns))
        inserted = pg.execute(
            sql.SQL(
                "insert into {} ({}) select {} from {} as s "
                "where not exists (select 1 from {} as t where {})"
            ).format(target, names, names, staging, target, on)
        ).rowcount
    if gone and plan.mode in ("update", "replace"):
        deleted += _remove(pg, destination, target, _keys_table(pg, target, plan, gone))
    return inserted, updated, deleted


def _on(key: tuple[str, ...], alias: str) -> sql.Composed:
    return sql.SQL(" and ").join(
        sql.SQL("t.{} = {}.{}").format(sql.Identifier(k), sql.Identifier(alias), sql.Identifier(k))
        for k in key
    )


def _shaped_like(
    pg: psycopg.Connection, staging: sql.Identifier, target: sql.Identifier, columns: list[str]
) -> None:
    pg.execute(
        sql.SQL("create temp table {} on commit drop as select {} from {} with no data").format(
            staging, sql.SQL(", ").join(map(sql.Identifier, columns)), target
        )
    )


def _keys_table(
    pg: psycopg.Connection, target: sql.Identifier, plan: Plan, keys: list[tuple]
) -> sql.Identifier:
    """The keys in a temporary table shaped like the target's key columns."""
    gone = sql.Identifier("_crmlens_gone")
    _shaped_like(pg, gone, target, list(plan.key))
    statement = sql.SQL("copy {} ({}) from stdin").format(
        gone, sql.SQL(", ").join(map(sql.Identifier, plan.key))
    )
    with pg.cursor() as cur, cur.copy(statement) as copy:
        for row in keys:
            copy.write_row(row)
    pg.execute(sql.SQL("analyze {}").format(gone))
    return gone


def _remove(
    pg: psycopg.Connection, destination: Destination, target: sql.Identifier, keys: sql.Identifier
) -> int:
    """The rows of keys no longer output: deleted if owned (replace), else their mapped
    columns cleared (update). Returns the rows deleted or cleared."""
    plan = destination.plan
    if plan.mode == "replace":
        condition, params = owned(plan)
        return pg.execute(
            sql.SQL("delete from {} as t using {} as s where {} and {}").format(
                target, keys, _on(plan.key, "s"), condition
            ),
            params,
        ).rowcount
    cleared = [c for c in plan.columns if c not in plan.key]
    if not cleared:
        return 0
    return pg.execute(
        sql.SQL("update {} as t set {} from {} as s where {}").format(
            target,
            sql.SQL(", ").join(sql.SQL("{} = null").format(sql.Identifier(c)) for c in cleared),
            keys,
            _on(plan.key, "s"),
        )
    ).rowcount
