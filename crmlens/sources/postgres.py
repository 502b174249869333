"""An operational CRM in PostgreSQL, as a source and as a demo target.

Reading (:func:`read_postgres_table`): a spec of kind ``postgres`` gives, per
canonical table, a PostgreSQL ``select`` and optionally a ``watermark`` column
(``updated_at``). Each load reads only rows whose watermark is at or after the
highest value seen by the last successful load (``>=`` rather than ``>``: rows
sharing the boundary timestamp are read again and found unchanged, so none is
missed). The new watermark is written in the load's own transaction, so a failed
load reads the same rows again next time. DuckDB's postgres extension cannot be
installed offline, so rows travel through psycopg's ``COPY ... TO STDOUT``.

A postgres spec may also read its stages from the CRM's own table at load time
(:func:`read_vocabularies`).

Writing (:func:`load_operational_crm`): ``crmlens generate --postgres DSN`` puts
the synthetic CRM's objects into schema ``crm`` of a PostgreSQL database, typed as
an operational database would type them. Rows that such a database could not
hold (lines the CSV parser rejects, values that do not fit the column type) are
left out; the other seeded defects (bad e-mails, unknown stages, negative
amounts, future timestamps) stay, for ingest to catch.

DSNs are never logged or put in errors with their password: :func:`describe_dsn`.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from pydantic import ValidationError

from crmlens import sql as queries
from crmlens.contracts import CONTRACTS, TABLES, latest_allowed_timestamp
from crmlens.settings import get_settings
from crmlens.sources.files import ReadBatch, check_columns, read_table
from crmlens.sources.pg_session import SessionLimits, error_text, open_session
from crmlens.sources.spec import SourceSpec, SpecError, load_spec
from crmlens.sources.vocabularies import StageLabel, check_vocabularies
from crmlens.warehouse import duck_type, fetch_one, quote_ident, sql_literal

# DuckDB type -> PostgreSQL type, for the tables crmlens writes into PostgreSQL.
PG_TYPES = {
    "VARCHAR": "text",
    "DOUBLE": "double precision",
    "FLOAT": "double precision",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "BOOLEAN": "boolean",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
    "JSON": "jsonb",
}


def describe_dsn(dsn: str) -> str:
    """``postgresql://user@host:port/db`` — everything but the password."""
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "postgresql://<unparseable dsn>"
    user = f"{parts['user']}@" if parts.get("user") else ""
    host = parts.get("host", "localhost")
    port = parts.get("port", "5432")
    return f"postgresql://{user}{host}:{port}/{parts.get('dbname', '')}"


def connect(
    dsn: str, *, autocommit: bool = False, limits: SessionLimits | None = None
) -> psycopg.Connection:
    """Connect with the session's deadlines, turning a failure into a message without the
    password.

    Args:
        dsn: the database.
        autocommit: whether each statement commits on its own.
        limits: the session's deadlines; default: the settings' (read now).

    Returns:
        The connection.

    Raises:
        ConnectionError: the database cannot be reached (the DSN shown without password).
    """
    limits = limits or SessionLimits.from_settings(get_settings())
    try:
        return open_session(dsn, limits, autocommit=autocommit)
    except psycopg.OperationalError as exc:
        raise ConnectionError(f"cannot connect to {describe_dsn(dsn)}: {error_text(exc)}") from None


# --- reading ---------------------------------------------------------------------


def read_postgres_table(con: duckdb.DuckDBPyConnection, spec: SourceSpec, table: str) -> ReadBatch:
    """Read the rows of ``table`` changed since the last load, into a DuckDB view.

    Runs inside ingest's transaction on ``con``; the new watermark is written there
    too, so it only moves when the load commits.

    Args:
        con: the connection of the load's transaction.
        spec: a postgres spec.
        table: the canonical table.

    Returns:
        The rows read (lineage: the database and the row number in this read).

    Raises:
        SpecError: the spec has no DSN, its select fails, or its columns are wrong.
    """
    if not spec.dsn:
        raise SpecError(
            f"{spec.where(table)}: a postgres spec needs `dsn` (e.g. ${{CRMLENS_SOURCE_POSTGRES_DSN}})"
        )
    source = spec.tables[table]
    con.execute(queries.load("crmlens.sources", "watermarks_table"))
    since = _stored_watermark(con, spec.name, table) if source.watermark else None
    query = sql.SQL("select * from ({}) as q").format(sql.SQL(source.select))
    params: list[object] = []
    if source.watermark and since is not None:
        query = sql.SQL("{} where q.{} >= %s").format(query, sql.Identifier(source.watermark))
        params.append(since)
    if source.watermark:
        query = sql.SQL("{} order by q.{}").format(query, sql.Identifier(source.watermark))

    with tempfile.TemporaryDirectory(prefix="crmlens-pg-") as tmp:
        path = Path(tmp) / f"{table}.csv"
        _copy_out(spec, table, query, params, path)
        data = con.sql(
            f"select * from read_csv({sql_literal(str(path))}, all_varchar = true, header = true)"
        ).pl()
    origin = f"{describe_dsn(spec.dsn)}#{table}"
    data = data.with_columns(
        _source_file=pl.lit(origin),
        _source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
    )
    view = f"_pg_{table}"
    con.register(f"{view}__arrow", data.to_arrow())
    con.execute(f"create or replace temp view {view} as select * from {view}__arrow")
    check_columns(spec, table, [c for c in data.columns if not c.startswith("_source")])
    if source.watermark and data.height:
        if source.watermark not in data.columns:
            raise SpecError(
                f"{spec.where(table)}: watermark column {source.watermark!r} not returned"
            )
        # A typo'd future timestamp (2926 for 2026) must not become the watermark, or
        # every later change would be skipped; such rows are quarantined and re-read.
        wm = f"try_cast({quote_ident(source.watermark)} as timestamp)"
        newest = fetch_one(
            con, f"select max({wm}) from {view} where {wm} <= ?", [latest_allowed_timestamp()]
        )[0]
        if newest is not None and (since is None or newest > since):
            con.execute(
                queries.load("crmlens.sources", "watermark_store"),
                {
                    "source": spec.name,
                    "table_name": table,
                    "column_name": source.watermark,
                    "value": newest,
                    "updated_at": datetime.now(),
                },
            )
    return ReadBatch(
        relation=con.sql(f"select * from {view}"), files=[], views=[view], where=spec.where(table)
    )


