"""The round trip every CRM system's test makes, through the CLI as a user would.

create its fixture (``crmlens generate --postgres DSN --system NAME``) → ingest through
its spec and run the daily job (``crmlens run --spec``) → publish back through its
mapping (``CRMLENS_PUBLISH_MAPPING``) → the test asks its tables plain SQL questions →
one lead changes in the CRM → a second run writes only that lead's rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from crmlens.systems import System, system


@dataclass
class RoundTrip:
    """One system's fixture, a crmlens home that ran on it, and what the first run did."""

    system: System
    dsn: str
    home: Path
    data: Path
    counts: dict[str, int]  # rows per CRM table after the fixture load
    seconds: float  # fixture load + first run, wall time
    output: str  # the first run's stdout

    def crmlens(self, *args: str) -> subprocess.CompletedProcess:
        """``crmlens`` in a subprocess, on this home, reading and publishing to the fixture."""
        return crmlens(self.home, self.dsn, self.system, *args)

    def sql(self, query: str, params: Any = None) -> list[tuple]:
        """A plain SQL question to the CRM's database."""
        return sql(self.dsn, query, params)

    def last_sync(self, schema: str = "public") -> dict[str, tuple[int, int, int]]:
        """The latest run's (inserted, updated, deleted) per table from the CRM's sync log."""
        rows = self.sql(
            f"select table_name, inserted, updated, deleted from {schema}.sync_log "
            f"where run_id = (select run_id from {schema}.sync_log "
            "order by synced_at desc limit 1)"
        )
        out: dict[str, tuple[int, int, int]] = {}
        for name, inserted, updated, deleted in rows:
            i, u, d = out.get(name, (0, 0, 0))
            out[name] = (i + inserted, u + updated, d + deleted)
        return out


def crmlens(home: Path, dsn: str, target: System, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "CRMLENS_HOME": str(home),
        "CRMLENS_SOURCE_POSTGRES_DSN": dsn,
        "CRMLENS_PUBLISH_POSTGRES_DSN": dsn,
        "CRMLENS_PUBLISH_MAPPING": str(target.mapping),
    }
    for name in ("CRMLENS_WAREHOUSE_PATH", "CRMLENS_SOURCE_SPEC", "CRMLENS_SOURCE_ROOT"):
        env.pop(name, None)
    executable = Path(sys.executable).parent / "crmlens"
    return subprocess.run(
        [str(executable), *args], env=env, capture_output=True, text=True, check=False
    )


def sql(dsn: str, query: str, params: Any = None) -> list[tuple]:
    with psycopg.connect(dsn) as con:
        cur = con.execute(query, params)
        return cur.fetchall() if cur.description else []


def round_trip(name: str, dsn: str, tmp_path: Path) -> RoundTrip:
    """Load system ``name``'s fixture from the tiny synthetic CRM and run the daily job on it.

    Asserts each command succeeds (its output in the message if not).
    """
    target = system(name)
    home, data = tmp_path / "home", tmp_path / "synthetic"
    started = time.perf_counter()
    made = crmlens(
        home, dsn, target, "generate", "--scale", "tiny", "--seed", "7",
        "--out", str(data), "--postgres", dsn, "--system", name,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr[-3000:]
    counts = {table: sql(dsn, f"select count(*) from {table}")[0][0] for table in target.tables}
    ran = crmlens(home, dsn, target, "run", "--spec", str(target.spec), "--job", "daily")
    assert ran.returncode == 0, (ran.stdout[-3000:], ran.stderr[-3000:])
    return RoundTrip(
        system=target,
        dsn=dsn,
        home=home,
        data=data,
        counts=counts,
        seconds=time.perf_counter() - started,
        output=ran.stdout,
    )


def system_trip(name: str):
    """A module-scoped fixture ``trip``: system ``name``'s round trip in the module's own
    database (``pg_module_database``), made once for every test of the module."""

    @pytest.fixture(scope="module")
    def trip(pg_module_database: str, tmp_path_factory: pytest.TempPathFactory) -> RoundTrip:
        done = round_trip(name, pg_module_database, tmp_path_factory.mktemp(name))
        print(f"\n{name}: fixture + first run {done.seconds:.0f} s; rows {done.counts}")
        return done

    return trip


def warehouse(trip: RoundTrip, query: str) -> list[tuple]:
    """A question to the warehouse of the round trip's crmlens home (read only)."""
    con = duckdb.connect(str(trip.home / "warehouse.duckdb"), read_only=True)
    try:
        return con.sql(query).fetchall()
    finally:
        con.close()
