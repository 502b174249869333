"""Ingest assets: source rows → contract → raw.<table> or quarantine.<table>.

The asset bodies are thin: :func:`crmlens.ingest.ingest_table` does the work and
is tested directly. Each materialization records rows in, loaded, quarantined and
whether they reconcile (a load that does not reconcile fails the run). Events
are daily-partitioned; a backfill of many days runs as one run, in chunks of days.
"""

# No `from __future__ import annotations`: Dagster inspects the context annotation at runtime.
from datetime import date

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableSchema,
    asset,
)

from crmlens.contracts import CONTRACTS, TABLES, TableContract
from crmlens.ingest import IngestResult, ingest_table
from crmlens.ingest.context import ingest_context
from crmlens.sources import load_source
from crmlens.sources.spec import MissingFiles, SpecError
from crmlens.warehouse import duck_type, session
from pipelines.partitions import DEFAULT_START, events_partitions, single_run_backfills
from pipelines.resources import CrmlensResource
from pipelines.retries import TRANSIENT


def raw_key(table: str) -> AssetKey:
    return AssetKey(["raw", table])


CONTEXT_KEY = AssetKey(["context", "series"])


def ingest_metadata(result: IngestResult) -> dict[str, object]:
    """What the Dagster UI and the CLI show of one load: counts that reconcile, reasons,
    custom attributes, rows marked deleted, warnings and schema changes."""
    meta = result.metadata()
    return {
        "rows_in": meta["rows_in"],
        "rows_loaded": meta["rows_loaded"],
        "rows_quarantined": meta["rows_quarantined"],
        "reconciled": meta["reconciled"],
        "inserted": meta["inserted"],
        "updated": meta["updated"],
        "unchanged": meta["unchanged"],
        "superseded": meta["superseded"],
        "files": meta["files"],
        "source": meta["source"],
        "quarantine_reasons": MetadataValue.json(meta["quarantine_reasons"]),
        "custom_attributes": MetadataValue.json(meta["custom_attributes"]),
        "seconds": round(meta["seconds"], 3),
        "marked_deleted": result.marked_deleted,
        "warnings": MetadataValue.json(result.warnings),
        "schema_changes": MetadataValue.json(result.schema_changes),
        **({"partitions": meta["partitions"]} if "partitions" in meta else {}),
    }


def _column_schema(contract: TableContract) -> TableSchema:
    descriptions = contract.descriptions
    return TableSchema(
        columns=[
            TableColumn(name, duck_type(dtype), description=descriptions[name])
            for name, dtype in contract.columns.items()
        ]
    )


def _build(contract: TableContract, start: date) -> AssetsDefinition:
    partitioned = contract.partition_column is not None
    deps = sorted({raw_key(ref_table) for ref_table, _ in contract.references.values()})

    @asset(
        key=raw_key(contract.name),
        group_name="ingest",
        description=(contract.schema.__doc__ or "").strip()
        + f" Canonical table `{contract.name}`, loaded from the source spec; bad rows go"
        f" to quarantine.{contract.name}.",
        deps=deps,
        partitions_def=events_partitions(start) if partitioned else None,
        backfill_policy=BackfillPolicy.single_run() if partitioned else None,
        kinds={"duckdb"},
        metadata={"dagster/column_schema": _column_schema(contract)},
        retry_policy=TRANSIENT,
    )
    def _asset(context: AssetExecutionContext, crmlens: CrmlensResource) -> MaterializeResult:
        settings = crmlens.settings()
        spec = load_source(settings)
        days = None
        # A run of one day has a partition key; a run of several (`crmlens run --days
        # FROM:TO`, a single-run backfill) has a key range: both load exactly their days.
        if partitioned and (context.has_partition_key or context.has_partition_key_range):
            days = [date.fromisoformat(k) for k in context.partition_keys]
        if not spec.provides(contract.name):
            context.log.info(f"{spec.name} does not provide {contract.name}: raw table left empty")
        try:
            with session(settings.warehouse_path) as con:
                result = ingest_table(
                    con,
                    spec,
                    contract.name,
                    days=days,
                    run_id=context.run_id,
                    tolerance=settings.future_tolerance,
                    chunk_rows=settings.ingest_chunk_rows,
                )
        except MissingFiles as exc:
            # An export may still be arriving: one line, retried by the asset's policy.
            raise Failure(description=str(exc), allow_retries=True) from None
        except SpecError as exc:
            # The spec fails the same way every time: one line, and no retry.
            raise Failure(description=str(exc), allow_retries=False) from None
        return MaterializeResult(metadata=ingest_metadata(result))

    _asset.__name__ = f"raw_{contract.name}"
    return _asset


@asset(
    key=CONTEXT_KEY,
    group_name="ingest",
    description="The source spec's context series (economic indicators, a campaign calendar, "
    "seasonality), each in context.<series>, catalogued in ops.context_series; every model "
    "family's features join them as of each snapshot (ctx_<series>_<column>).",
    kinds={"duckdb"},
    retry_policy=TRANSIENT,
)
def context_series(context: AssetExecutionContext, crmlens: CrmlensResource) -> MaterializeResult:
    settings = crmlens.settings()
    try:
        spec = load_source(settings)
        with session(settings.warehouse_path) as con:
            result = ingest_context(con, spec, run_id=context.run_id)
    except MissingFiles as exc:
        raise Failure(description=str(exc), allow_retries=True) from None
    except SpecError as exc:
        raise Failure(description=str(exc), allow_retries=False) from None
    for warning in result.warnings:
        context.log.warning(warning)
    return MaterializeResult(
        metadata={"series": MetadataValue.json(result.rows), "warnings": result.warnings}
    )


def build_ingest_assets(start: date = DEFAULT_START) -> list[AssetsDefinition]:
    """One asset per canonical table, in contract order, events partitioned from ``start``;
    then the context series."""
    with single_run_backfills():
        return [*(_build(CONTRACTS[t], start) for t in TABLES), context_series]
