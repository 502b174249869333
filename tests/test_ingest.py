"""Ingest on a hand-made export whose every right answer is known line by line."""

from __future__ import annotations

import json
from datetime import date, datetime

import polars as pl
import pytest

from crmlens.contracts import TABLES
from crmlens.ingest import IngestResult, ReconciliationError, ingest_table
from crmlens.sources.spec import SpecError, load_spec
from tests.conftest import NOW

CONTACT_HEADER = (
    "contact_id,account_id,first_name,last_name,email,phone,title,seniority,lifecycle_stage,"
    "lead_source,opt_in,do_not_contact,created_at,updated_at,favourite_colour"
)
TS = "2025-01-01 10:00:00,2025-02-01 10:00:00"

# line -> (key, expected reason code); line 1 is the header.
CONTACTS = f"""
{CONTACT_HEADER}
C1,A1,Ann,Lee,ann@acme.com,,CEO,c_level,customer,web,true,false,{TS},red
C2,A1,Bob,Ray,bob@acme,,CTO,c_level,lead,web,true,false,{TS},blue
C3,A1,Cy,Day,cy@acme.com,,VP,vp,lead,web,maybe,false,{TS},green
C4,A1,Di,Fox,di@acme.com,,VP,vp,lead,web,true,false,2925-01-01 10:00:00,2925-01-01 10:00:00,red
C5,A1,Ed,Gu,ed@acme.com,,VP,vp,lead,web,true,false,{TS},red,extra
C6,A1,Fa,Ho,fa@acme.com,,VP,grand_poobah,lead,web,true,false,{TS},red
,A1,Ga,Io,ga@acme.com,,VP,vp,lead,web,true,false,{TS},red
C1,A1,Ann,Lee,ann@acme.com,,CEO,c_level,customer,web,true,false,2025-01-01 10:00:00,2025-01-15 10:00:00,red
C7,A1,Hu,Jo,hu@acme.com,,VP,vp,lead,web,true,false,{TS},red
C7,A1,Hu,Jo,hu@other.com,,VP,vp,lead,web,true,false,{TS},red
"""
EXPECTED_CONTACTS = {
    3: ("invalid_email", "email"),
    4: ("type_error", "opt_in"),
    5: ("future_timestamp", "created_at"),
    6: ("unparseable_row", None),
    7: ("unknown_value", "seniority"),
    8: ("missing_required", "contact_id"),
    10: ("duplicate_key", "contact_id"),
    11: ("duplicate_key", "contact_id"),
}

OPPORTUNITIES = """
opportunity_id,account_id,owner_user_id,name,stage,amount,currency,expected_close_date,created_at,closed_at,is_won,lost_reason,competitor,product_line,forecast_category,updated_at
O1,A1,U1,Big deal,proposal,50000,USD,2025-06-30,2025-01-01 10:00:00,,,,,core,pipeline,2025-02-01 10:00:00
O2,A1,U1,Refund,proposal,-100,USD,2025-06-30,2025-01-01 10:00:00,,,,,core,pipeline,2025-02-01 10:00:00
O3,A1,U1,Backwards,closed_lost,100,USD,2025-06-30,2025-03-01 10:00:00,2025-02-01 10:00:00,false,price,,core,closed,2025-03-02 10:00:00
O4,A1,U1,Euro text,proposal,"12,500.00 EUR",USD,2025-06-30,2025-01-01 10:00:00,,,,,core,pipeline,2025-02-01 10:00:00
O5,A1,U1,Typo stage,Closed Wonn,100,USD,2025-06-30,2025-01-01 10:00:00,,,,,core,pipeline,2025-02-01 10:00:00
O6,,U1,No account,proposal,100,USD,2025-06-30,2025-01-01 10:00:00,,,,,core,pipeline,2025-02-01 10:00:00
O7,A1,U1,Bad date,proposal,100,USD,31/02/2026,2025-01-01 10:00:00,,,,,core,pipeline,2025-02-01 10:00:00
"""
EXPECTED_OPPORTUNITIES = {
    3: ("negative_value", "amount"),
    4: ("end_before_start", "closed_at"),
    5: ("type_error", "amount"),
    6: ("unknown_value", "stage"),
    # Line 7 (O6, no account) is kept: a deal without an account counts (issue 13).
    8: ("type_error", "expected_close_date"),
}


def _load(con, spec_path, table, **kw) -> IngestResult:
    return ingest_table(con, load_spec(spec_path), table, now=NOW, **kw)


