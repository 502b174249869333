"""Publish one score table to every target the settings name."""

from __future__ import annotations

from dataclasses import dataclass, field

from crmlens.publish.contract import ScoreTable
from crmlens.publish.export import export_table
from crmlens.publish.local import publish_table
from crmlens.publish.mapping import load_mapping
from crmlens.publish.postgres import SyncResult, contract_destination, sync
from crmlens.settings import Settings
from crmlens.sources.pg_session import SessionLimits
from crmlens.warehouse import session, table_exists


@dataclass
class PublishResult:
    """What publishing one score table did, target by target."""

    table: str
    rows: int = 0
    export: dict | None = None
    postgres: list[SyncResult] = field(default_factory=list)


def publish(settings: Settings, table: ScoreTable, run_id: str) -> PublishResult:
    """Publish one score table to every target the settings name.

    The DuckDB ``publish`` schema and the export folder always; PostgreSQL, and the
    CRM's own tables through a publish mapping, when the settings give a DSN (and a
    mapping). Each PostgreSQL destination gets ``publish_attempts`` connections, each
    session with the settings' deadlines; when they run out the error is raised (the
    step fails, its failure raises an alert) and the CRM keeps its previous scores.

    Args:
        settings: paths, DSN and mapping.
        table: the score table.
        run_id: the run publishing.

    Returns:
        The rows published, the export's manifest, and what each PostgreSQL sync did.
    """
    result = PublishResult(table=table.name)
    with session(settings.warehouse_path) as con:
        result.rows = publish_table(con, table)
        if result.rows == 0 and not _has(con, table):
            return result
        result.export = export_table(
            con, table.name, settings.export_dir, run_id, csv=settings.export_csv
        )
        if settings.publish_postgres_dsn:
            destinations = [contract_destination(table, settings.publish_postgres_schema)]
            if settings.publish_mapping:
                destinations += [
                    d for t, d in load_mapping(settings.publish_mapping) if t.name == table.name
                ]
            for destination in destinations:
                result.postgres.append(
                    sync(
                        con,
                        table,
                        destination,
                        settings.publish_postgres_dsn,
                        run_id,
                        max_attempts=settings.publish_attempts,
                        backoff_seconds=settings.publish_backoff_seconds,
                        limits=SessionLimits.from_settings(settings),
                    )
                )
    return result


def _has(con, table: ScoreTable) -> bool:
    return table_exists(con, "publish", table.name)
