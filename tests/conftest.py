"""Shared fixtures. Every test gets its own warehouse in tmp_path; nothing shared in /tmp."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest

from crmlens.warehouse import connect

# Tests never phone home and never touch the developer's ./.crmlens.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
# A fixed clock for contract checks, so "future" means the same thing on every run.
NOW = datetime(2026, 11, 1, 12, 0, 0)
# The dbt models the feature builders read: the staging views and int_lead_touches.
FEATURE_INPUTS = [
    "build",
    "--select",
    "path:models/staging",
    "+int_lead_touches",
    "--indirect-selection",
    "cautious",
]


@pytest.fixture
def warehouse(tmp_path: Path):
    con = connect(tmp_path / "warehouse.duckdb")
    yield con
    con.close()


@pytest.fixture
def crmlens_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """CRMLENS_HOME in tmp_path, so settings-driven code writes nowhere else."""
    home = tmp_path / "crmlens_home"
    monkeypatch.setenv("CRMLENS_HOME", str(home))
    monkeypatch.delenv("CRMLENS_WAREHOUSE_PATH", raising=False)
    monkeypatch.delenv("CRMLENS_SOURCE_SPEC", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    return home


class ExportDir:
    """A hand-made CRM export: write CSVs and a spec, in a tmp folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "crm").mkdir(parents=True, exist_ok=True)

    def csv(self, table: str, text: str) -> Path:
        path = self.root / "crm" / f"{table}.csv"
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def spec(self, tables: list[str], extra: str = "", events: bool = False) -> Path:
        lines = ["name: handmade", "files:"]
        lines += [f"  {t}: {{path: crm/{t}.csv}}" for t in tables]
        if events:
            lines.append('  events: {path: "events/{day}.parquet"}')
        lines.append("tables:")
        lines += [f"  {t}: {{select: select * from {t}}}" for t in tables]
        if events:
            lines.append("  events: {select: select * from events}")
        path = self.root / "source_spec.yml"
        path.write_text("\n".join(lines) + "\n" + textwrap.dedent(extra))
        return path


@pytest.fixture
def export(tmp_path: Path) -> ExportDir:
    return ExportDir(tmp_path / "export")


@pytest.fixture(scope="session")
def tiny_crm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny synthetic CRM, generated once per session (seed 7)."""
    from crmlens.sources import write_synthetic_spec
    from crmlens.synthetic import generate

    out = tmp_path_factory.mktemp("tiny_crm")
    generate(out, scale="tiny", seed=7)
    write_synthetic_spec(out)
    return out


@pytest.fixture(scope="session")
def tiny_warehouse(tiny_crm: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny CRM ingested (every table) into a warehouse; do not modify it."""
    from crmlens.contracts import TABLES
    from crmlens.ingest import ingest_table
    from crmlens.sources.spec import load_spec

    path = tmp_path_factory.mktemp("tiny_warehouse") / "warehouse.duckdb"
    con = connect(path)
    spec = load_spec(tiny_crm / "source_spec.yml")
    for table in TABLES:
        ingest_table(con, spec, table, now=NOW)
    con.close()
    return path


@pytest.fixture(scope="session")
def tiny_staged(tiny_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tiny warehouse with the dbt models the features read (FEATURE_INPUTS)."""
    from tests.dbt_support import run_dbt

    path = tmp_path_factory.mktemp("tiny_staged") / "warehouse.duckdb"
    shutil.copy(tiny_warehouse, path)
    run_dbt(path, FEATURE_INPUTS)
    return path


@pytest.fixture(scope="session")
def tiny_built(tiny_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tiny warehouse after a full `dbt build` (all tests passing)."""
    from tests.dbt_support import run_dbt

    path = tmp_path_factory.mktemp("tiny_built") / "warehouse.duckdb"
    shutil.copy(tiny_warehouse, path)
    run_dbt(path, ["build"])
    return path


@pytest.fixture(scope="session")
def small_staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small synthetic CRM (the demo's), ingested, with the dbt models the features
    read (FEATURE_INPUTS), once per session (~45 s).

    Model tests that compare against baselines need its history; do not modify it.
    """
    from crmlens.contracts import TABLES
    from crmlens.ingest import ingest_table
    from crmlens.sources import write_synthetic_spec
    from crmlens.sources.spec import load_spec
    from crmlens.synthetic import generate
    from tests.dbt_support import run_dbt

    data = tmp_path_factory.mktemp("small_crm")
    generate(data, scale="small", seed=42)
    write_synthetic_spec(data)
    path = tmp_path_factory.mktemp("small_staged") / "warehouse.duckdb"
    con = connect(path)
    spec = load_spec(data / "source_spec.yml")
    for table in TABLES:
        ingest_table(con, spec, table, now=NOW)
    con.close()
    run_dbt(path, FEATURE_INPUTS)
    return path


@pytest.fixture(scope="session")
def tiny_home(tiny_crm: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A crmlens home where the whole graph (job `all`) ran on the tiny CRM: warehouse,
    marts, models (cold-start paths), scores, publish, serving snapshot. Read only."""
    from dagster import DagsterInstance

    from crmlens.settings import get_settings
    from pipelines.jobs import DEMO_SEQUENCE
    from pipelines.run import run_job

    home = tmp_path_factory.mktemp("tiny_home")
    settings = get_settings(home=home, source_spec=tiny_crm / "source_spec.yml")
    instance = DagsterInstance.ephemeral()
    materialized: set[str] = set()
    for job in DEMO_SEQUENCE:  # the tiny CRM is below every gate: nothing is held back
        log = home / "logs" / f"{job}.log"
        result = run_job(settings, job, instance=instance, raise_on_error=False, log_file=log)
        assert result.success, log.read_text()[-5000:]
        materialized |= {
            e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
        }
    (home / "materialized.json").write_text(json.dumps(sorted(materialized)))
    return home


@pytest.fixture
def tiny_home_copy(tiny_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the tiny home (warehouse, MLflow, serving) a test may change, with
    a Dagster home of its own."""
    dest = tmp_path / "home"
    shutil.copytree(tiny_home, dest, ignore=shutil.ignore_patterns("dagster", "logs"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    return dest


@pytest.fixture
def tiny_copy(tiny_crm: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the tiny CRM that a test may modify."""
    dest = tmp_path / "tiny"
    shutil.copytree(tiny_crm, dest)
    yield dest


def pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=3
        ):
            return True
    except Exception:
        return False


@contextmanager
def fresh_database() -> Iterator[str]:
    """A fresh PostgreSQL database on the local server, dropped afterwards. Yields its DSN."""
    import uuid

    import psycopg

    if not pg_available():
        pytest.fail(
            "PostgreSQL is not reachable at 127.0.0.1:5432; start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
        )
    name = f"crmlens_test_{uuid.uuid4().hex[:10]}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'create database "{name}"')
    try:
        yield f"host=127.0.0.1 port=5432 user=postgres dbname={name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test. Yields its DSN."""
    with fresh_database() as dsn:
        yield dsn


@pytest.fixture(scope="module")
def pg_module_database() -> Iterator[str]:
    """A fresh PostgreSQL database shared by a module's tests (one CRM system's round
    trip). Yields its DSN."""
    with fresh_database() as dsn:
        yield dsn
