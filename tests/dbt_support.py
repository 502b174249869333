"""Running the real dbt project against a warehouse in tmp_path, for tests.

``seed_raw`` writes hand-made rows into ``raw.<table>`` (the tables ingest
creates, so the schema is the contract's), ``run_dbt`` invokes dbt in process
(dbtRunner) against that warehouse, and ``query`` reads the result.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from crmlens.contracts import CONTRACTS, TABLES
from crmlens.ingest import ensure_tables
from crmlens.warehouse import connect
from pipelines.transform.project import scoped_env

DBT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"


def empty_warehouse(path: Path) -> Path:
    """A warehouse with every raw and quarantine table created and empty."""
    con = connect(path)
    for table in TABLES:
        ensure_tables(con, table)
    con.close()
    return path


def seed_raw(path: Path, table: str, rows: Iterable[dict[str, Any]], **custom: str) -> None:
    """Insert rows into raw.<table>; missing canonical columns are null.

    ``custom`` adds custom-attribute columns with their DuckDB types, e.g. ``nps_score="INTEGER"``.
    """
    contract = CONTRACTS[table]
    con = connect(path)
    ensure_tables(con, table)
    for column, dtype in custom.items():
        con.execute(f"alter table raw.{table} add column if not exists {column} {dtype}")
    rows = list(rows)
    if rows:
        schema = dict(contract.columns)
        frame = pl.DataFrame(rows, schema_overrides=schema, infer_schema_length=None, strict=False)
        con.register("_rows", frame)
        con.execute(f"insert into raw.{table} by name select * from _rows")
        con.unregister("_rows")
    con.close()


def run_dbt(
    warehouse: Path,
    args: list[str],
    *,
    target_dir: Path | None = None,
    vars: dict[str, Any] | None = None,
) -> Any:
    """Invoke dbt in process against ``warehouse``; raise with dbt's message on failure."""
    from dbt.cli.main import dbtRunner

    target = target_dir or Path(warehouse).parent / "dbt_target"
    cli = [
        "--quiet",
        "--no-use-colors",
        *args,
        "--project-dir",
        str(DBT_DIR),
        "--profiles-dir",
        str(DBT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
    ]
    if vars:
        cli += ["--vars", str(vars)]
    env = {"CRMLENS_WAREHOUSE_PATH": str(Path(warehouse).resolve()), "DO_NOT_TRACK": "1"}
    with scoped_env(env):
        result = dbtRunner().invoke(cli)
    if not result.success:
        failures = []
        for r in getattr(result.result, "results", None) or []:
            if str(r.status) not in ("success", "pass", "skipped", "warn"):
                failures.append(f"{r.node.name}: {r.status} {r.message or ''}".strip())
        raise AssertionError(
            f"dbt {' '.join(args)} failed: {result.exception or ''} {'; '.join(failures)}"
        )
    # dbt-duckdb keeps its in-process database open; checkpoint so the file alone (without
    # its write-ahead log) holds everything, for tests that copy it.
    con = connect(warehouse)
    con.execute("checkpoint")
    con.close()
    return result


def query(warehouse: Path, sql: str, params: list | None = None) -> pl.DataFrame:
    # Read-write like dbt-duckdb's own in-process connection: DuckDB refuses a second
    # connection to the same file in this process with another configuration.
    con = connect(warehouse)
    try:
        return con.sql(sql, params=params).pl() if params else con.sql(sql).pl()
    finally:
        con.close()
