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
not move, so the next run sends the same difference again. This loop is the only
retry of a publish (the Dagster step has no retry policy of its own), and every
session has a deadline (:mod:`crmlens.sources.pg_session`): a black-holed network
fails the attempt instead of hanging it. The remembered state
only moves after PostgreSQL has committed. If the target table is found empty or
is another database than last time, everything is sent again.

Two shapes of target:

- the contract table itself, in a schema of its own (``crmlens.lead_scores``);
- a publish mapping onto the CRM's own table (``crm.leads``): contract columns
  are renamed onto CRM columns (created if absent) and written with an UPDATE
  of the matching rows (see :mod:`crmlens.publish.mapping`);
- a full-form mapping: the target's rows are computed in the warehouse first
  (:mod:`crmlens.publish.mapped`: its key, transformed values, constants), then
  hashed and diffed like the others and inserted, upserted, updated or replaced
  by the mapping's mode (:mod:`crmlens.publish.mapped_writes`).

The statements PostgreSQL receives are in :mod:`crmlens.publish.postgres_writes`.
Errors never carry the DSN's password (:func:`crmlens.sources.postgres.describe_dsn`).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

from crmlens import sql as queries
from crmlens.clock import utc_now
from crmlens.publish.contract import ScoreTable
from crmlens.publish.mapped import materialise
from crmlens.publish.mapped_writes import owned, target_types, write_mapped
from crmlens.publish.postgres_writes import (
    Destination,
    copy_rows,
    ensure_sync_log,
    ensure_target,
    log_sync,
    remove_rows,
    upsert_rows,
)
from crmlens.sources.pg_session import SessionLimits, error_text, open_session
from crmlens.sources.postgres import PG_TYPES, describe_dsn
from crmlens.warehouse import fetch_one, quote_ident, sql_literal, table_columns, table_exists

log = logging.getLogger(__name__)

JSON_COLUMNS = ("reasons", "risk_flags")


@dataclass
class SyncResult:
    """What one publish of a table to PostgreSQL did."""

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
        """Rows PostgreSQL received: inserted, updated and deleted."""
        return self.inserted + self.updated + self.deleted


def contract_destination(table: ScoreTable, schema: str) -> Destination:
    """The contract table itself, with the contract's column names.

    Args:
        table: the score table.
        schema: the PostgreSQL schema it goes to.

    Returns:
        The destination.
    """
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
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted_keys: list[tuple] = field(default_factory=list)
    full: bool = False
    deleted: int | None = None  # rows PostgreSQL deleted (a full-form mapping), else the keys

    @property
    def removed(self) -> int:
        """Rows deleted (or cleared) in the target."""
        return len(self.deleted_keys) if self.deleted is None else self.deleted


@dataclass(frozen=True)
class _Publish:
    """One publish of one table to one destination (what every attempt shares)."""

    table: ScoreTable
    destination: Destination
    state: str  # the DuckDB table remembering what was last published
    target: str  # where it goes, without the password
    remembered_target: str | None
    run_id: str
    before_commit: Callable[[psycopg.Connection], None] | None
    limits: SessionLimits


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
    limits: SessionLimits | None = None,
) -> SyncResult:
    """Publish ``publish.<table>`` to PostgreSQL, sending only what changed.

    Args:
        con: a read-write connection to the warehouse.
        table: the score table.
        destination: where it lands (:func:`contract_destination` or a mapping's).
        dsn: the PostgreSQL database.
        run_id: recorded in both sync logs.
        max_attempts: connections tried before the publish fails.
        backoff_seconds: the wait after the first lost connection, doubled after each.
        before_commit: called with the PostgreSQL connection just before it commits
            (tests cut the connection there).
        limits: the deadlines of each session (default: :class:`SessionLimits`'s).

    Returns:
        What was inserted, updated, deleted and left unchanged.

    Raises:
        ConnectionError: every attempt lost its connection; the previous scores stay.
    """
    started = time.perf_counter()
    target = f"{describe_dsn(dsn)}/{destination.qualified}"
    result = SyncResult(table=table.name, target=target)
    con.execute(queries.load("crmlens.publish", "sync_log_table"))
    state = f"publish.pg_state__{destination.name}"
    if destination.plan is not None:  # a full-form mapping: the target's rows, computed
        table, destination = materialise(con, table, destination)
    _prepare_state(con, table, _rows(table, destination), state)
    _hash_current(con, table, destination)
    remembered_target = fetch_one(con, f"select any_value(target) from {state}")[0]
    publish = _Publish(
        table,
        destination,
        state,
        target,
        remembered_target,
        run_id,
        before_commit,
        limits or SessionLimits(),
    )
    diff = _send(con, publish, dsn, result, max_attempts, backoff_seconds)
    if diff is None:
        result.seconds = time.perf_counter() - started
        _log(con, run_id, result)
        raise ConnectionError(result.error)
    _remember(con, publish, diff)
    result.inserted, result.updated = diff.inserted, diff.updated
    result.unchanged, result.deleted = diff.unchanged, diff.removed
    result.full_resync = diff.full
    result.seconds = time.perf_counter() - started
    _log(con, run_id, result)
    return result


