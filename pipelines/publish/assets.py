"""Publish assets (group `publish`): one per score table, then the serving snapshot.

publish/<table>      ml.<table> → publish.<table> (+ history), the export folder,
                     PostgreSQL and the CRM mapping when configured
serving/snapshot     a read-only copy of the warehouse for dashboards and notebooks,
                     swapped in atomically after everything is published
"""

# No `from __future__ import annotations`: Dagster inspects the context annotation at runtime.
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from crmlens.publish.contract import SCORE_TABLES, ScoreTable
from crmlens.publish.run import publish
from crmlens.serving import refresh_snapshot
from pipelines.resources import CrmlensResource


def publish_key(table: ScoreTable) -> AssetKey:
    return AssetKey(["publish", table.name])


SNAPSHOT_KEY = AssetKey(["serving", "snapshot"])


def _build(table: ScoreTable, upstream: list[AssetKey] | None = None):
    @asset(
        key=publish_key(table),
        group_name="publish",
        deps=upstream or [AssetKey(table.source.split("."))],
        kinds={"duckdb", "parquet", "postgres"},
        # No retry policy here: the PostgreSQL sync retries itself (settings
        # `publish_attempts`, `publish_backoff_seconds`; see pipelines/retries.py).
        description=f"{table.description} Published to publish.{table.name} (+ _history), the "
        "export folder, and PostgreSQL (changed rows only) when configured.",
    )
    def _asset(context: AssetExecutionContext, crmlens: CrmlensResource) -> MaterializeResult:
        result = publish(crmlens.settings(), table, context.run_id)
        meta: dict = {"rows": result.rows}
        if result.export:
            meta["export_files"] = MetadataValue.json([f["name"] for f in result.export["files"]])
        for sync in result.postgres:
            meta[f"postgres {sync.target.split('/')[-1]}"] = MetadataValue.json(
                {
                    "inserted": sync.inserted,
                    "updated": sync.updated,
                    "unchanged": sync.unchanged,
                    "deleted": sync.deleted,
                    "full_resync": sync.full_resync,
                    "attempts": sync.attempts,
                    "seconds": round(sync.seconds, 2),
                }
            )
        return MaterializeResult(metadata=meta)

    _asset.__name__ = f"publish_{table.name}"
    return _asset


@asset(
    key=SNAPSHOT_KEY,
    group_name="publish",
    deps=[publish_key(t) for t in SCORE_TABLES.values()],
    kinds={"duckdb"},
    description="The read-only copy of the warehouse that dashboards and notebooks open, "
    "replaced atomically (readers never open the warehouse the pipeline writes).",
)
def serving_snapshot(context: AssetExecutionContext, crmlens: CrmlensResource) -> MaterializeResult:
    info = refresh_snapshot(crmlens.settings(), context.run_id)
    return MaterializeResult(
        metadata={"path": str(info.path), "bytes": info.bytes, "published_at": info.published_at}
    )


def build_publish_assets(upstream: dict[str, list[AssetKey]] | None = None) -> list:
    """One asset per score table, then the snapshot; ``upstream``: table -> the assets
    that compute it, where they are not ``ml.<table>`` (the series forecast's sets)."""
    upstream = upstream or {}
    return [*(_build(t, upstream.get(t.name)) for t in SCORE_TABLES.values()), serving_snapshot]