def _copy_out(
    spec: SourceSpec, table: str, query: sql.Composed, params: list[object], path: Path
) -> None:
    """The select's rows into a CSV file, through ``COPY ... TO STDOUT`` in a bounded session."""
    with connect(spec.dsn) as pg, pg.cursor() as cur:
        try:
            copy_sql = sql.SQL("copy ({}) to stdout with (format csv, header)").format(query)
            with path.open("wb") as out, cur.copy(copy_sql, params or None) as copy:
                for block in copy:
                    out.write(block)
        except psycopg.OperationalError as exc:  # lost, timed out: worth a retry
            raise ConnectionError(
                f"{spec.where(table)}: reading {describe_dsn(spec.dsn)} failed: {error_text(exc)}"
            ) from None
        except psycopg.Error as exc:
            raise SpecError(
                f"{spec.where(table)}: the PostgreSQL select failed on "
                f"{describe_dsn(spec.dsn)}: {error_text(exc)}"
            ) from None


def watermark(con: duckdb.DuckDBPyConnection, source: str, table: str) -> datetime | None:
    """The newest change of a source table that a committed load has read.

    Args:
        con: a connection to the warehouse.
        source: the spec's name.
        table: the canonical table.

    Returns:
        The watermark, or ``None`` before the first load.
    """
    con.execute(queries.load("crmlens.sources", "watermarks_table"))
    return _stored_watermark(con, source, table)


def _stored_watermark(con: duckdb.DuckDBPyConnection, source: str, table: str) -> datetime | None:
    row = fetch_one(
        con, queries.load("crmlens.sources", "watermark"), {"source": source, "table_name": table}
    )
    return row[0] if row else None


def read_vocabularies(spec: SourceSpec) -> SourceSpec:
    """The spec with the vocabularies it reads from the source database filled in.

    A spec's ``vocabularies.opportunity_stages: {select: ...}`` runs on the source
    database (at each load, so a stage the CRM's users added is there the next day) and
    must return ``label``, ``meaning`` (open, won or lost) and optionally ``probability``
    (0–1), one row per stage, in the order deals move through them.

    Args:
        spec: a source spec (returned as it is when it reads no vocabulary).

    Returns:
        A copy of the spec whose stages are the rows the select returned.

    Raises:
        SpecError: in one line naming the spec — the select fails, returns no rows, lacks
            a column, or a row is not a stage (no label, an unknown meaning, a
            probability outside 0–1, a label twice).
        ConnectionError: the database cannot be reached.
    """
    select = spec.vocabularies.stages_select
    if select is None:
        return spec
    where = f"{spec.where()}, vocabularies.opportunity_stages"
    if not spec.dsn:
        raise SpecError(f"{where}: a select needs the spec's `dsn`")
    with connect(spec.dsn) as pg:
        try:
            cur = pg.execute(sql.SQL(select))
            columns = [c.name for c in cur.description or []]
            rows = cur.fetchall()
        except psycopg.OperationalError as exc:
            raise ConnectionError(
                f"{where}: reading {describe_dsn(spec.dsn)} failed: {error_text(exc)}"
            ) from None
        except psycopg.Error as exc:
            raise SpecError(
                f"{where}: the select failed on {describe_dsn(spec.dsn)}: {error_text(exc)}"
            ) from None
    missing = [c for c in ("label", "meaning") if c not in columns]
    if missing:
        raise SpecError(
            f"{where}: the select returns no {missing[0]!r} column (it returns "
            f"{', '.join(columns) or 'nothing'}; give label, meaning and probability)"
        )
    if not rows:
        raise SpecError(f"{where}: the select returned no stages")
    stages = []
    for number, row in enumerate(rows, start=1):
        values = dict(zip(columns, row, strict=True))
        fields = {k: values.get(k) for k in ("label", "meaning", "probability")}
        if fields["probability"] is not None:
            fields["probability"] = float(fields["probability"])
        try:
            stages.append(StageLabel.model_validate(fields))
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(p) for p in error["loc"])
            raise SpecError(
                f"{where}: row {number} ({fields['label']!r}), {field}: {error['msg']} "
                f"(got {error.get('input')!r})"
            ) from None
    vocabularies = spec.vocabularies.model_copy(update={"opportunity_stages": stages})
    if problem := check_vocabularies(vocabularies):
        raise SpecError(f"{spec.where()}: {problem} (in the rows of its select)")
    return spec.model_copy(update={"vocabularies": vocabularies})