def _hash_current(
    con: duckdb.DuckDBPyConnection, table: ScoreTable, destination: Destination
) -> None:
    """``_current``: the key and a hash of the content of every row to publish."""
    content = [c for c in table.content if c in destination.columns or destination.own_table]
    # DuckDB's own row hash: fast (no serialisation). Should a DuckDB upgrade change it,
    # every row looks changed once and is sent once more: correct, only slower.
    digest = "hash(" + ", ".join(quote_ident(c) for c in content) + ")"
    keys = ", ".join(quote_ident(k) for k in table.key)
    con.execute(
        f"create or replace temp table _current as select {keys}, {digest} as row_hash "
        f"from {_rows(table, destination)}"
    )


def _rows(table: ScoreTable, destination: Destination) -> str:
    """The warehouse relation holding the rows to publish."""
    return destination.rows_from or f"publish.{table.name}"


def _send(
    con: duckdb.DuckDBPyConnection,
    publish: _Publish,
    dsn: str,
    result: SyncResult,
    max_attempts: int,
    backoff_seconds: float,
) -> _Diff | None:
    """Send the difference, retrying a lost connection with backoff.

    Returns:
        What was sent; ``None`` when every attempt lost its connection (``result``
        then says why).
    """
    with tempfile.TemporaryDirectory(prefix="crmlens-publish-") as tmp:
        rows_file = Path(tmp) / "rows.csv"
        error: Exception | None = None
        for attempt in range(1, max_attempts + 1):
            result.attempts = attempt
            try:
                with open_session(dsn, publish.limits) as pg:
                    return _write(con, pg, publish, rows_file)
            except psycopg.OperationalError as exc:
                error = exc
                log.warning(
                    "publish %s: connection lost (attempt %d): %s",
                    publish.target,
                    attempt,
                    error_text(exc),
                )
                if attempt < max_attempts:
                    time.sleep(backoff_seconds * 2 ** (attempt - 1))
    result.failed = True
    result.error = (
        f"publishing {publish.table.name} to {publish.target} failed after "
        f"{result.attempts} attempt(s): {error_text(error) if error else 'no attempt'}; "
        "the previous scores are still in place"
    )
    return None


def _remember(con: duckdb.DuckDBPyConnection, publish: _Publish, diff: _Diff) -> None:
    """PostgreSQL committed: only now does the remembered state move — by the rows that
    changed (all of them after a full resync)."""
    state, target = publish.state, publish.target
    con.execute("begin transaction")
    if diff.full:
        con.execute(f"delete from {state}")
        con.execute(f"insert into {state} select *, ? as target from _current", [target])
    else:
        key = publish.table.key
        on = " and ".join(f"s.{quote_ident(k)} = c.{quote_ident(k)}" for k in key)
        con.execute(f"delete from {state} s using _send c where {on}")
        if diff.deleted_keys:
            con.execute(
                f"delete from {state} s where not exists (select 1 from _current c where {on})"
            )
        keys = ", ".join(quote_ident(k) for k in key)
        con.execute(f"insert into {state} select {keys}, row_hash, ? from _send", [target])
    con.execute("commit")


def _prepare_state(
    con: duckdb.DuckDBPyConnection, table: ScoreTable, rows: str, state: str
) -> None:
    if table_exists(con, *state.split(".")):
        if list(table_columns(con, *state.split(".")))[: len(table.key)] == list(table.key):
            return
        # The mapping now keys on other columns: what was sent is forgotten, all is sent again.
        con.execute(f"drop table {state}")
    # The key columns keep their published types (a forecast's period is a date).
    keys = ", ".join(quote_ident(k) for k in table.key)
    con.execute(
        f"create table {state} as select {keys}, null::ubigint as row_hash, "
        f"null::varchar as target from {rows} where false"
    )


