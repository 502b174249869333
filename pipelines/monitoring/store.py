"""``ops.model_monitoring``: one row per model check run, what the dashboards chart."""

from __future__ import annotations

import json

import duckdb

from crmlens.clock import utc_now
from crmlens.warehouse import ensure_schemas
from models.families import FamilySpec

MONITORING_DDL = """
create table if not exists ops.model_monitoring (
    family varchar, kind varchar, checked_at timestamp, run_id varchar,
    model_version varchar, scoring_path varchar, status varchar, value double,
    detail json
)
"""


def record(
    con: duckdb.DuckDBPyConnection,
    spec: FamilySpec,
    kind: str,
    run_id: str,
    version: str | None,
    path: str,
    status: str,
    value: float | None,
    detail: dict,
) -> None:
    """Append one check's verdict (``kind``: drift or calibration) and its evidence."""
    ensure_schemas(con)
    con.execute(MONITORING_DDL)
    con.execute(
        "insert into ops.model_monitoring values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            spec.name,
            kind,
            utc_now(),
            run_id,
            version,
            path,
            status,
            value,
            json.dumps(detail, default=str),
        ],
    )
