"""The tiny synthetic CRM through ingest: every seeded defect found, nothing else, counts reconcile."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from crmlens.contracts import CONTRACTS, TABLES
from crmlens.ingest import ingest_table
from crmlens.sources.spec import load_spec
from tests.conftest import NOW


@pytest.fixture(scope="module")
def loaded(tiny_crm: Path, tmp_path_factory: pytest.TempPathFactory):
    from crmlens.warehouse import connect

    con = connect(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")
    spec = load_spec(tiny_crm / "source_spec.yml")
    results = {t: ingest_table(con, spec, t, now=NOW) for t in TABLES}
    yield con, results, json.loads((tiny_crm / "ground_truth.json").read_text())
    con.close()


def _quarantined(con) -> dict[tuple[str, int], tuple[str, str | None]]:
    union = " union all ".join(
        f"select _source_file, _source_row, reason_code, column_name from quarantine.{t}"
        for t in TABLES
    )
    return {(f, r): (code, col) for f, r, code, col in con.execute(union).fetchall()}


def test_every_seeded_defect_is_quarantined_with_its_reason(loaded):
    con, _, truth = loaded
    found = _quarantined(con)
    expected = {(d["file"], d["row"]): d["kind"] for d in truth["defects"]}
    assert len(expected) > 500  # the tiny CRM seeds hundreds of defects of every kind
    assert {k: v for k, v in expected.items() if found.get(k, (None,))[0] != v} == {}
    assert set(found) == set(expected)  # and nothing else is quarantined


def test_the_named_column_is_the_defective_one(loaded):
    con, _, truth = loaded
    found = _quarantined(con)
    wrong = [
        d
        for d in truth["defects"]
        if d["kind"] != "unparseable_row" and found[(d["file"], d["row"])][1] != d["column"]
    ]
    assert wrong == []


def test_every_kind_of_defect_occurs(loaded):
    _, results, _ = loaded
    kinds = Counter()
    for r in results.values():
        kinds.update(r.reasons)
    assert set(kinds) >= {
        "invalid_email",
        "unknown_value",
        "negative_value",
        "future_timestamp",
        "missing_required",
        "type_error",
        "end_before_start",
        "unparseable_row",
        "unknown_reference",
    }


def test_counts_reconcile_with_what_the_generator_wrote(loaded):
    con, results, truth = loaded
    for table, result in results.items():
        assert result.reconciles, table
        assert result.rows_in == truth["counts"][table], table
        raw = con.execute(f"select count(*) from raw.{table}").fetchall()[0][0]
        quarantined = con.execute(f"select count(*) from quarantine.{table}").fetchall()[0][0]
        assert raw + result.superseded + quarantined == truth["counts"][table], table


def test_raw_tables_satisfy_their_contracts(loaded):
    con, _, _ = loaded
    from crmlens.contracts import validation_clock

    for table in TABLES:
        frame = con.sql(f"select * from raw.{table}").pl()
        with validation_clock(NOW):
            CONTRACTS[table].schema.validate(frame, lazy=True)  # raises on any failure


def test_rerunning_the_whole_ingest_changes_nothing(loaded, tiny_crm):
    con, _, _ = loaded
    spec = load_spec(tiny_crm / "source_spec.yml")

    def snapshot() -> dict[str, list]:
        return {
            f"{schema}.{t}": con.execute(f"select * from {schema}.{t} order by all").fetchall()
            for t in ("accounts", "leads", "opportunities", "events")
            for schema in ("raw", "quarantine")
        }

    before = snapshot()
    again = {t: ingest_table(con, spec, t, now=NOW) for t in TABLES}
    assert snapshot() == before
    assert all(r.updated == 0 for r in again.values())
    assert all(r.inserted == 0 for t, r in again.items() if not CONTRACTS[t].partition_column)