def _diff(con: duckdb.DuckDBPyConnection, publish: _Publish, empty: bool) -> _Diff:
    """``_send``: the rows to send, each tagged insert or update; and the keys to delete."""
    state, key_cols = publish.state, list(publish.table.key)
    remembered_rows = fetch_one(con, f"select count(*) from {state}")[0]
    full = (
        publish.remembered_target != publish.target
        or (empty and remembered_rows > 0)
        or remembered_rows == 0
    )
    on = " and ".join(f"c.{quote_ident(k)} = s.{quote_ident(k)}" for k in key_cols)
    if full:
        con.execute(
            "create or replace temp table _send as select *, 'insert' as _action from _current"
        )
        deleted = []
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
    return diff


def _write(
    con: duckdb.DuckDBPyConnection, pg: psycopg.Connection, publish: _Publish, rows_file: Path
) -> _Diff:
    """One attempt: ensure the target, send the difference, log, commit."""
    table, destination = publish.table, publish.destination
    key_cols = list(table.key)
    target_ident = sql.Identifier(destination.schema, destination.table)
    if destination.plan is not None:  # a CRM table as it is: checked, never altered
        pg_types = {}
        target_types(pg, destination)
        ensure_sync_log(pg, destination)
    else:
        pg_types = _pg_types(con, table)
        ensure_target(pg, destination, pg_types)
    empty = _empty(pg, destination)
    diff = _diff(con, publish, empty)
    if diff.full and destination.own_table and not empty:
        # DELETE, not TRUNCATE: TRUNCATE's exclusive lock would make the CRM's readers wait
        # for as long as this session lives — forever, should the network die mid-COPY.
        pg.execute(sql.SQL("delete from {}").format(target_ident))
    columns = [*key_cols, *destination.columns]
    select = ", ".join(f"p.{quote_ident(c)}" for c in columns)
    con.execute(
        f"copy (select {select} from {_rows(table, destination)} p semi join _send s on "
        f"{' and '.join(f'p.{quote_ident(k)} = s.{quote_ident(k)}' for k in key_cols)}) "
        f"to {sql_literal(str(rows_file))} (format csv, header false)"
    )
    target_cols = [
        destination.key[c] if c in destination.key else destination.columns[c] for c in columns
    ]
    if destination.plan is not None:
        diff.inserted, diff.updated, diff.deleted = write_mapped(
            pg, destination, target_cols, rows_file, diff.deleted_keys, diff.full
        )
    else:
        if diff.inserted or diff.updated:
            if diff.full and destination.own_table:
                copy_rows(pg, target_ident, target_cols, rows_file)  # empty: straight in
            else:
                upsert_rows(
                    pg, destination, target_ident, target_cols, pg_types, columns, rows_file
                )
        if diff.deleted_keys:
            remove_rows(pg, destination, target_ident, key_cols, pg_types, diff.deleted_keys)
    counts = (diff.inserted, diff.updated, diff.removed)
    log_sync(pg, destination, publish.run_id, table.name, counts, diff.full)
    if publish.before_commit is not None:
        publish.before_commit(pg)
    pg.commit()
    return diff


def _empty(pg: psycopg.Connection, destination: Destination) -> bool:
    """Whether the target holds none of crmlens's rows (then everything is sent again)."""
    condition, params = (
        owned(destination.plan) if destination.plan is not None else (sql.SQL("true"), [])
    )
    return pg.execute(
        sql.SQL("select not exists (select 1 from {} as t where {} limit 1)").format(
            sql.Identifier(destination.schema, destination.table), condition
        ),
        params,
    ).fetchone()[0]


def _pg_types(con: duckdb.DuckDBPyConnection, table: ScoreTable) -> dict[str, str]:
    """Contract column -> PostgreSQL type, from the published table's DuckDB types."""
    types = table_columns(con, "publish", table.name)
    out = {}
    for column in table.columns:
        if column in JSON_COLUMNS:
            out[column] = "jsonb"
        else:
            out[column] = PG_TYPES.get(str(types.get(column, "VARCHAR")).split("(")[0], "text")
    return out


def _log(con: duckdb.DuckDBPyConnection, run_id: str, r: SyncResult) -> None:
    con.execute(
        queries.load("crmlens.publish", "sync_log_insert"),
        {
            "run_id": run_id,
            "target": r.target,
            "table_name": r.table,
            "inserted": r.inserted,
            "updated": r.updated,
            "unchanged": r.unchanged,
            "deleted": r.deleted,
            "failed": r.failed,
            "attempts": r.attempts,
            "seconds": r.seconds,
            "error": r.error,
            "synced_at": utc_now(),
        },
    )