def _quarantine(con, table: str) -> dict[int, tuple[str, str | None]]:
    rows = con.execute(
        f"select _source_row, reason_code, column_name from quarantine.{table}"
    ).fetchall()
    return {row: (code, column) for row, code, column in rows}


def test_each_kind_of_bad_contact_is_quarantined_with_its_reason(warehouse, export):
    export.csv("contacts", CONTACTS)
    result = _load(warehouse, export.spec(["contacts"]), "contacts")

    assert _quarantine(warehouse, "contacts") == EXPECTED_CONTACTS
    # in = loaded + quarantined: 10 rows = C1 twice (one superseded) + 8 quarantined.
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (10, 2, 8)
    assert result.superseded == 1 and result.reconciles
    raw = warehouse.execute("select contact_id, updated_at from raw.contacts").fetchall()
    assert raw == [("C1", datetime(2025, 2, 1, 10))]  # the newer version of C1 won


def test_each_kind_of_bad_opportunity_is_quarantined_with_its_reason(warehouse, export):
    export.csv("opportunities", OPPORTUNITIES)
    result = _load(warehouse, export.spec(["opportunities"]), "opportunities")

    assert _quarantine(warehouse, "opportunities") == EXPECTED_OPPORTUNITIES
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (7, 2, 5)


def test_quarantine_rows_name_file_row_column_and_keep_the_original_values(warehouse, export):
    export.csv("opportunities", OPPORTUNITIES)
    _load(warehouse, export.spec(["opportunities"]), "opportunities")
    rows = {
        r[0]: r
        for r in warehouse.execute(
            "select _source_row, _source_file, record_key, reason, failures, record "
            "from quarantine.opportunities"
        ).fetchall()
    }
    _, file, key, reason, failures, record = rows[5]
    assert file == "crm/opportunities.csv" and key == "O4"
    assert reason == "amount: cannot read '12,500.00 EUR' as DOUBLE"
    assert json.loads(record)["amount"] == "12,500.00 EUR"
    assert json.loads(failures)[0]["reason_code"] == "type_error"
    assert (
        "closed_at (2025-02-01 10:00:00) is before created_at (2025-03-01 10:00:00)" in rows[4][3]
    )
    assert "allowed: prospecting, qualification" in rows[6][3]


def test_unparseable_line_is_kept_verbatim(warehouse, export):
    export.csv("contacts", CONTACTS)
    _load(warehouse, export.spec(["contacts"]), "contacts")
    reason, record = warehouse.execute(
        "select reason, record from quarantine.contacts where reason_code = 'unparseable_row'"
    ).fetchall()[0]
    assert "line 6" in reason
    assert json.loads(record)["line"].startswith("C5,A1,Ed,Gu")


def test_rerun_with_the_same_input_changes_nothing(warehouse, export):
    export.csv("contacts", CONTACTS)
    spec = export.spec(["contacts"])
    first = _load(warehouse, spec, "contacts")
    snapshot = {
        t: warehouse.execute(f"select * from {t} order by all").fetchall()
        for t in ("raw.contacts", "quarantine.contacts")
    }
    second = _load(warehouse, spec, "contacts")

    assert first.inserted == 1 and (second.inserted, second.updated) == (0, 0)
    assert second.unchanged == 1
    for table, rows in snapshot.items():
        assert warehouse.execute(f"select * from {table} order by all").fetchall() == rows


def test_upsert_latest_updated_at_wins(warehouse, export):
    good = f"{CONTACT_HEADER}\nC1,A1,Ann,Lee,ann@acme.com,,CEO,c_level,customer,web,true,false,{TS},red\n"
    export.csv("contacts", good)
    spec = export.spec(["contacts"])
    _load(warehouse, spec, "contacts")

    newer = good.replace(",CEO,", ",Chair,").replace("2025-02-01 10:00:00", "2025-03-01 10:00:00")
    export.csv("contacts", newer)
    result = _load(warehouse, spec, "contacts")
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 0)

    older = good.replace(",CEO,", ",Intern,").replace("2025-02-01 10:00:00", "2025-01-20 10:00:00")
    export.csv("contacts", older)
    result = _load(warehouse, spec, "contacts")
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, 1)
    assert warehouse.execute("select title from raw.contacts").fetchall() == [("Chair",)]


