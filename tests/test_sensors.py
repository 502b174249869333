"""The landing-files sensor asks for runs exactly when export files are added or change."""

from __future__ import annotations

import json
import os
from pathlib import Path

from dagster import build_sensor_context

from crmlens.sources.spec import load_spec
from pipelines.ingest.sensors import fingerprint_files, landing_files_sensor, plan_runs
from pipelines.resources import CrmlensResource


def _export(root: Path) -> Path:
    (root / "crm").mkdir(parents=True)
    (root / "events").mkdir()
    (root / "crm" / "accounts.csv").write_text("account_id,name,created_at,updated_at\n")
    for day in ("2026-10-01", "2026-10-02"):
        (root / "events" / f"{day}.parquet").write_bytes(b"x")
    spec = root / "spec.yml"
    spec.write_text(
        "name: s\nfiles:\n  accounts: {path: crm/accounts.csv}\n"
        '  events: {path: "events/{day}.parquet"}\n'
        "tables:\n  accounts: {select: select * from accounts}\n"
        "  events: {select: select * from events}\n"
    )
    return spec


def _range(request) -> tuple[str, str]:
    return (
        request.tags["dagster/asset_partition_range_start"],
        request.tags["dagster/asset_partition_range_end"],
    )


def test_first_look_loads_every_day_then_nothing_until_a_file_changes(tmp_path: Path):
    spec = load_spec(_export(tmp_path))
    first = fingerprint_files(spec)
    [run] = plan_runs(spec, {}, first)
    assert _range(run) == ("2026-10-01", "2026-10-02")
    assert plan_runs(spec, first, fingerprint_files(spec)) == []

    (tmp_path / "events" / "2026-10-03.parquet").write_bytes(b"new day")
    [run] = plan_runs(spec, first, fingerprint_files(spec))
    assert _range(run) == ("2026-10-03", "2026-10-03")


def test_a_changed_crm_export_reloads_with_the_newest_day(tmp_path: Path):
    spec = load_spec(_export(tmp_path))
    before = fingerprint_files(spec)
    accounts = tmp_path / "crm" / "accounts.csv"
    accounts.write_text(accounts.read_text() + "A1,Acme,2026-01-01,2026-01-01\n")
    os.utime(accounts, ns=(1, 10**18))
    [run] = plan_runs(spec, before, fingerprint_files(spec))
    assert _range(run) == ("2026-10-02", "2026-10-02")


def test_sensor_evaluation_keeps_its_cursor(tmp_path: Path):
    spec_path = _export(tmp_path)
    resource = CrmlensResource(source_spec=str(spec_path), home=str(tmp_path / "home"))
    context = build_sensor_context(resources={"crmlens": resource})
    result = landing_files_sensor(context)
    assert len(result.run_requests) == 1
    cursor = json.loads(result.cursor)
    assert "events/2026-10-02.parquet" in cursor

    again = landing_files_sensor(
        build_sensor_context(cursor=result.cursor, resources={"crmlens": resource})
    )
    assert again.run_requests == []
