"""The ingest assets through Dagster, on the tiny CRM, in a private home."""

from __future__ import annotations

from pathlib import Path

from dagster import DagsterInstance

from crmlens.contracts import TABLES
from crmlens.settings import get_settings
from pipelines.run import materialization_metadata, run_job


def test_ingest_job_materializes_every_table_and_reconciles(tiny_crm: Path, crmlens_home: Path):
    settings = get_settings(source_spec=tiny_crm / "source_spec.yml")
    result = run_job(settings, "ingest", instance=DagsterInstance.ephemeral())

    assert result.success
    meta = materialization_metadata(result)
    # every canonical table, and the spec's context series (none in the tiny CRM's spec)
    assert set(meta) == {f"raw/{t}" for t in TABLES} | {"context/series"}
    assert not meta["context/series"]["series"], "the tiny CRM's spec has no context series"
    raw = {k: m for k, m in meta.items() if k.startswith("raw/")}
    for key, m in raw.items():
        assert m["reconciled"] is True, key
        assert m["rows_in"] == m["rows_loaded"] + m["rows_quarantined"], key
    events = meta["raw/events"]
    assert events["rows_quarantined"] > 0 and "unknown_reference" in events["quarantine_reasons"]
    # The events backfill ran as one run over the days with files (one year of the tiny CRM).
    days = result.dagster_run.tags["dagster/asset_partition_range_start"]
    assert days == "2025-11-01"
    assert Path(settings.warehouse_path).exists()