def test_custom_attributes_are_kept_and_typed(warehouse, export):
    export.csv("contacts", CONTACTS)
    result = _load(warehouse, export.spec(["contacts"]), "contacts")
    assert result.custom_attributes == ["favourite_colour"]
    types = dict(warehouse.execute("describe raw.contacts").fetchall()[i][:2] for i in range(17))
    assert types["favourite_colour"] == "VARCHAR" and types["opt_in"] == "BOOLEAN"


def test_declared_custom_attribute_type_is_enforced(warehouse, export):
    export.csv(
        "accounts",
        """
        account_id,name,created_at,updated_at,nps_score
        A1,Acme,2025-01-01,2025-01-02,9
        A2,Beta,2025-01-01,2025-01-02,very happy
        """,
    )
    spec = export.spec(["accounts"], extra="custom_attributes:\n  accounts: {nps_score: INTEGER}\n")
    result = _load(warehouse, spec, "accounts")
    assert _quarantine(warehouse, "accounts") == {3: ("type_error", "nps_score")}
    assert result.rows_loaded == 1
    assert warehouse.execute("select nps_score from raw.accounts").fetchall() == [(9,)]


def _write_events(root, day: date, rows: list[dict]) -> None:
    (root / "events").mkdir(exist_ok=True)
    frame = pl.DataFrame(
        rows,
        schema={
            "event_id": pl.String,
            "occurred_at": pl.Datetime("us"),
            "event_type": pl.String,
            "contact_id": pl.String,
            "lead_id": pl.String,
            "account_id": pl.String,
            "anonymous_id": pl.String,
            "session_id": pl.String,
            "campaign_id": pl.String,
            "properties": pl.String,
        },
    )
    frame.write_parquet(root / "events" / f"{day.isoformat()}.parquet")


def _event(eid: str, day: date, contact: str = "C1", etype: str = "page_view", props: str = "{}"):
    return {
        "event_id": eid,
        "occurred_at": datetime(day.year, day.month, day.day, 9),
        "event_type": etype,
        "contact_id": contact,
        "properties": props,
    }


@pytest.fixture
def events_export(export):
    export.csv(
        "contacts",
        f"{CONTACT_HEADER}\nC1,A1,Ann,Lee,ann@acme.com,,CEO,c_level,customer,web,true,false,{TS},red\n",
    )
    d1, d2 = date(2026, 10, 1), date(2026, 10, 2)
    _write_events(
        export.root,
        d1,
        [
            _event("E1", d1),
            _event("E2", d1, contact="C404"),  # unknown contact
            _event("E3", d1, etype="pageview"),  # an event type of the CRM's own: kept, other
            _event("E4", d1, props="{not json"),  # malformed properties
        ],
    )
    _write_events(export.root, d2, [_event("E5", d2), _event("E6", d2)])
    return export, d1, d2


def test_events_are_checked_against_contacts_and_the_contract(warehouse, events_export):
    export, _, _ = events_export
    spec = export.spec(["contacts"], events=True)
    _load(warehouse, spec, "contacts")
    result = _load(warehouse, spec, "events")

    # Event types are an open list (issue 13): 'pageview' is kept, and means `other`.
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (6, 4, 2)
    assert result.partitions == ["2026-10-01", "2026-10-02"]
    quarantined = warehouse.execute(
        "select _source_file, _source_row, reason_code from quarantine.events order by 2"
    ).fetchall()
    assert quarantined == [
        ("events/2026-10-01.parquet", 2, "unknown_reference"),
        ("events/2026-10-01.parquet", 4, "type_error"),
    ]


def test_reloading_a_day_replaces_exactly_that_day(warehouse, events_export):
    export, d1, d2 = events_export
    spec = export.spec(["contacts"], events=True)
    _load(warehouse, spec, "contacts")
    _load(warehouse, spec, "events")
    day2 = warehouse.execute(
        "select * from raw.events where _partition = ? order by all", [d2]
    ).fetchall()

    _write_events(export.root, d1, [_event("E7", d1), _event("E8", d1)])
    result = _load(warehouse, spec, "events", days=[d1])

    assert result.rows_in == 2 and result.partitions == ["2026-10-01"]
    ids = warehouse.execute("select event_id from raw.events where _partition = ? order by 1", [d1])
    assert ids.fetchall() == [("E7",), ("E8",)]
    assert warehouse.execute("select count(*) from quarantine.events").fetchall() == [(0,)]
    after = warehouse.execute("select * from raw.events where _partition = ? order by all", [d2])
    assert after.fetchall() == day2


