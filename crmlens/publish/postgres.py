"""Target 3: PostgreSQL — only the rows that changed, one transaction per table.

What was last published is remembered in the warehouse (``publish.pg_state__<name>``:
the key and a hash of each row's content, and the target it went to). A publish
hashes the current rows, and the difference is exactly what PostgreSQL receives:

- inserted and changed rows: COPY into a temporary table, then one upsert;
- removed rows: deleted (contract tables) or cleared (mapped CRM tables);
- unchanged rows: nothing.

All of it, and a row in the target's ``sync_log``, commits in one transaction:
a reader of the CRM sees the previous scores or the new ones. A lost connection
is retried with backoff; when the attempts run out the publish fails with a
clear message, the previous scores stay in place, and the remembered state does
not move, so the next run sends the same difference again. The remembered state
only moves after PostgreSQL has committed. If the target table is found empty or
is another database than last time, everything is sent again.

Two shapes of target:

- the contract table itself, in a schema of its own (``crmlens.lead_scores``);
- a publish mapping onto the CRM's own table (``crm.leads``): contract columns
  are renamed onto CRM columns (created if absent) and written with an UPDATE
  of the matching rows (see :mod:`crmlens.publish.mapping`).

Errors never carry the DSN's password (:func:`crmlens.sources.postgres.describe_dsn`).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

from crmlens.publish.contract import ScoreTable
from crmlens.sources.postgres import describe_dsn
from crmlens.warehouse import fetch_one, quote_ident, table_exists

log = logging.getLogger(__name__)

_PG_TYPES = {
    "VARCHAR": "text",
    "DOUBLE": "double precision",
    "FLOAT": "double precision",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "BOOLEAN": "boolean",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
}
JSON_COLUMNS = ("reasons", "risk_flags")

SYNC_LOG_DDL = """
create table if not exists ops.sync_log (
    run_id varchar, target varchar, table_name varchar, inserted bigint, updated bigint,
    unchanged bigint, deleted bigint, failed boolean, attempts integer, seconds double,
    error varchar, synced_at timestamp
)
"""


@dataclass
class SyncResult:
    table: str
    target: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: bool = False
    attempts: int = 0
    seconds: float = 0.0
    full_resync: bool = False
    error: str | None = None

    @property
    def written(self) -> int:
        return self.inserted + self.updated + self.deleted


@dataclass(frozen=True)
class Destination:
    """Where and how a score table lands in PostgreSQL."""

    name: str  # identifies the remembered state
    schema: str
    table: str
    key: dict[str, str]  # contract key column -> target column
    columns: dict[str, str]  # contract column -> target column (key excluded)
    own_table: bool  # True: the contract table itself; False: columns of a CRM table

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"


def contract_destination(table: ScoreTable, schema: str) -> Destination:
    return Destination(
        name=table.name,
        schema=schema,
        table=table.name,
        key={k: k for k in table.key},
        columns={c: c for c in table.columns if c not in table.key},
        own_table=True,
    )


@dataclass
class _Diff:
    changed: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted_keys: list[tuple] = field(default_factory=list)
    full: bool = False


def sync(
    con: duckdb.DuckDBPyConnection,
    table: ScoreTable,
    destination: Destination,
    dsn: str,
    run_id: str,
    *,
    max_attempts: int = 4,
    backoff_seconds: float = 0.5,
    before_commit: Callable[[psycopg.Connection], None] | None = None,
) -> SyncResult:
    """Publish ``publish.<table>`` to PostgreSQL, sending only what changed."""
    started = time.perf_counter()
    target = f"{describe_dsn(dsn)}/{destination.qualified}"
    result = SyncResult(table=table.name, target=target)
    con.execute(SYNC_LOG_DDL)
    state = f"publish.pg_state__{destination.name}"
    _prepare_state(con, table, state)
    content = [c for c in table.content if c in destination.columns or destination.own_table]
    # DuckDB's own row hash: fast (no serialisation). Should a DuckDB upgrade change it,
    # every row looks changed once and is sent once more: correct, only slower.
    digest = "hash(" + ", ".join(quote_ident(c) for c in content) + ")"
    keys = ", ".join(quote_ident(k) for k in table.key)
    con.execute(
        f"create or replace temp table _current as select {keys}, {digest} as row_hash "
        f"from publish.{table.name}"
    )
    remembered_target = fetch_one(con, f"select any_value(target) from {state}")[0]
    with tempfile.TemporaryDirectory(prefix="crmlens-publish-") as tmp:
        rows_file = Path(tmp) / "rows.csv"
        error: Exception | None = None
        for attempt in range(1, max_attempts + 1):
            result.attempts = attempt
            try:
                with psycopg.connect(dsn, connect_timeout=10) as pg:
                    diff = _write(
                        con,
                        pg,
                        table,
                        destination,
                        state,
                        remembered_target,
                        target,
                        rows_file,
                        run_id,
                        before_commit,
                    )
                error = None
                break
            except psycopg.OperationalError as exc:
                error = exc
                log.warning(
                    "publish %s: connection lost (attempt %d): %s", target, attempt, _reason(exc)
                )
                if attempt < max_attempts:
                    time.sleep(backoff_seconds * 2 ** (attempt - 1))
        if error is not None:
            result.failed = True
            result.error = (
                f"publishing {table.name} to {target} failed after {result.attempts} attempt(s): "
                f"{_reason(error)}; the previous scores are still in place"
            )
            result.seconds = time.perf_counter() - started
            _log(con, run_id, result)
            raise ConnectionError(result.error) from None
    # PostgreSQL committed: only now does the remembered state move — by the rows that
    # changed (all of them after a full resync).
    con.execute("begin transaction")
    if diff.full:
        con.execute(f"delete from {state}")
        con.execute(f"insert into {state} select *, ? as target from _current", [target])
    else:
        on = " and ".join(f"s.{quote_ident(k)} = c.{quote_ident(k)}" for k in table.key)
        con.execute(f"delete from {state} s using _send c where {on}")
        if diff.deleted_keys:
            con.execute(
                f"delete from {state} s where not exists (select 1 from _current c where {on})"
            )
        con.execute(
            f"insert into {state} select {keys}, row_hash, ? from _send",
            [target],
        )
    con.execute("commit")
    result.inserted, result.updated = diff.inserted, diff.updated
    result.unchanged, result.deleted = diff.unchanged, len(diff.deleted_keys)
    result.full_resync = diff.full
    result.seconds = time.perf_counter() - started
    _log(con, run_id, result)
    return result


def _prepare_state(con: duckdb.DuckDBPyConnection, table: ScoreTable, state: str) -> None:
    if table_exists(con, *state.split(".")):
        return
    # The key columns keep their published types (a forecast's period is a date).
    keys = ", ".join(quote_ident(k) for k in table.key)
    con.execute(
        f"create table {state} as select {keys}, null::ubigint as row_hash, "
        f"null::varchar as target from publish.{table.name} where false"
    )


def _write(
    con: duckdb.DuckDBPyConnection,
    pg: psycopg.Connection,
    table: ScoreTable,
    destination: Destination,
    state: str,
    remembered_target: str | None,
    target: str,
    rows_file: Path,
    run_id: str,
    before_commit: Callable[[psycopg.Connection], None] | None,
) -> _Diff:
    """One attempt: ensure the target, send the difference, log, commit."""
    key_cols = list(table.key)
    target_ident = sql.Identifier(destination.schema, destination.table)
    pg_types = _pg_types(con, table)
    _ensure_target(pg, destination, pg_types)
    empty = pg.execute(
        sql.SQL("select not exists (select 1 from {} limit 1)").format(target_ident)
    ).fetchone()[0]
    remembered_rows = fetch_one(con, f"select count(*) from {state}")[0]
    full = remembered_target != target or (empty and remembered_rows > 0) or remembered_rows == 0
    on = " and ".join(f"c.{quote_ident(k)} = s.{quote_ident(k)}" for k in key_cols)
    if full:
        con.execute(
            "create or replace temp table _send as select *, 'insert' as _action from _current"
        )
        deleted = []
        if destination.own_table and not empty:
            pg.execute(sql.SQL("truncate {}").format(target_ident))
    else:
        con.execute(
            f"create or replace temp table _send as "
            f"select c.*, case when s.row_hash is null then 'insert' else 'update' end as _action "
            f"from _current c left join {state} s on {on} "
            f"where s.row_hash is distinct from c.row_hash"
        )
        deleted = con.execute(
            f"select {', '.join('s.' + quote_ident(k) for k in key_cols)} from {state} s "
            f"anti join _current c on {on}"
        ).fetchall()
    counts = dict(con.execute("select _action, count(*) from _send group by 1").fetchall())
    diff = _Diff(
        inserted=counts.get("insert", 0),
        updated=counts.get("update", 0),
        deleted_keys=deleted,
        full=full,
    )
    diff.unchanged = (
        fetch_one(con, "select count(*) from _current")[0] - diff.inserted - diff.updated
    )
    columns = [*key_cols, *destination.columns]
    select = ", ".join(f"p.{quote_ident(c)}" for c in columns)
    con.execute(
        f"copy (select {select} from publish.{table.name} p semi join _send s on "
        f"{' and '.join(f'p.{quote_ident(k)} = s.{quote_ident(k)}' for k in key_cols)}) "
        f"to '{rows_file}' (format csv, header false)"
    )
    target_cols = [
        destination.key[c] if c in destination.key else destination.columns[c] for c in columns
    ]
    if diff.inserted or diff.updated:
        if full and destination.own_table:
            _copy(pg, target_ident, target_cols, rows_file)  # an empty table: straight in
        else:
            _upsert(pg, destination, target_ident, target_cols, pg_types, columns, rows_file)
    if deleted:
        _remove(pg, destination, target_ident, key_cols, pg_types, deleted)
    _pg_sync_log(pg, destination, run_id, table.name, diff)
    if before_commit is not None:
        before_commit(pg)
    pg.commit()
    return diff


def _pg_types(con: duckdb.DuckDBPyConnection, table: ScoreTable) -> dict[str, str]:
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'publish' and table_name = ?",
            [table.name],
        ).fetchall()
    )
    out = {}
    for column in table.columns:
        if column in JSON_COLUMNS:
            out[column] = "jsonb"
        else:
            out[column] = _PG_TYPES.get(str(types.get(column, "VARCHAR")).split("(")[0], "text")
    return out


def _ensure_target(
    pg: psycopg.Connection, destination: Destination, pg_types: dict[str, str]
) -> None:
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
    else:
        for column, crm_column in destination.columns.items():
            pg.execute(
                sql.SQL("alter table {} add column if not exists {} {}").format(
                    target, sql.Identifier(crm_column), sql.SQL(pg_types[column])
                )
            )
    pg.execute(
        sql.SQL(
            "create table if not exists {} (run_id text, table_name text, inserted bigint, "
            "updated bigint, deleted bigint, full_resync boolean, synced_at timestamp)"
        ).format(sql.Identifier(destination.schema, "sync_log"))
    )


def _copy(
    pg: psycopg.Connection, target: sql.Composed, columns: list[str], rows_file: Path
) -> None:
    statement = sql.SQL("copy {} ({}) from stdin with (format csv)").format(
        target, sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    with pg.cursor() as cur, cur.copy(statement) as copy, rows_file.open("rb") as src:
        while block := src.read(1 << 20):
            copy.write(block)


def _upsert(
    pg: psycopg.Connection,
    destination: Destination,
    target: sql.Composed,
    target_cols: list[str],
    pg_types: dict[str, str],
    columns: list[str],
    rows_file: Path,
) -> None:
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
    _copy(pg, staging, target_cols, rows_file)
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
        pg.execute(
            sql.SQL("update {} as t set {} from {} as s where {}").format(
                target,
                sql.SQL(", ").join(
                    sql.SQL("{} = s.{}").format(sql.Identifier(c), sql.Identifier(c))
                    for c in values
                ),
                staging,
                sql.SQL(" and ").join(
                    sql.SQL("t.{} = s.{}").format(sql.Identifier(k), sql.Identifier(k))
                    for k in keys
                ),
            )
        )


def _remove(
    pg: psycopg.Connection,
    destination: Destination,
    target: sql.Composed,
    key_cols: list[str],
    pg_types: dict[str, str],
    deleted: list[tuple],
) -> None:
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


def _pg_sync_log(
    pg: psycopg.Connection, destination: Destination, run_id: str, table: str, diff: _Diff
) -> None:
    pg.execute(
        sql.SQL("insert into {} values (%s, %s, %s, %s, %s, %s, %s)").format(
            sql.Identifier(destination.schema, "sync_log")
        ),
        [
            run_id,
            destination.table if destination.own_table else f"{destination.table} ({table})",
            diff.inserted,
            diff.updated,
            len(diff.deleted_keys),
            diff.full,
            datetime.now(UTC).replace(tzinfo=None),
        ],
    )


def _log(con: duckdb.DuckDBPyConnection, run_id: str, r: SyncResult) -> None:
    con.execute(
        "insert into ops.sync_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            r.target,
            r.table,
            r.inserted,
            r.updated,
            r.unchanged,
            r.deleted,
            r.failed,
            r.attempts,
            r.seconds,
            r.error,
            datetime.now(UTC).replace(tzinfo=None),
        ],
    )


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__
