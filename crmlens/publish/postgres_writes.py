"""The statements one publish sends to PostgreSQL: the target, the rows, the sync log.

Everything runs on the caller's connection inside its transaction; nothing here
commits. Identifiers are composed with psycopg (never formatted into text).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from crmlens.clock import utc_now

if TYPE_CHECKING:
    from crmlens.publish.mapped import Plan


@dataclass(frozen=True)
class Destination:
    """Where and how a score table lands in PostgreSQL."""

    name: str  # identifies the remembered state
    schema: str
    table: str
    key: dict[str, str]  # contract key column -> target column
    columns: dict[str, str]  # contract column -> target column (key excluded)
    own_table: bool  # True: the contract table itself; False: columns of a CRM table
    plan: Plan | None = None  # a full-form mapping (modes, keys, constants, transforms)
    rows_from: str | None = None  # the warehouse relation of its rows (default publish.<table>)

    @property
    def qualified(self) -> str:
        """``schema.table``."""
        return f"{self.schema}.{self.table}"


def ensure_target(
    pg: psycopg.Connection, destination: Destination, pg_types: dict[str, str]
) -> None:
    """Create the schema, the contract table (or the CRM table's score columns), the sync log;
    add the columns a newer contract has to a contract table made by an older one.

    Args:
        pg: the connection of the publish's transaction.
        destination: where the scores land.
        pg_types: contract column -> PostgreSQL type.
    """
    schema = sql.Identifier(destination.schema)
    target = sql.Identifier(destination.schema, destination.table)
    pg.execute(sql.SQL("create schema if not exists {}").format(schema))
    if destination.own_table:
        columns = [*destination.key, *destination.columns]
        pg.execute(
            sql.SQL("create table if not exists {} ({}, primary key ({}))").format(
                target,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(pg_types[c]))
                    for c in columns
                ),
                sql.SQL(", ").join(sql.Identifier(k) for k in destination.key),
            )
        )
    # A CRM table's score columns; the contract table's columns added since it was made.
    # Only the missing ones: an ALTER TABLE locks out the CRM's readers even when it
    # changes nothing.
    present = {
        name
        for (name,) in pg.execute(
            "select column_name from information_schema.columns "
            "where table_schema = %s and table_name = %s",
            [destination.schema, destination.table],
        ).fetchall()
    }
    for column, crm_column in destination.columns.items():
        if crm_column in present:
            continue
        pg.execute(
            sql.SQL("alter table {} add column if not exists {} {}").format(
                target, sql.Identifier(crm_column), sql.SQL(pg_types[column])
            )
        )
    ensure_sync_log(pg, destination)


def ensure_sync_log(pg: psycopg.Connection, destination: Destination) -> None:
    """Create the schema's ``sync_log`` if absent (one row per publish of a table).

    Args:
        pg: the connection of the publish's transaction.
        destination: where the scores land.
    """
    pg.execute(
        sql.SQL(
            "create table if not exists {} (run_id text, table_name text, inserted bigint, "
            "updated bigint, deleted bigint, full_resync boolean, synced_at timestamp)"
        ).format(sql.Identifier(destination.schema, "sync_log"))
    )


def copy_rows(
    pg: psycopg.Connection, target: sql.Composed, columns: list[str], rows_file: Path
) -> None:
    """COPY a headerless CSV file into ``target``.

    Args:
        pg: the connection of the publish's transaction.
        target: the table.
        columns: its columns, in the file's order.
        rows_file: the CSV file.
    """
    statement = sql.SQL("copy {} ({}) from stdin with (format csv)").format(
        target, sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    with pg.cursor() as cur, cur.copy(statement) as copy, rows_file.open("rb") as src:
        while block := src.read(1 << 20):
            copy.write(block)


def upsert_rows(
    pg: psycopg.Connection,
    destination: Destination,
    target: sql.Composed,
    target_cols: list[str],
    pg_types: dict[str, str],
    columns: list[str],
    rows_file: Path,
) -> None:
    """Insert or update the rows of ``rows_file`` by key (a CRM table: update only).

    Args:
        pg: the connection of the publish's transaction.
        destination: where the scores land.
        target: the target table.
        target_cols: the target's columns, in the file's order.
        pg_types: contract column -> PostgreSQL type.
        columns: the contract columns, in the file's order.
        rows_file: the rows to send (CSV, no header).
    """
    staging = sql.Identifier("_crmlens_incoming")
    pg.execute(
        sql.SQL("create temp table {} ({}) on commit drop").format(
            staging,
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(t), sql.SQL(pg_types[c]))
                for t, c in zip(target_cols, columns, strict=True)
            ),
        )
    )
    copy_rows(pg, staging, target_cols, rows_file)
    keys = [destination.key[k] for k in destination.key]
    values = [c for c in target_cols if c not in keys]
    if destination.own_table:
        pg.execute(
            sql.SQL(
                "insert into {} ({}) select {} from {} on conflict ({}) do update set {}"
            ).format(
                target,
                sql.SQL(", ").join(map(sql.Identifier, target_cols)),
                sql.SQL(", ").join(map(sql.Identifier, target_cols)),
                staging,
                sql.SQL(", ").join(map(sql.Identifier, keys)),
                sql.SQL(", ").join(
                    sql.SQL("{} = excluded.{}").format(sql.Identifier(c), sql.Identifier(c))
                    for c in values
                ),
            )
        )
    else:
        on = sql.SQL(" and ").join(
            sql.SQL("t.{} = s.{}").format(sql.Identifier(k), sql.Identifier(k)) for k in keys
        )
        pg.execute(update_from(target, staging, values, on))


def update_from(
    target: sql.Composable, staging: sql.Composable, values: list[str], on: sql.Composable
) -> sql.Composed:
    """``update target as t set c = s.c, … from staging as s where on``: the target's rows
    matched ``on`` take the staged values of ``values``."""
    return sql.SQL("update {} as t set {} from {} as s where {}").format(
        target,
        sql.SQL(", ").join(
            sql.SQL("{} = s.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in values
        ),
        staging,
        on,
    )


def remove_rows(
    pg: psycopg.Connection,
    destination: Destination,
    target: sql.Composed,
    key_cols: list[str],
    pg_types: dict[str, str],
    deleted: list[tuple],
) -> None:
    """Delete the rows of keys no longer scored (a CRM table: clear their score columns).

    Args:
        pg: the connection of the publish's transaction.
        destination: where the scores land.
        target: the target table.
        key_cols: the contract's key columns.
        pg_types: contract column -> PostgreSQL type.
        deleted: the keys to remove.
    """
    keys = [destination.key[k] for k in key_cols]
    gone = sql.Identifier("_crmlens_gone")
    pg.execute(
        sql.SQL("create temp table {} ({}) on commit drop").format(
            gone,
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(destination.key[k]), sql.SQL(pg_types[k]))
                for k in key_cols
            ),
        )
    )
    with (
        pg.cursor() as cur,
        cur.copy(
            sql.SQL("copy {} ({}) from stdin").format(
                gone, sql.SQL(", ").join(map(sql.Identifier, keys))
            )
        ) as copy,
    ):
        for row in deleted:
            copy.write_row(row)
    match = sql.SQL(" and ").join(
        sql.SQL("t.{} = g.{}").format(sql.Identifier(k), sql.Identifier(k)) for k in keys
    )
    if destination.own_table:
        pg.execute(
            sql.SQL("delete from {} as t using {} as g where {}").format(target, gone, match)
        )
    else:  # a CRM row is never deleted by crmlens: its score columns are cleared
        cleared = sql.SQL(", ").join(
            sql.SQL("{} = null").format(sql.Identifier(c)) for c in destination.columns.values()
        )
        pg.execute(
            sql.SQL("update {} as t set {} from {} as g where {}").format(
                target, cleared, gone, match
            )
        )


def log_sync(
    pg: psycopg.Connection,
    destination: Destination,
    run_id: str,
    table: str,
    counts: tuple[int, int, int],
    full: bool,
) -> None:
    """Add a row to the target's own ``sync_log``, in the publish's transaction.

    Args:
        pg: the connection of the publish's transaction.
        destination: where the scores land.
        run_id: the run publishing.
        table: the score table's name.
        counts: rows inserted, updated and deleted.
        full: whether everything was sent again.
    """
    inserted, updated, deleted = counts
    pg.execute(
        sql.SQL("insert into {} values (%s, %s, %s, %s, %s, %s, %s)").format(
            sql.Identifier(destination.schema, "sync_log")
        ),
        [
            run_id,
            destination.table if destination.own_table else f"{destination.table} ({table})",
            inserted,
            updated,
            deleted,
            full,
            utc_now(),
        ],
    )
