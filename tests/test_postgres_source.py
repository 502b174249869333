"""The operational CRM in a real PostgreSQL: loaded by the generator, read incrementally."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from crmlens.ingest import ingest_table
from crmlens.sources import shipped_spec
from crmlens.sources.postgres import describe_dsn, load_operational_crm, watermark
from crmlens.sources.spec import SpecError, load_spec
from tests.conftest import NOW

pytestmark = pytest.mark.postgres


@pytest.fixture
def operational(tiny_crm: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch):
    counts = load_operational_crm(tiny_crm, pg_database)
    monkeypatch.setenv("CRMLENS_SOURCE_POSTGRES_DSN", pg_database)
    return pg_database, counts, load_spec(shipped_spec("operational_crm"))


def test_the_generator_loads_every_crm_object(operational):
    dsn, counts, _ = operational
    assert set(counts) == {
        "teams",
        "users",
        "accounts",
        "contacts",
        "leads",
        "opportunities",
        "opportunity_stage_history",
        "activities",
        "campaigns",
        "campaign_members",
        "subscriptions",
        "invoices",
        "tickets",
    }
    with psycopg.connect(dsn) as con:
        typed = con.execute(
            "select data_type from information_schema.columns "
            "where table_schema = 'crm' and table_name = 'leads' and column_name = 'updated_at'"
        ).fetchone()
    assert typed == ("timestamp without time zone",)


def test_incremental_read_brings_only_new_and_changed_rows(operational, warehouse):
    dsn, counts, spec = operational
    first = ingest_table(warehouse, spec, "leads", now=NOW)
    assert first.rows_in == counts["leads"] and first.reconciles
    assert (
        first.rows_quarantined > 0
    )  # the seeded bad e-mails and future dates are in the database too
    mark = watermark(warehouse, "operational_crm", "leads")
    assert mark is not None and mark <= NOW

    later = datetime(2026, 11, 1, 9, 0, 0)
    with psycopg.connect(dsn) as con:
        lead_id = con.execute(
            "select lead_id from crm.leads where status = 'new' and email like '%@%.%' limit 1"
        ).fetchone()[0]
        con.execute(
            "update crm.leads set status = 'working', updated_at = %s where lead_id = %s",
            [later, lead_id],
        )
        con.execute(
            "insert into crm.leads (lead_id, company, email, source, status, created_at, updated_at)"
            " values ('L-NEW-1', 'Newco', 'ann@newco.io', 'web', 'new', %s, %s)",
            [later, later],
        )
    second = ingest_table(warehouse, spec, "leads", now=NOW)

    # Only the two changed rows, plus any row sharing the old watermark (read again, unchanged).
    assert (second.inserted, second.updated) == (1, 1)
    assert second.rows_in - second.unchanged - second.rows_quarantined == 2
    with psycopg.connect(dsn) as con:
        at_or_after = con.execute(
            "select count(*) from crm.leads where updated_at >= %s", [mark]
        ).fetchone()[0]
    assert second.rows_in == at_or_after < first.rows_in / 10
    status = warehouse.execute("select status from raw.leads where lead_id = ?", [lead_id])
    assert status.fetchall() == [("working",)]
    assert watermark(warehouse, "operational_crm", "leads") == later

    third = ingest_table(warehouse, spec, "leads", now=NOW)
    assert (third.inserted, third.updated) == (0, 0)


def test_a_future_typo_never_becomes_the_watermark(operational, warehouse):
    dsn, _, spec = operational
    with psycopg.connect(dsn) as con:
        con.execute(
            "update crm.leads set updated_at = '2926-01-01' "
            "where lead_id in (select lead_id from crm.leads limit 1)"
        )
    ingest_table(warehouse, spec, "leads", now=NOW)
    assert watermark(warehouse, "operational_crm", "leads") <= NOW


def test_errors_name_the_server_but_never_the_password(warehouse, monkeypatch, tmp_path):
    dsn = "host=127.0.0.1 port=1 user=crm password=hunter2 dbname=crm"
    assert describe_dsn(dsn) == "postgresql://crm@127.0.0.1:1/crm"
    spec_path = tmp_path / "pg.yml"
    spec_path.write_text(
        f"name: pg\nkind: postgres\ndsn: '{dsn}'\n"
        "tables:\n  leads: {select: select * from crm.leads, watermark: updated_at}\n"
    )
    with pytest.raises(ConnectionError) as excinfo:
        ingest_table(warehouse, load_spec(spec_path), "leads", now=NOW)
    assert "127.0.0.1:1" in str(excinfo.value) and "hunter2" not in str(excinfo.value)


def test_a_bad_postgres_select_is_a_spec_error(pg_database, warehouse, tmp_path):
    spec_path = tmp_path / "pg.yml"
    spec_path.write_text(
        f"name: pg\nkind: postgres\ndsn: '{pg_database}'\n"
        "tables:\n  leads: {select: select * from crm.nope}\n"
    )
    with pytest.raises(SpecError, match=r"table 'leads': the PostgreSQL select failed"):
        ingest_table(warehouse, load_spec(spec_path), "leads", now=NOW)
