"""The five CRM systems crmlens serves, as fixture databases in their own schemas.

Each system (``../shared/seeds/``: a feature document per system) is a folder here:

* ``fixture.yml`` — its name, the seed document it follows, its PostgreSQL DDL file and,
  per table of its own, in load order, a DuckDB ``select`` over the synthetic CRM's
  canonical tables (``accounts``, ``contacts``, ``leads``, ``opportunities``, … and
  ``events`` where the synthetic CRM has event files) returning that table's rows;
* ``schema.sql`` — its tables, columns, enumerations and constraints (idempotent: it
  drops what it creates first).

Its source spec (``crmlens/specs/<name>.yml``) reads the database back into the
canonical model, and its publish mapping (``crmlens/specs/publish_<name>.yml``) writes
crmlens's outputs into its own tables. ``crmlens generate --postgres DSN --system NAME``
(and the tests) load a fixture with :func:`load_system`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
import yaml
from psycopg import sql

from crmlens.sources import SPECS_DIR

SYSTEMS_DIR = Path(__file__).resolve().parent


class FixtureError(ValueError):
    """A fixture that cannot be loaded, in one line."""


@dataclass(frozen=True)
class System:
    """One CRM system's fixture: its DDL and, per table, the select that fills it."""

    name: str
    seed: str  # the seed document's number (000 … 004)
    title: str
    folder: Path
    tables: dict[str, str]  # schema-qualified table -> DuckDB select over canonical tables

    @property
    def ddl(self) -> str:
        return (self.folder / "schema.sql").read_text()

    @property
    def spec(self) -> Path:
        """Its source spec."""
        return SPECS_DIR / f"{self.name}.yml"

    @property
    def mapping(self) -> Path:
        """Its publish mapping."""
        return SPECS_DIR / f"publish_{self.name}.yml"


def systems() -> dict[str, System]:
    """Every system that ships, by name."""
    out = {}
    for fixture in sorted(SYSTEMS_DIR.glob("*/fixture.yml")):
        data = yaml.safe_load(fixture.read_text())
        out[data["name"]] = System(
            name=data["name"],
            seed=str(data["seed"]),
            title=data["title"],
            folder=fixture.parent,
            tables=dict(data["tables"]),
        )
    return out


def system(name: str) -> System:
    """The system called ``name`` (the message lists the known ones)."""
    known = systems()
    if name not in known:
        raise FixtureError(f"no CRM system named {name!r} (known: {', '.join(known)})")
    return known[name]


def load_system(data_dir: Path, dsn: str, name: str) -> dict[str, int]:
    """Create system ``name``'s tables in a PostgreSQL database and fill them from the
    synthetic CRM in ``data_dir``.

    The DDL drops and recreates the system's tables; the rows come from the synthetic
    CRM's typed canonical tables (:func:`crmlens.sources.postgres.canonical_tables`),
    transformed by each table's select into the system's columns and enumerations.

    Args:
        data_dir: the synthetic CRM's folder (with ``source_spec.yml``).
        dsn: the PostgreSQL database.
        name: the system.

    Returns:
        Rows loaded per table.
    """
    from crmlens.sources.postgres import canonical_tables, connect

    target = system(name)
    counts: dict[str, int] = {}
    duck = duckdb.connect()
    duck.execute("set TimeZone = 'UTC'")
    canonical_tables(duck, Path(data_dir))
    with connect(dsn) as pg, tempfile.TemporaryDirectory(prefix="crmlens-sys-") as tmp:
        pg.execute(target.ddl)
        for table, select in target.tables.items():
            try:
                rows = duck.sql(select)
            except duckdb.Error as exc:
                raise FixtureError(f"system {name}, table {table}: {exc}") from None
            path = Path(tmp) / f"{table}.csv"
            rows.write_csv(str(path), header=True)
            schema, _, bare = table.rpartition(".")
            ident = sql.Identifier(schema, bare) if schema else sql.Identifier(bare)
            columns = sql.SQL(", ").join(sql.Identifier(c) for c in rows.columns)
            copy_sql = sql.SQL("copy {} ({}) from stdin with (format csv, header)").format(
                ident, columns
            )
            try:
                with pg.cursor() as cur, path.open("rb") as src, cur.copy(copy_sql) as copy:
                    while block := src.read(1 << 20):
                        copy.write(block)
            except psycopg.Error as exc:
                raise FixtureError(f"system {name}, table {table}: {exc}".splitlines()[0]) from None
            counts[table] = pg.execute(sql.SQL("select count(*) from {}").format(ident)).fetchone()[
                0
            ]
            _advance_sequences(pg, schema or "public", bare)
    duck.close()
    return counts


def _advance_sequences(pg: psycopg.Connection, schema: str, table: str) -> None:
    """Move each serial or identity sequence of a table past the ids the fixture loaded,
    so that rows the CRM (or crmlens) inserts next get fresh ids."""
    serials = pg.execute(
        "select column_name from information_schema.columns where table_schema = %s "
        "and table_name = %s and (column_default like 'nextval(%%' or is_identity = 'YES')",
        [schema, table],
    ).fetchall()
    qualified = sql.Identifier(schema, table).as_string(pg)
    for (column,) in serials:
        pg.execute(
            sql.SQL(
                "select setval(pg_get_serial_sequence(%s, %s), "
                "coalesce((select max({}) from {}), 0) + 1, false)"
            ).format(sql.Identifier(column), sql.Identifier(schema, table)),
            [qualified, column],
        )


__all__ = ["SYSTEMS_DIR", "FixtureError", "System", "load_system", "system", "systems"]