def test_a_day_without_a_file_is_emptied(warehouse, events_export):
    export, d1, _ = events_export
    spec = export.spec(["contacts"], events=True)
    _load(warehouse, spec, "contacts")
    _load(warehouse, spec, "events")
    (export.root / "events" / f"{d1.isoformat()}.parquet").unlink()
    result = _load(warehouse, spec, "events", days=[d1])
    assert result.rows_in == 0
    assert warehouse.execute(
        "select count(*) from raw.events where _partition = ?", [d1]
    ).fetchall() == [(0,)]


def test_tables_the_spec_lacks_exist_empty(warehouse, export):
    export.csv("contacts", CONTACTS)
    spec = load_spec(export.spec(["contacts"]))
    for table in TABLES:
        result = ingest_table(warehouse, spec, table, now=NOW)
        assert result.reconciles
    assert warehouse.execute("select count(*) from raw.opportunities").fetchall() == [(0,)]


def test_a_load_that_does_not_reconcile_keeps_nothing(warehouse, export, monkeypatch):
    export.csv("contacts", CONTACTS)
    monkeypatch.setattr(IngestResult, "reconciles", property(lambda self: False))
    with pytest.raises(ReconciliationError, match="rows in but"):
        _load(warehouse, export.spec(["contacts"]), "contacts")
    assert warehouse.execute("select count(*) from raw.contacts").fetchall() == [(0,)]
    assert warehouse.execute("select count(*) from quarantine.contacts").fetchall() == [(0,)]


@pytest.mark.parametrize(
    ("select", "message"),
    [
        ("select * from nowhere", "the select reads none of the files"),
        ("select * from contacts where", "the select failed: Parser Error"),
        ("select contact_id from contacts", "does not return the required column(s) created_at"),
        ('select *, 1 as "Bad Name" from contacts', "must be snake_case identifiers"),
    ],
)
def test_spec_errors_name_the_spec_the_table_and_the_problem(warehouse, export, select, message):
    export.csv("contacts", CONTACTS)
    path = export.root / "bad.yml"
    path.write_text(
        f"name: broken\nfiles:\n  contacts: {{path: crm/contacts.csv}}\n"
        f"tables:\n  contacts: {{select: '{select}'}}\n"
    )
    with pytest.raises(SpecError) as excinfo:
        ingest_table(warehouse, load_spec(path), "contacts", now=NOW)
    text = str(excinfo.value)
    assert "source spec 'broken'" in text and "table 'contacts'" in text and message in text


def test_spec_error_for_a_missing_file_and_an_unknown_table(export):
    path = export.root / "bad.yml"
    path.write_text(
        "name: b\nfiles:\n  x: {path: crm/nope.csv}\ntables:\n  contacts: {select: select * from x}\n"
    )
    with pytest.raises(SpecError, match=r"table 'contacts': no file matches 'crm/nope.csv'"):
        from crmlens.warehouse import connect

        ingest_table(connect(), load_spec(path), "contacts", now=NOW)
    path.write_text("name: b\nfiles: {}\ntables:\n  deals: {select: select 1}\n")
    with pytest.raises(SpecError, match="'deals': not a canonical table"):
        load_spec(path)


def test_live_fields_are_kept_but_never_features(warehouse, export):
    from features.common import custom_columns

    export.csv(
        "accounts",
        """
        account_id,name,created_at,updated_at,nps_score,segment
        A1,Acme,2025-01-01,2025-01-02,9,north
        """,
    )
    spec = export.spec(["accounts"], extra="live_fields:\n  accounts: [nps_score]\n")
    _load(warehouse, spec, "accounts")
    assert warehouse.execute("select nps_score from raw.accounts").fetchall() == [(9,)]
    assert set(custom_columns(warehouse, "accounts")) == {"segment"}


def test_a_live_field_must_be_a_custom_one(export):
    path = export.root / "bad.yml"
    path.write_text(
        "name: b\nfiles:\n  a: {path: crm/a.csv}\ntables:\n  accounts: {select: select * from a}\n"
        "live_fields:\n  accounts: [name]\n"
    )
    with pytest.raises(SpecError, match="'name' is canonical"):
        load_spec(path)


def test_the_dbt_sources_of_the_raw_tables_are_rendered_from_the_contracts():
    from crmlens.sources import source_yaml

    assert source_yaml.SOURCES_PATH.read_text() == source_yaml.render()