# --- writing the synthetic CRM into PostgreSQL --------------------------------------


def canonical_tables(duck: duckdb.DuckDBPyConnection, data_dir: Path) -> dict[str, dict[str, str]]:
    """The synthetic CRM's objects as typed DuckDB tables named after the canonical tables.

    Each table is typed as its contract says (custom attributes as the spec declares);
    rows whose values do not fit the type are left out, and one row per key is kept, as
    an operational database's primary key demands. ``events`` is a view over the event
    files when there are any.

    Args:
        duck: the DuckDB connection the tables are created on.
        data_dir: the synthetic CRM's folder (with ``source_spec.yml``).

    Returns:
        Per table created, its columns and their DuckDB types.
    """
    spec = load_spec(Path(data_dir) / "source_spec.yml")
    typed: dict[str, dict[str, str]] = {}
    for table in TABLES:
        if not spec.provides(table):
            continue
        if table == "events":
            files = sorted((Path(data_dir) / "events").glob("*.parquet"))
            if files:
                listed = ", ".join(sql_literal(str(f)) for f in files)
                duck.execute(
                    f"create or replace view events as select * from read_parquet([{listed}])"
                )
            continue
        batch = read_table(duck, spec, table)
        columns = [c for c in batch.relation.columns if not c.startswith("_")]
        declared = {k: v.upper() for k, v in spec.custom_attributes.get(table, {}).items()}
        contract = CONTRACTS[table]
        types = {
            c: duck_type(contract.columns[c])
            if c in contract.columns
            else declared.get(c, "VARCHAR")
            for c in columns
        }
        casts = ", ".join(
            f"try_cast({quote_ident(c)} as {t}) as {quote_ident(c)}" for c, t in types.items()
        )
        fits = " and ".join(
            f"({quote_ident(c)} is null or try_cast({quote_ident(c)} as {t}) is not null)"
            for c, t in types.items()
        )
        keys = ", ".join(quote_ident(k) for k in contract.key)
        batch.relation.query(
            "src",
            f"select {casts} from src where {fits} "
            f"qualify row_number() over (partition by {keys} order by _source_row) = 1",
        ).create(f"_typed_{table}")
        for view in batch.views:  # the reader's temporary views would shadow the table
            duck.execute(f"drop view if exists {quote_ident(view)}")
            duck.execute(f"drop view if exists {quote_ident(view + '__arrow')}")
        duck.execute(f"alter table {quote_ident('_typed_' + table)} rename to {quote_ident(table)}")
        typed[table] = types
    return typed


def load_operational_crm(data_dir: Path, dsn: str, schema: str = "crm") -> dict[str, int]:
    """Load the synthetic CRM's objects (not events) into ``schema`` of a PostgreSQL database.

    Replaces the schema's tables.

    Args:
        data_dir: the synthetic CRM's folder (with ``source_spec.yml``).
        dsn: the PostgreSQL database.
        schema: the schema the tables are written to.

    Returns:
        Rows loaded per table.
    """
    counts: dict[str, int] = {}
    duck = duckdb.connect()
    duck.execute("set TimeZone = 'UTC'")
    typed = canonical_tables(duck, Path(data_dir))
    with connect(dsn) as pg, tempfile.TemporaryDirectory(prefix="crmlens-pg-") as tmp:
        pg.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        for table, types in typed.items():
            path = Path(tmp) / f"{table}.csv"
            duck.table(table).write_csv(str(path), header=True)
            contract = CONTRACTS[table]
            ident = sql.Identifier(schema, table)
            pg.execute(sql.SQL("drop table if exists {}").format(ident))
            pg.execute(
                sql.SQL("create table {} ({}, primary key ({}))").format(
                    ident,
                    sql.SQL(", ").join(
                        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(PG_TYPES[t]))
                        for c, t in types.items()
                    ),
                    sql.SQL(", ").join(sql.Identifier(k) for k in contract.key),
                )
            )
            with (
                pg.cursor() as cur,
                path.open("rb") as src,
                cur.copy(
                    sql.SQL("copy {} from stdin with (format csv, header)").format(ident)
                ) as copy,
            ):
                while block := src.read(1 << 20):
                    copy.write(block)
            counts[table] = pg.execute(sql.SQL("select count(*) from {}").format(ident)).fetchone()[
                0
            ]
    duck.close()
    return counts
