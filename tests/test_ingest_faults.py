"""Bad input on purpose: every fault a hostile or unlucky export can carry (issue 12).

Each case writes real files (real bytes in every encoding, a corrupt Parquet file, an open
quote...) into tmp_path, loads them into a real DuckDB warehouse, and checks what a user
would notice: the counts reconcile (in = loaded + quarantined), no value is lost or altered,
and every message names the file, the row and the column.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from crmlens.ingest import IngestResult, ingest_table
from crmlens.sources.spec import SpecError, load_spec
from crmlens.warehouse import connect, session
from tests.conftest import NOW
from tests.dbt_support import run_dbt

CRMLENS = Path(sys.executable).parent / "crmlens"
TS = "2025-01-01 10:00:00,2025-02-01 10:00:00"
CONTACT_HEADER = (
    "contact_id,account_id,first_name,last_name,email,phone,title,seniority,lifecycle_stage,"
    "lead_source,opt_in,do_not_contact,created_at,updated_at"
)


def contact(cid: str, first: str = "Ann", email: str | None = None, ts: str = TS) -> str:
    email = email if email is not None else f"{cid.lower()}@acme.com"
    return f"{cid},A1,{first},Lee,{email},,CEO,c_level,customer,web,true,false,{ts}"


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(textwrap.dedent(data).lstrip("\n"))
    else:
        path.write_bytes(data)
    return path


def spec_file(root: Path, files: dict[str, str], tables: dict[str, str], extra: str = "") -> Path:
    """A spec: alias -> file entry (YAML flow mapping body), table -> select."""
    lines = ["name: faults", "files:"]
    lines += [f"  {alias}: {{{entry}}}" for alias, entry in files.items()]
    lines.append("tables:")
    lines += [f"  {table}: {{select: {json.dumps(sql)}}}" for table, sql in tables.items()]
    path = root / "source_spec.yml"
    path.write_text("\n".join(lines) + "\n" + textwrap.dedent(extra))
    return path


def load(con, spec: Path, table: str, root: Path | None = None, **kw) -> IngestResult:
    return ingest_table(con, load_spec(spec, root), table, now=NOW, **kw)


def count(con, sql: str, params: list | None = None) -> int:
    return con.execute(sql, params or []).fetchall()[0][0]


def assert_reconciles(con, result: IngestResult) -> None:
    """in = loaded + quarantined, and the tables hold exactly that."""
    table = result.table
    assert result.reconciles
    assert result.rows_in == result.rows_loaded + result.rows_quarantined
    assert count(con, f"select count(*) from quarantine.{table}") == result.rows_quarantined


def quarantined(con, table: str) -> list[tuple]:
    return con.execute(
        f"select _source_file, _source_row, column_name, reason_code, reason, record "
        f"from quarantine.{table} order by _source_file, _source_row"
    ).fetchall()


# --- 1. quarantine is idempotent whatever form the spec's path takes -------------------


def crmlens(cwd: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"CRMLENS_HOME": str(home), "COLUMNS": "200"}
    env.pop("CRMLENS_WAREHOUSE_PATH", None)
    env.pop("CRMLENS_SOURCE_SPEC", None)
    return subprocess.run(
        [str(CRMLENS), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_rerunning_ingest_through_the_cli_never_grows_quarantine(tmp_path: Path):
    """Relative, ./-prefixed, absolute, and ..-laden paths name the same files."""
    export = tmp_path / "export"
    write(
        export / "crm" / "contacts.csv",
        "\n".join([CONTACT_HEADER, contact("C1"), contact("C2", email="bob@acme"), contact("C3")])
        + "\n",
    )
    spec_file(
        export, {"contacts": "path: crm/contacts.csv"}, {"contacts": "select * from contacts"}
    )
    (tmp_path / "elsewhere").mkdir()
    home = tmp_path / "home"
    runs = [
        (tmp_path, ["--spec", "export/source_spec.yml"]),
        (tmp_path, ["--spec", "./export/source_spec.yml"]),
        (tmp_path, ["--spec", str(export / "source_spec.yml")]),
        (tmp_path / "elsewhere", ["--spec", "../export/source_spec.yml"]),
        (tmp_path, ["--spec", "elsewhere/../export/source_spec.yml", "--root", "export"]),
        (export, ["--spec", "source_spec.yml", "--root", "."]),
    ]
    for cwd, args in runs:
        done = crmlens(cwd, home, "ingest", "--table", "contacts", *args)
        assert done.returncode == 0, done.stderr
        assert "reconciled: 3 in = 2 loaded + 1 quarantined" in done.stdout

    status = crmlens(tmp_path, home, "status")
    assert status.returncode == 0, status.stderr
    line = next(x for x in status.stdout.splitlines() if "│ contacts " in x)
    assert [c.strip() for c in line.split("│")[1:4]] == ["contacts", "2", "1"]

    with session(home / "warehouse.duckdb", read_only=True) as con:
        rows = con.execute("select _source_file, _source_row from quarantine.contacts").fetchall()
        files = con.execute("select distinct _source_file from raw.contacts").fetchall()
    assert rows == [("crm/contacts.csv", 3)]
    assert files == [("crm/contacts.csv",)]


# --- 3. numbers parse exactly or not at all ----------------------------------------------

ACCOUNTS_HEADER = "account_id,name,employee_count,annual_revenue,created_at,updated_at"


@pytest.mark.parametrize(
    ("value", "column", "loaded"),
    [
        ("1.079", "employee_count", None),
        ("2.5", "employee_count", None),
        ("0x1F", "employee_count", None),
        ("7.6", "employee_count", None),
        ("0b101", "employee_count", None),
        ("1_000", "employee_count", None),
        ("1e3", "employee_count", None),
        ("1,000", "employee_count", None),
        ("7.0", "employee_count", 7),
        (" 12 ", "employee_count", 12),
        ("+5", "employee_count", 5),
        ("1e400", "annual_revenue", None),
        ("inf", "annual_revenue", None),
        ("NaN", "annual_revenue", None),
        ("-Infinity", "annual_revenue", None),
        ("0x1F", "annual_revenue", None),
        ("1_000.5", "annual_revenue", None),
        ("2.5e6", "annual_revenue", 2.5e6),
        (".5", "annual_revenue", 0.5),
    ],
)
def test_a_number_that_does_not_parse_exactly_is_a_type_error(
    warehouse, tmp_path, value, column, loaded
):
    cells = {"employee_count": "10", "annual_revenue": "100.5"} | {column: value}
    cells = {k: f'"{v}"' if "," in v else v for k, v in cells.items()}
    row = f"A1,Acme,{cells['employee_count']},{cells['annual_revenue']},{TS}"
    write(tmp_path / "accounts.csv", f"{ACCOUNTS_HEADER}\n{row}\n")
    spec = spec_file(
        tmp_path, {"accounts": "path: accounts.csv"}, {"accounts": "select * from accounts"}
    )
    result = load(warehouse, spec, "accounts")
    assert_reconciles(warehouse, result)
    if loaded is not None:
        assert result.rows_loaded == 1
        assert count(warehouse, f"select {column} from raw.accounts") == loaded
        return
    assert result.rows_quarantined == 1 and result.reasons == {"type_error": 1}
    [(file, line, col, code, reason, record)] = quarantined(warehouse, "accounts")
    assert (file, line, col, code) == ("accounts.csv", 2, column, "type_error")
    assert f"'{value}'" in reason and column in reason
    assert json.loads(record)[column] == value  # kept exactly as the file had it


def test_non_finite_and_fractional_numbers_in_parquet_are_caught(warehouse, tmp_path):

    frame = pl.DataFrame(
        {
            "invoice_id": ["I1", "I2", "I3", "I4", "I5"],
            "account_id": ["A1"] * 5,
            "amount": [10.0, float("inf"), float("nan"), -float("inf"), 3.0],
            "issued_at": ["2025-01-01 10:00:00"] * 5,
            "seats": [1.0, 2.0, 3.0, 4.0, 2.5],  # a custom attribute: stays a double
        }
    )
    tickets = pl.DataFrame(
        {"ticket_id": ["T1", "T2", "T3"], "created_at": ["2025-01-01"] * 3, "csat": [4.0, 2.5, 5.0]}
    )
    frame.write_parquet(tmp_path / "invoices.parquet")
    tickets.write_parquet(tmp_path / "tickets.parquet")
    spec = spec_file(
        tmp_path,
        {"invoices": "path: invoices.parquet", "tickets": "path: tickets.parquet"},
        {"invoices": "select * from invoices", "tickets": "select * from tickets"},
    )
    result = load(warehouse, spec, "invoices")
    assert_reconciles(warehouse, result)
    assert (result.rows_loaded, result.reasons) == (2, {"out_of_range": 2, "negative_value": 1})
    assert [r[1:4] for r in quarantined(warehouse, "invoices")] == [
        (2, "amount", "out_of_range"),
        (3, "amount", "out_of_range"),
        (4, "amount", "negative_value"),  # -inf is both negative and not finite
    ]
    assert "amount: inf is not a finite number" in quarantined(warehouse, "invoices")[0][4]
    assert warehouse.execute("select seats from raw.invoices order by 1").fetchall() == [
        (1.0,),
        (2.5,),
    ]
    result = load(warehouse, spec, "tickets")
    assert_reconciles(warehouse, result)
    assert [r[1:4] for r in quarantined(warehouse, "tickets")] == [(2, "csat", "type_error")]
    assert warehouse.execute("select csat from raw.tickets order by 1").fetchall() == [(4,), (5,)]


def test_a_custom_attribute_with_fractions_is_not_inferred_as_an_integer(warehouse, tmp_path):
    write(
        tmp_path / "accounts.csv",
        f"account_id,name,created_at,updated_at,score\nA1,Acme,{TS},3\nA2,Beta,{TS},2.5\n"
        f"A3,Cy,{TS},0x1F\n",
    )
    spec = spec_file(
        tmp_path, {"accounts": "path: accounts.csv"}, {"accounts": "select * from accounts"}
    )
    result = load(warehouse, spec, "accounts")
    assert_reconciles(warehouse, result)
    # 0x1F is no number: the column is text, and every value is kept as written.
    assert warehouse.execute("select score from raw.accounts order by account_id").fetchall() == [
        ("3",),
        ("2.5",),
        ("0x1F",),
    ]
    write(
        tmp_path / "accounts.csv",
        f"account_id,name,created_at,updated_at,rate\nA1,Acme,{TS},3\nA2,Beta,{TS},2.5\n",
    )
    spec = spec_file(
        tmp_path, {"accounts": "path: accounts.csv"}, {"accounts": "select * from accounts"}
    )
    load(warehouse, spec, "accounts")
    assert warehouse.execute("select rate from raw.accounts order by account_id").fetchall() == [
        (3.0,),
        (2.5,),
        (None,),
    ]


# --- 16. a spec is code: what no spec needs is refused when it is loaded ----------------


@pytest.mark.parametrize(
    ("select", "message"),
    [
        ("select * from contacts; drop table raw.contacts", "holds 2 statements"),
        ("drop table raw.contacts", "is a DROP statement"),
        ("create table raw.evil as select * from contacts", "is a CREATE statement"),
        ("insert into raw.contacts select * from contacts", "is a INSERT statement"),
        ("delete from raw.contacts", "is a DELETE statement"),
        ("copy (select * from contacts) to '{tmp}/stolen.csv'", "is a COPY statement"),
        ("attach 'other.duckdb' as other", "is a ATTACH statement"),
        ("select * from read_csv('/etc/passwd')", "calls read_csv()"),
        ("select * from query('drop table raw.contacts')", "calls query()"),
        ("select * from '/etc/passwd'", "reads '/etc/passwd'"),
        ("select * from raw.contacts", "reads 'raw.contacts'"),
        (
            "with c as (select * from contacts) select * from c "
            "union all select * from ops.ingest_log",
            "reads 'ops.ingest_log'",
        ),
    ],
)
def test_a_select_that_does_more_than_select_its_files_is_refused(
    warehouse, tmp_path, select, message
):

    write(tmp_path / "crm" / "contacts.csv", f"{CONTACT_HEADER}\n{contact('C1')}\n")
    good = spec_file(
        tmp_path, {"contacts": "path: crm/contacts.csv"}, {"contacts": "select * from contacts"}
    )
    load(warehouse, good, "contacts")
    select = select.replace("{tmp}", tmp_path.as_posix())
    bad = spec_file(tmp_path, {"contacts": "path: crm/contacts.csv"}, {"contacts": select})
    with pytest.raises(SpecError) as excinfo:
        load(warehouse, bad, "contacts")
    text = str(excinfo.value)
    assert "source spec 'faults'" in text and "table 'contacts'" in text and message in text
    assert count(warehouse, "select count(*) from raw.contacts") == 1  # nothing ran
    assert not (tmp_path / "stolen.csv").exists()


def test_a_postgres_spec_is_one_select_too(tmp_path):

    path = write(
        tmp_path / "pg.yml",
        "name: pg\nkind: postgres\ndsn: postgresql://nobody@127.0.0.1/none\ntables:\n"
        "  teams: {select: 'select * from crm.teams; drop table crm.teams'}\n",
    )
    with pytest.raises(SpecError, match="table 'teams': the select holds 2 statements"):
        load_spec(path)


@pytest.mark.parametrize(
    ("files", "extra", "message"),
    [
        ({"contacts": "path: ../outside/contacts.csv"}, "", "points outside the spec's root"),
        (
            {"contacts": "path: crm/../../outside/contacts.csv"},
            "",
            "points outside the spec's root",
        ),
        ({"contacts": "path: /etc/passwd, format: csv"}, "", "points outside the spec's root"),
        (
            {"contacts": "path: crm/contacts.csv, options: {'header) --': true}"},
            "",
            "the reader option",
        ),
        (
            {"contacts": "path: crm/contacts.csv, format: jsonl, columns: {a: 'VARCHAR'') --'}"},
            "",
            "the type",
        ),
        (
            {"contacts": "path: crm/contacts.csv"},
            "custom_attributes:\n  contacts: {x: 'VARCHAR; drop table raw.contacts'}\n",
            "not a DuckDB type",
        ),
    ],
)
def test_paths_outside_the_root_and_names_pasted_into_sql_are_refused(
    tmp_path, files, extra, message
):

    root = tmp_path / "export"
    write(root / "crm" / "contacts.csv", f"{CONTACT_HEADER}\n{contact('C1')}\n")
    spec = spec_file(root, files, {"contacts": "select * from contacts"}, extra)
    with pytest.raises(SpecError, match=message):
        load_spec(spec)


def test_an_alias_must_be_an_identifier(tmp_path):

    write(tmp_path / "contacts.csv", f"{CONTACT_HEADER}\n{contact('C1')}\n")
    spec = spec_file(
        tmp_path,
        {'"c; drop table raw.contacts; --"': "path: contacts.csv"},
        {"contacts": "select 1"},
    )
    with pytest.raises(SpecError, match=r"the alias .* must be a plain identifier"):
        load_spec(spec)


def test_a_file_outside_the_root_loads_when_the_spec_allows_it(warehouse, tmp_path):
    write(
        tmp_path / "outside" / "contacts.csv",
        f"{CONTACT_HEADER}\n{contact('C1')}\n{contact('C2', email='x')}\n",
    )
    root = tmp_path / "export"
    root.mkdir()
    spec = spec_file(
        root,
        {"contacts": "path: ../outside/contacts.csv"},
        {"contacts": "select * from contacts"},
        "allow_outside_root: true\n",
    )
    result = load(warehouse, spec, "contacts")
    assert_reconciles(warehouse, result)
    assert result.rows_loaded == 1
    name = (tmp_path / "outside" / "contacts.csv").as_posix()
    assert quarantined(warehouse, "contacts")[0][:2] == (name, 3)  # outside the root: absolute


# --- 8. one bad file is quarantined whole; the others load --------------------------------


def write_events(root: Path, day: str, ids: list[str]) -> Path:

    when = datetime.fromisoformat(f"{day} 09:00:00")
    frame = pl.DataFrame(
        {
            "event_id": ids,
            "occurred_at": [when] * len(ids),
            "event_type": ["page_view"] * len(ids),
            "contact_id": [None] * len(ids),
        },
        schema={
            "event_id": pl.String,
            "occurred_at": pl.Datetime("us"),
            "event_type": pl.String,
            "contact_id": pl.String,
        },
    )
    path = root / "events" / f"{day}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return path


def corrupt_page(path: Path) -> None:
    """Flip every byte of the first column's pages: the footer stays valid."""

    column = pq.read_metadata(path).row_group(0).column(0)
    data = bytearray(path.read_bytes())
    start = column.dictionary_page_offset or column.data_page_offset
    for i in range(start, start + column.total_compressed_size):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def events_spec(root: Path) -> Path:
    return spec_file(
        root, {"events": 'path: "events/{day}.parquet"'}, {"events": "select * from events"}
    )


def raw_events(con) -> list[tuple]:
    return con.execute(
        "select event_id, _source_file, _source_row from raw.events order by 1"
    ).fetchall()


def test_corrupt_parquet_days_are_quarantined_whole_and_the_other_days_load(warehouse, tmp_path):
    for day, ids in [("2025-03-01", ["E1", "E2"]), ("2025-03-02", ["E3"]), ("2025-03-03", ["E4"])]:
        write_events(tmp_path, day, ids)
    spec = events_spec(tmp_path)
    first = load(warehouse, spec, "events")
    assert (first.rows_in, first.rows_loaded) == (4, 4)
    before = raw_events(warehouse)

    truncated = tmp_path / "events" / "2025-03-02.parquet"
    truncated.write_bytes(truncated.read_bytes()[:-40])
    corrupt_page(write_events(tmp_path, "2025-03-03", ["E4", "E5"]))
    write(tmp_path / "events" / "2025-03-04.parquet", b"")
    write_events(tmp_path, "2025-03-05", ["E6"])
    result = load(warehouse, spec, "events")

    assert_reconciles(warehouse, result)
    # 1 + 2 rows read, and three files that could not be read (one row each).
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (6, 3, 3)
    assert result.reasons == {"unreadable_file": 3}
    rows = {r[0]: r for r in quarantined(warehouse, "events")}
    assert set(rows) == {f"events/2025-03-0{d}.parquet" for d in (2, 3, 4)}
    for file, (_, _, column, code, reason, record) in rows.items():
        assert code == "unreadable_file" and column is None
        assert reason.startswith(f"{file} cannot be read, the whole file is set aside: ")
        assert json.loads(record)["file"] == file
    assert "Parquet" in rows["events/2025-03-02.parquet"][4]
    assert "corrupt Parquet page" in rows["events/2025-03-03.parquet"][4]
    assert "empty (0 bytes)" in rows["events/2025-03-04.parquet"][4]
    # The bad days keep what the earlier load read from them; the good days load.
    assert raw_events(warehouse) == [*before, ("E6", "events/2025-03-05.parquet", 1)]

    again = load(warehouse, spec, "events")  # a rerun changes nothing
    assert (again.rows_in, again.rows_loaded, again.rows_quarantined) == (6, 3, 3)
    assert count(warehouse, "select count(*) from quarantine.events") == 3
    assert raw_events(warehouse) == [*before, ("E6", "events/2025-03-05.parquet", 1)]


def contacts_files(tmp_path: Path, extra: str = "") -> Path:
    write(
        tmp_path / "crm" / "contacts_a.csv", f"{CONTACT_HEADER}\n{contact('C1')}\n{contact('C2')}\n"
    )
    return spec_file(
        tmp_path,
        {"contacts": "path: crm/contacts_*.csv"},
        {"contacts": "select * from contacts"},
        extra,
    )


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        (
            f"{CONTACT_HEADER}\n{contact('C3')}\n{contact('C4', first=chr(34) + 'Di')}\n{contact('C5')}\n",
            3,
            "line 3: a quoted value opens here and is never closed",
        ),
        (
            f"{CONTACT_HEADER}\n{contact('C3')}\n{contact('C4', first='x' * 2_100_000)}\n{contact('C5')}\n",
            3,
            "line 3: a record of 2,100,",
        ),
        ("", None, "the file is empty (0 bytes, not even a header)"),
    ],
    ids=["open-quote", "field-over-2MB", "0-byte"],
)
def test_an_unreadable_csv_is_quarantined_whole_with_its_line(
    warehouse, tmp_path, body, line, words
):
    spec = contacts_files(tmp_path)
    write(tmp_path / "crm" / "contacts_b.csv", body)
    result = load(warehouse, spec, "contacts")

    assert_reconciles(warehouse, result)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    [(file, row, column, code, reason, record)] = quarantined(warehouse, "contacts")
    assert (file, row, column, code) == ("crm/contacts_b.csv", line, None, "unreadable_file")
    assert reason.startswith("crm/contacts_b.csv cannot be read") and words in reason
    assert json.loads(record) == {"file": "crm/contacts_b.csv", "bytes": len(body.encode())}
    assert warehouse.execute("select contact_id from raw.contacts order by 1").fetchall() == [
        ("C1",),
        ("C2",),
    ]
    load(warehouse, spec, "contacts")
    assert count(warehouse, "select count(*) from quarantine.contacts") == 1


def test_a_reader_option_that_does_not_exist_is_a_spec_error_not_a_bad_file(warehouse, tmp_path):
    write(tmp_path / "crm" / "contacts.csv", f"{CONTACT_HEADER}\n{contact('C1')}\n")
    spec = spec_file(
        tmp_path,
        {"contacts": "path: crm/contacts.csv, options: {delimiterx: ';'}"},
        {"contacts": "select * from contacts"},
    )
    with pytest.raises(SpecError) as excinfo:
        load(warehouse, spec, "contacts")
    text = str(excinfo.value)
    assert "source spec 'faults'" in text and "table 'contacts'" in text
    assert "crm/contacts.csv" in text and "delimiterx" in text


def test_a_malformed_jsonl_file_is_quarantined_whole_with_its_line(warehouse, tmp_path):
    good = json.dumps({"team_id": "T1", "name": "North"})
    write(tmp_path / "teams" / "a.jsonl", f"{good}\n")
    write(tmp_path / "teams" / "b.jsonl", f'{good}\n\n{{"team_id": "T2", "name": \n')
    spec = spec_file(tmp_path, {"teams": "path: teams/*.jsonl"}, {"teams": "select * from teams"})
    result = load(warehouse, spec, "teams")
    assert_reconciles(warehouse, result)
    [(file, row, _, code, reason, _)] = quarantined(warehouse, "teams")
    assert (file, row, code) == ("teams/b.jsonl", 3, "unreadable_file")
    assert "Malformed JSON" in reason


def test_line_numbers_are_lines_with_quoted_newlines_blank_lines_and_no_header(warehouse, tmp_path):
    note = '"a note\nover three\nlines"'
    body = (
        f"{CONTACT_HEADER},note\n"
        f"{contact('C1')},{note}\n"  # lines 2-4
        "\n"  # line 5: blank
        f"{contact('C2', email='bad')},short\n"  # line 6
        f"{contact('C3')},x,too,many\n"  # line 7: unparseable
        f"{contact('C4', email='worse')},{note}\n"  # lines 8-10
        f"{contact('C5', email='worst')},z\n"  # line 11
    )
    write(tmp_path / "crm" / "contacts.csv", body)
    spec = spec_file(
        tmp_path, {"contacts": "path: crm/contacts.csv"}, {"contacts": "select * from contacts"}
    )
    result = load(warehouse, spec, "contacts")
    assert_reconciles(warehouse, result)
    assert [(r[1], r[3]) for r in quarantined(warehouse, "contacts")] == [
        (6, "invalid_email"),
        (7, "unparseable_row"),
        (8, "invalid_email"),
        (11, "invalid_email"),
    ]
    assert count(warehouse, "select _source_row from raw.contacts") == 2
    assert warehouse.execute("select note from raw.contacts").fetchall() == [
        ("a note\nover three\nlines",)
    ]

    # Without a header, the first record is line 1.
    headerless = "\n".join(
        [contact("C1"), contact("C2", email="bad"), contact("C3") + ",extra", contact("C4")]
    )
    write(tmp_path / "crm" / "plain.csv", headerless + "\n")
    columns = ", ".join(f"column{i} as {c}" for i, c in enumerate(CONTACT_HEADER.split(",")))
    spec = spec_file(
        tmp_path,
        {"plain": "path: crm/plain.csv, options: {header: false}"},
        {"contacts": f"select {columns}, _source_file, _source_row from plain"},
    )
    warehouse.execute("delete from raw.contacts; delete from quarantine.contacts")
    result = load(warehouse, spec, "contacts")
    assert_reconciles(warehouse, result)
    assert [(r[1], r[3]) for r in quarantined(warehouse, "contacts")] == [
        (2, "invalid_email"),
        (3, "unparseable_row"),
    ]
    assert warehouse.execute(
        "select contact_id, _source_row from raw.contacts order by 1"
    ).fetchall() == [
        ("C1", 1),
        ("C4", 4),
    ]


# --- 9. every encoding a CRM exports in; originals kept faithfully -----------------------

NAMES = ["José", "Zoë", "Ærø", "naïve", "Ñandú"]


def contacts_text(names: list[str], delim: str = ",", newline: str = "\n") -> str:
    header = CONTACT_HEADER.replace(",", delim)
    rows = [contact(f"C{i}", first=n).replace(",", delim) for i, n in enumerate(names, 1)]
    # The last contact has a bad e-mail: its quarantined record must keep its name.
    rows.append(contact("C99", first=names[0], email="nobody").replace(",", delim))
    # And a line the parser cannot split: the line is kept as it stood.
    rows.append(contact("C98", first=names[1]).replace(",", delim) + f"{delim}extra")
    return newline.join([header, *rows]) + newline


@pytest.mark.parametrize(
    ("encoding", "bom", "declared", "delim", "names"),
    [
        ("utf-8", b"", None, ",", NAMES),
        ("utf-8", b"\xef\xbb\xbf", None, ",", NAMES),
        ("utf-16-le", b"\xff\xfe", None, "\t", NAMES),  # Excel's "Unicode text"
        ("utf-16-le", b"", None, ",", NAMES),  # no byte-order mark
        ("utf-16-be", b"\xfe\xff", None, ",", NAMES),
        ("cp1252", b"", None, ",", [*NAMES, "€uro “quoted”"]),  # detected
        ("cp1252", b"", "windows-1252", ";", [*NAMES, "€uro"]),
        ("latin-1", b"", "latin-1", ",", NAMES),
        ("latin-1", b"", "ISO-8859-1", ",", ["José", "Ærø", "naïve"]),
    ],
)
def test_every_encoding_loads_and_quarantine_keeps_the_original_text(
    warehouse, tmp_path, encoding, bom, declared, delim, names
):
    body = contacts_text(names, delim, newline="\r\n" if "utf-16" in encoding else "\n")
    write(tmp_path / "crm" / "contacts.csv", bom + body.encode(encoding))
    entry = "path: crm/contacts.csv"
    if declared:
        entry += f", encoding: {declared}"
    if delim != ",":
        entry += f", options: {{delim: {json.dumps(delim)}}}"
    spec = spec_file(tmp_path, {"contacts": entry}, {"contacts": "select * from contacts"})
    result = load(warehouse, spec, "contacts")

    assert_reconciles(warehouse, result)
    assert (result.rows_loaded, result.reasons) == (
        len(names),
        {"invalid_email": 1, "unparseable_row": 1},
    )
    loaded = warehouse.execute("select first_name from raw.contacts order by contact_id").fetchall()
    assert sorted(n for (n,) in loaded) == sorted(names)
    rows = quarantined(warehouse, "contacts")
    (_, line, column, code, _, record) = rows[0]
    assert (line, column, code) == (len(names) + 2, "email", "invalid_email")
    assert json.loads(record)["first_name"] == names[0]
    (_, line, _, code, reason, record) = rows[1]
    assert (line, code) == (len(names) + 3, "unparseable_row")
    assert f"could not read line {len(names) + 3}" in reason
    assert (
        json.loads(record)["line"]
        == contact("C98", first=names[1]).replace(",", delim) + f"{delim}extra"
    )


def test_a_file_of_mixed_encodings_keeps_every_character(warehouse, tmp_path):
    """A Windows-1252 export appended to a UTF-8 one: each line read in its own."""
    lines = [CONTACT_HEADER, contact("C1", first="José"), contact("C2", first="€uro Zoë")]
    data = (lines[0] + "\n" + lines[1] + "\n").encode() + (lines[2] + "\n").encode("cp1252")
    write(tmp_path / "crm" / "contacts.csv", data)
    spec = spec_file(
        tmp_path, {"contacts": "path: crm/contacts.csv"}, {"contacts": "select * from contacts"}
    )
    result = load(warehouse, spec, "contacts")
    assert_reconciles(warehouse, result)
    assert warehouse.execute(
        "select contact_id, first_name, _source_row from raw.contacts order by 1"
    ).fetchall() == [("C1", "José", 2), ("C2", "€uro Zoë", 3)]


def test_a_file_that_is_not_in_its_declared_encoding_is_quarantined_with_its_line(
    warehouse, tmp_path
):
    body = contacts_text(NAMES)
    write(tmp_path / "crm" / "contacts.csv", body.encode("cp1252"))
    spec = spec_file(
        tmp_path,
        {"contacts": "path: crm/contacts.csv, encoding: utf-8"},
        {"contacts": "select * from contacts"},
    )
    result = load(warehouse, spec, "contacts")
    assert_reconciles(warehouse, result)
    [(file, line, _, code, reason, _)] = quarantined(warehouse, "contacts")
    assert (file, line, code) == ("crm/contacts.csv", 2, "unreadable_file")
    assert "line 2: bytes b'\\xe9' are not UTF-8" in reason and "encoding" in reason


def test_an_unknown_encoding_is_a_spec_error(tmp_path):

    write(tmp_path / "crm" / "contacts.csv", contacts_text(NAMES))
    spec = spec_file(
        tmp_path,
        {"contacts": "path: crm/contacts.csv, encoding: klingon"},
        {"contacts": "select * from contacts"},
    )
    with pytest.raises(SpecError, match="file 'contacts': unknown encoding 'klingon'"):
        load_spec(spec)


# --- 14. header-only exports warn; NUL bytes quarantine; a crash keeps load and log together


def test_a_header_only_export_is_accepted_with_a_warning_through_the_cli(tmp_path: Path):
    export = tmp_path / "export"
    write(export / "crm" / "contacts.csv", f"{CONTACT_HEADER}\n")
    write(export / "crm" / "teams.csv", "team_id,name\nT1,North\n")
    spec_file(
        export,
        {"contacts": "path: crm/contacts.csv", "teams": "path: crm/teams.csv"},
        {"contacts": "select * from contacts", "teams": "select * from teams"},
    )
    home = tmp_path / "home"
    done = crmlens(tmp_path, home, "ingest", "--spec", "export/source_spec.yml", "--root", "export")
    assert done.returncode == 0, done.stderr
    assert "contacts: crm/contacts.csv has a header but no rows" in done.stderr
    assert "Traceback" not in done.stderr
    assert "reconciled: 1 in = 1 loaded + 0 quarantined" in done.stdout
    status = crmlens(tmp_path, home, "status")
    assert status.returncode == 0, status.stderr
    line = next(x for x in status.stdout.splitlines() if "│ contacts " in x)
    assert [c.strip() for c in line.split("│")[1:4]] == ["contacts", "0", "0"]

    with session(home / "warehouse.duckdb", read_only=True) as con:
        logged = con.execute(
            "select warnings from ops.ingest_log where table_name = 'contacts'"
        ).fetchall()
    assert [json.loads(w) for (w,) in logged] == [["crm/contacts.csv has a header but no rows"]]


def test_a_header_only_export_is_a_warning_in_the_ingest_result(warehouse, tmp_path):
    write(tmp_path / "crm" / "contacts.csv", f"{CONTACT_HEADER}\r\n")
    spec = spec_file(
        tmp_path, {"contacts": "path: crm/contacts.csv"}, {"contacts": "select * from contacts"}
    )
    result = load(warehouse, spec, "contacts")
    assert_reconciles(warehouse, result)
    assert (result.rows_in, result.warnings) == (0, ["crm/contacts.csv has a header but no rows"])


def test_nul_bytes_in_a_value_quarantine_the_row(warehouse, tmp_path):

    nul = contact("C2", first="Jo\x00sé")
    body = f"{CONTACT_HEADER}\n{contact('C1')}\n{nul}\n{contact('C3')}\n"
    write(tmp_path / "crm" / "contacts.csv", body.encode())
    pl.DataFrame({"team_id": ["T1", "T2"], "name": ["North", "So\x00uth"]}).write_parquet(
        tmp_path / "teams.parquet"
    )
    spec = spec_file(
        tmp_path,
        {"contacts": "path: crm/contacts.csv", "teams": "path: teams.parquet"},
        {"contacts": "select * from contacts", "teams": "select * from teams"},
    )
    for table, file, line, column, kept in [
        ("contacts", "crm/contacts.csv", 3, "first_name", "Jo\x00sé"),
        ("teams", "teams.parquet", 2, "name", "So\x00uth"),
    ]:
        result = load(warehouse, spec, table)
        assert_reconciles(warehouse, result)
        assert (result.rows_loaded, result.reasons) == (result.rows_in - 1, {"nul_byte": 1})
        [(f, row, col, code, reason, record)] = quarantined(warehouse, table)
        assert (f, row, col, code) == (file, line, column, "nul_byte")
        assert f"{column}: the value holds a NUL byte (\\x00) at character 3" == reason
        assert json.loads(record)[column] == kept  # kept exactly, the NUL byte too


CRASH = """
import os, sys
from crmlens.ingest import log, ingest_table
from crmlens.sources.spec import load_spec
from crmlens.warehouse import connect
from tests.conftest import NOW

def killed(con, row):
    os._exit(9)  # the process dies where the log row is written

log.record = killed
con = connect(sys.argv[1])
ingest_table(con, load_spec(sys.argv[2]), "contacts", now=NOW)
"""


def test_a_crash_never_leaves_a_load_without_its_ingest_log_row(tmp_path):

    write(
        tmp_path / "crm" / "contacts.csv", f"{CONTACT_HEADER}\n{contact('C1')}\n{contact('C2')}\n"
    )
    spec = spec_file(
        tmp_path, {"contacts": "path: crm/contacts.csv"}, {"contacts": "select * from contacts"}
    )
    warehouse = tmp_path / "warehouse.duckdb"
    repo = Path(__file__).resolve().parents[1]
    died = subprocess.run(
        [sys.executable, "-c", CRASH, str(warehouse), str(spec)], cwd=repo, check=False
    )
    assert died.returncode == 9
    con = connect(warehouse)
    try:
        loaded = count(con, "select count(*) from raw.contacts")
        logged = count(con, "select count(*) from ops.ingest_log")
        assert (loaded, logged) == (0, 0)  # the load and its log row: both or neither
        result = ingest_table(con, load_spec(spec), "contacts", now=NOW)
        assert result.rows_loaded == 2
        assert count(con, "select count(*) from ops.ingest_log") == 1
    finally:
        con.close()


# --- 2. a key already loaded elsewhere never lands in raw twice ---------------------------


def test_a_re_delivered_event_in_another_days_file_is_quarantined_not_loaded_twice(
    warehouse, tmp_path
):
    write_events(tmp_path, "2025-03-01", ["E1", "E2"])
    spec = events_spec(tmp_path)
    load(warehouse, spec, "events")
    # The next day's file carries E2 again (an at-least-once feed), and a new E3.
    write_events(tmp_path, "2025-03-02", ["E2", "E3"])

    result = load(warehouse, spec, "events", days=[date(2025, 3, 2)])
    assert_reconciles(warehouse, result)
    assert (result.rows_in, result.rows_loaded, result.reasons) == (2, 1, {"duplicate_key": 1})
    assert raw_events(warehouse) == [
        ("E1", "events/2025-03-01.parquet", 1),
        ("E2", "events/2025-03-01.parquet", 2),
        ("E3", "events/2025-03-02.parquet", 2),
    ]
    [(file, row, column, code, reason, record)] = quarantined(warehouse, "events")
    assert (file, row, column, code) == (
        "events/2025-03-02.parquet",
        1,
        "event_id",
        "duplicate_key",
    )
    assert "E2 is already loaded from events/2025-03-01.parquet row 2" in reason
    assert json.loads(record)["event_id"] == "E2"

    # Reloading everything, in one chunk or a chunk a day, gives the same tables.
    snapshot = {
        t: warehouse.execute(f"select * exclude (_partition) from {t} order by all").fetchall()
        for t in ("raw.events", "quarantine.events")
    }
    for chunk_rows in (1_000_000, 1):
        again = load(warehouse, spec, "events", chunk_rows=chunk_rows)
        assert_reconciles(warehouse, again)
        assert (again.rows_in, again.rows_loaded, again.reasons) == (4, 3, {"duplicate_key": 1})
        for table, rows in snapshot.items():
            query = f"select * exclude (_partition) from {table} order by all"
            assert warehouse.execute(query).fetchall() == rows, (chunk_rows, table)
    assert count(warehouse, "select count(*) - count(distinct event_id) from raw.events") == 0


def test_dbt_staging_stays_unique_after_a_re_delivered_event(tmp_path):
    """The daily pipeline's unique test on staging passes: nothing to edit by hand."""

    write_events(tmp_path, "2025-03-01", ["E1", "E2"])
    write_events(tmp_path, "2025-03-02", ["E2", "E3"])
    spec = events_spec(tmp_path)
    path = tmp_path / "warehouse.duckdb"
    con = connect(path)
    for day in ("2025-03-01", "2025-03-02"):  # as the daily job loads them: a day at a time
        load(con, spec, "events", days=[date.fromisoformat(day)])
    con.close()
    run_dbt(path, ["build", "--select", "stg_crm__events"])  # raises if its tests fail
    con = connect(path)
    assert con.execute("select event_id from staging.stg_crm__events order by 1").fetchall() == [
        ("E1",),
        ("E2",),
        ("E3",),
    ]
    con.close()


def test_events_from_one_plain_file_are_upserted_not_appended(warehouse, tmp_path):
    """A spec reading events from one file (no day template): a rerun changes nothing."""
    path = write_events(tmp_path, "2025-03-01", ["E1", "E2"])
    path.rename(tmp_path / "events.parquet")
    spec = spec_file(
        tmp_path, {"events": "path: events.parquet"}, {"events": "select * from events"}
    )
    for _ in range(2):
        result = load(warehouse, spec, "events")
        assert_reconciles(warehouse, result)
    assert count(warehouse, "select count(*) from raw.events") == 2


# --- 10. schema drift: a missing, renamed or new column is a warning, logged ------------

ACCOUNTS_LACKS = (
    "lacks:\n  accounts: [domain, employee_count, annual_revenue, country, region, "
    "parent_account_id, owner_user_id, account_type, tier]\n"
)


def accounts_csv(root: Path, industry_header: str = "industry") -> None:
    write(
        root / "crm" / "accounts.csv",
        f"account_id,name,{industry_header},created_at,updated_at,segment\n"
        f"A1,Acme,Retail,{TS},north\nA2,Beta,Banking,{TS},south\n",
    )


def drift_logged(con) -> list[list[str]]:
    rows = con.execute(
        "select schema_changes from ops.ingest_log where table_name = 'accounts' order by started_at"
    ).fetchall()
    return [json.loads(r) for (r,) in rows]


def test_a_renamed_or_vanished_column_is_a_logged_warning(warehouse, tmp_path, caplog):
    accounts_csv(tmp_path)
    spec = spec_file(
        tmp_path,
        {"accounts": "path: crm/accounts.csv"},
        {"accounts": "select * from accounts"},
        ACCOUNTS_LACKS,
    )
    first = load(warehouse, spec, "accounts")
    assert first.schema_changes == []

    accounts_csv(tmp_path, industry_header="sector")  # the CRM renamed a field
    second = load(warehouse, spec, "accounts")
    assert_reconciles(warehouse, second)
    assert second.rows_loaded == 2  # nothing lost: the rows load, with a warning
    assert second.schema_changes == [
        "canonical column 'industry' is missing: null in every row (if the CRM has no such "
        "field, list it under `lacks:` in the spec)",
        "column 'industry' vanished since the previous load",
        "column 'sector' is new since the previous load",
    ]
    assert drift_logged(warehouse) == [[], second.schema_changes]
    assert "accounts: column 'industry' vanished since the previous load" in caplog.text
    # The values are not lost: they are kept as the custom attribute `sector`.
    assert warehouse.execute("select sector from raw.accounts order by 1").fetchall() == [
        ("Banking",),
        ("Retail",),
    ]


def test_optional_columns_the_spec_says_its_crm_lacks_raise_nothing(warehouse, tmp_path):
    accounts_csv(tmp_path)
    bare = spec_file(
        tmp_path, {"accounts": "path: crm/accounts.csv"}, {"accounts": "select * from accounts"}
    )
    result = load(warehouse, bare, "accounts")
    assert len(result.schema_changes) == 9  # nine optional canonical columns, undeclared
    assert all("is missing" in c for c in result.schema_changes)
    declared = spec_file(
        tmp_path,
        {"accounts": "path: crm/accounts.csv"},
        {"accounts": "select * from accounts"},
        ACCOUNTS_LACKS,
    )
    assert load(warehouse, declared, "accounts").schema_changes == []


def test_a_spec_may_only_say_it_lacks_optional_canonical_columns(tmp_path):

    accounts_csv(tmp_path)
    for lacks, message in [
        ("[name]", "which the contract requires"),
        ("[colour]", "not canonical"),
    ]:
        spec = spec_file(
            tmp_path,
            {"accounts": "path: crm/accounts.csv"},
            {"accounts": "select * from accounts"},
            f"lacks:\n  accounts: {lacks}\n",
        )
        with pytest.raises(SpecError, match=message):
            load_spec(spec)


def test_the_schema_check_warns_in_dagster(tmp_path, crmlens_home):
    from dagster import AssetCheckSeverity, DagsterInstance

    from crmlens.settings import get_settings
    from pipelines.run import run_job

    accounts_csv(tmp_path)
    spec = spec_file(
        tmp_path,
        {"accounts": "path: crm/accounts.csv"},
        {"accounts": "select * from accounts"},
        ACCOUNTS_LACKS,
    )
    settings = get_settings(source_spec=spec)
    instance = DagsterInstance.ephemeral()
    run_job(settings, "ingest", instance=instance)
    accounts_csv(tmp_path, industry_header="sector")
    result = run_job(settings, "ingest", instance=instance)
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    drift = checks["accounts_schema_changes"]
    assert not drift.passed and drift.severity == AssetCheckSeverity.WARN
    assert "column 'industry' vanished" in drift.metadata["changes"].value
    assert checks["contacts_schema_changes"].passed  # not provided: nothing to say


# --- 12. a custom attribute's type widens instead of losing rows -------------------------


def widened(changes: list[str]) -> list[str]:
    return [c for c in changes if c.startswith("custom attribute")]


def test_a_custom_attribute_widens_instead_of_quarantining_what_does_not_fit(warehouse, tmp_path):
    def export(*rows: str) -> None:
        write(
            tmp_path / "crm" / "accounts.csv",
            "account_id,name,created_at,updated_at,budget\n"
            + "".join(f"{r.split(':')[0]},Acme,{TS},{r.split(':')[1]}\n" for r in rows),
        )

    spec = spec_file(
        tmp_path, {"accounts": "path: crm/accounts.csv"}, {"accounts": "select * from accounts"}
    )
    export("A1:10", "A2:20")
    load(warehouse, spec, "accounts")
    types = dict(
        warehouse.execute(
            "select column_name, data_type from information_schema.columns where table_name = 'accounts' and table_schema = 'raw'"
        ).fetchall()
    )
    assert types["budget"] == "BIGINT"

    export("A1:10", "A2:20", "A3:2.5")
    result = load(warehouse, spec, "accounts")
    assert_reconciles(warehouse, result)
    assert (result.rows_loaded, result.rows_quarantined) == (3, 0)
    assert widened(result.schema_changes) == [
        "custom attribute 'budget' widened from BIGINT to DOUBLE"
    ]

    export("A1:10", "A2:20", "A3:2.5", "A4:50-100")  # a range where numbers were
    result = load(warehouse, spec, "accounts")
    assert_reconciles(warehouse, result)
    assert (result.rows_loaded, result.rows_quarantined) == (4, 0)
    assert widened(result.schema_changes) == [
        "custom attribute 'budget' widened from DOUBLE to VARCHAR"
    ]
    assert warehouse.execute(
        "select account_id, budget from raw.accounts order by 1"
    ).fetchall() == [
        ("A1", "10"),  # read again from the file: its text, as written
        ("A2", "20"),
        ("A3", "2.5"),
        ("A4", "50-100"),
    ]
    logged = warehouse.execute(
        "select schema_changes from ops.ingest_log where table_name = 'accounts' order by started_at"
    ).fetchall()
    assert [widened(json.loads(x)) for (x,) in logged] == [
        [],
        ["custom attribute 'budget' widened from BIGINT to DOUBLE"],
        ["custom attribute 'budget' widened from DOUBLE to VARCHAR"],
    ]


def test_a_custom_attribute_widens_between_the_chunks_of_one_load(warehouse, tmp_path):

    for day, scores in [("2025-03-01", [1, 2]), ("2025-03-02", ["high", "3"])]:
        frame = pl.DataFrame(
            {
                "event_id": [f"{day}-{i}" for i in range(2)],
                "occurred_at": [datetime.fromisoformat(f"{day} 09:00")] * 2,
                "event_type": ["page_view"] * 2,
                "score": scores,
            }
        )
        (tmp_path / "events").mkdir(exist_ok=True)
        frame.write_parquet(tmp_path / "events" / f"{day}.parquet")
    result = load(warehouse, events_spec(tmp_path), "events", chunk_rows=1)  # a chunk a day
    assert_reconciles(warehouse, result)
    assert (result.rows_loaded, result.rows_quarantined) == (4, 0)
    assert "custom attribute 'score' widened from BIGINT to VARCHAR" in result.schema_changes
    assert warehouse.execute("select score from raw.events order by event_id").fetchall() == [
        ("1",),
        ("2",),
        ("high",),
        ("3",),
    ]


# --- 14. deletions, declared per table: a flag, tombstones, or full snapshots -----------


def raw_deleted(con, table: str, key: str) -> dict[str, object]:
    return dict(con.execute(f"select {key}, _deleted_at from raw.{table} order by 1").fetchall())


def contacts_with_flag(root: Path, rows: list[tuple[str, str, str]]) -> None:
    write(
        root / "crm" / "contacts.csv",
        f"{CONTACT_HEADER},is_deleted\n"
        + "".join(f"{contact(cid, ts=ts)},{flag}\n" for cid, flag, ts in rows),
    )


def test_deleted_flag_marks_raw_rows_deleted_with_when(warehouse, tmp_path):

    later = "2025-01-01 10:00:00,2025-04-01 10:00:00"
    contacts_with_flag(tmp_path, [("C1", "true", TS), ("C2", "false", TS), ("C3", "maybe", TS)])
    spec = spec_file(
        tmp_path,
        {"contacts": "path: crm/contacts.csv"},
        {"contacts": "select * from contacts"},
        "deletions:\n  contacts: {flag: is_deleted}\n",
    )
    result = load(warehouse, spec, "contacts")
    assert_reconciles(warehouse, result)
    assert (result.rows_loaded, result.reasons, result.marked_deleted) == (2, {"type_error": 1}, 1)
    assert raw_deleted(warehouse, "contacts", "contact_id") == {
        "C1": datetime(2025, 2, 1, 10),  # deleted when the CRM last changed it
        "C2": None,
    }
    [(_, line, column, code, _, record)] = quarantined(warehouse, "contacts")
    assert (line, column, code) == (4, "is_deleted", "type_error")
    assert json.loads(record)["is_deleted"] == "maybe"
    columns = [r[0] for r in warehouse.execute("describe raw.contacts").fetchall()]
    assert "is_deleted" not in columns  # the flag is how deletion is said, not an attribute

    again = load(warehouse, spec, "contacts")  # a rerun changes nothing
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    contacts_with_flag(tmp_path, [("C1", "false", later), ("C2", "false", TS)])  # restored
    load(warehouse, spec, "contacts")
    assert raw_deleted(warehouse, "contacts", "contact_id") == {"C1": None, "C2": None}


def test_tombstones_mark_raw_rows_deleted_with_when(warehouse, tmp_path):

    write(
        tmp_path / "crm" / "contacts.csv",
        "\n".join([CONTACT_HEADER, *(contact(c) for c in ("C1", "C2", "C3"))]) + "\n",
    )
    write(tmp_path / "crm" / "deleted.csv", "Id,DeletedDate\nC2,2025-03-01 08:00:00\nC404,\n")
    spec = spec_file(
        tmp_path,
        {"contacts": "path: crm/contacts.csv", "deleted": "path: crm/deleted.csv"},
        {"contacts": "select * from contacts"},
        "deletions:\n  contacts:\n    tombstones: select Id as contact_id, DeletedDate as deleted_at from deleted\n",
    )
    result = load(warehouse, spec, "contacts")
    assert_reconciles(warehouse, result)
    assert (result.rows_in, result.rows_loaded, result.marked_deleted) == (3, 3, 1)
    assert raw_deleted(warehouse, "contacts", "contact_id") == {
        "C1": None,
        "C2": datetime(2025, 3, 1, 8),
        "C3": None,
    }
    # The next export no longer has C3, and the tombstones name it without a date.
    write(
        tmp_path / "crm" / "contacts.csv",
        "\n".join([CONTACT_HEADER, contact("C1"), contact("C2")]) + "\n",
    )
    write(tmp_path / "crm" / "deleted.csv", "Id,DeletedDate\nC2,2025-03-01 08:00:00\nC3,\n")
    result = load(warehouse, spec, "contacts")
    assert result.marked_deleted == 2
    marks = raw_deleted(warehouse, "contacts", "contact_id")
    assert marks["C3"] == NOW  # when the load saw the tombstone
    again = load(warehouse, spec, "contacts")
    assert (again.inserted, again.updated) == (0, 0)
    assert raw_deleted(warehouse, "contacts", "contact_id") == marks  # the same "when"


def test_full_snapshot_marks_absent_keys_deleted(warehouse, tmp_path):
    def export(*ids: str, header_only: bool = False) -> None:
        rows = [] if header_only else [f"{i},Acme,Retail,{TS},x" for i in ids]
        write(
            tmp_path / "crm" / "accounts.csv",
            "\n".join(["account_id,name,industry,created_at,updated_at,segment", *rows]) + "\n",
        )

    spec = spec_file(
        tmp_path,
        {"accounts": "path: crm/accounts.csv"},
        {"accounts": "select * from accounts"},
        "deletions:\n  accounts: {full_snapshot: true}\n",
    )
    export("A1", "A2", "A3")
    load(warehouse, spec, "accounts")
    export("A1", "A3")
    result = load(warehouse, spec, "accounts")
    assert_reconciles(warehouse, result)
    assert raw_deleted(warehouse, "accounts", "account_id") == {"A1": None, "A2": NOW, "A3": None}
    assert result.marked_deleted == 1
    assert load(warehouse, spec, "accounts").marked_deleted == 1  # a rerun changes nothing
    assert raw_deleted(warehouse, "accounts", "account_id")["A2"] == NOW

    # An empty export is no snapshot: nothing is marked deleted, and it says so.
    export(header_only=True)
    result = load(warehouse, spec, "accounts")
    assert raw_deleted(warehouse, "accounts", "account_id") == {"A1": None, "A2": NOW, "A3": None}
    assert any("not a full snapshot" in w for w in result.warnings)
    export("A1", "A2", "A3")  # A2 is back
    load(warehouse, spec, "accounts")
    assert raw_deleted(warehouse, "accounts", "account_id") == {"A1": None, "A2": None, "A3": None}


def test_a_quarantined_row_is_no_absent_key_in_a_snapshot(warehouse, tmp_path):
    write(
        tmp_path / "crm" / "accounts.csv",
        f"account_id,name,employee_count,created_at,updated_at\nA1,Acme,5,{TS}\nA2,Beta,5,{TS}\n",
    )
    spec = spec_file(
        tmp_path,
        {"accounts": "path: crm/accounts.csv"},
        {"accounts": "select * from accounts"},
        "deletions:\n  accounts: {full_snapshot: true}\n",
    )
    load(warehouse, spec, "accounts")
    write(
        tmp_path / "crm" / "accounts.csv",
        f"account_id,name,employee_count,created_at,updated_at\nA1,Acme,5,{TS}\nA2,Beta,2.5,{TS}\n",
    )
    result = load(warehouse, spec, "accounts")
    assert result.reasons == {"type_error": 1}
    assert raw_deleted(warehouse, "accounts", "account_id") == {"A1": None, "A2": None}


def test_staging_drops_deleted_rows(tmp_path):

    contacts_with_flag(tmp_path, [("C1", "true", TS), ("C2", "false", TS)])
    write(
        tmp_path / "crm" / "accounts.csv", f"account_id,name,created_at,updated_at\nA1,Acme,{TS}\n"
    )
    spec = spec_file(
        tmp_path,
        {"contacts": "path: crm/contacts.csv", "accounts": "path: crm/accounts.csv"},
        {"contacts": "select * from contacts", "accounts": "select * from accounts"},
        "deletions:\n  contacts: {flag: is_deleted}\n",
    )
    path = tmp_path / "warehouse.duckdb"
    con = connect(path)
    for table in ("accounts", "contacts"):
        load(con, spec, table)
    con.close()
    run_dbt(path, ["run", "--select", "stg_crm__contacts", "stg_crm__accounts"])
    con = connect(path)
    assert con.execute("select contact_id from staging.stg_crm__contacts").fetchall() == [("C2",)]
    columns = [r[0] for r in con.execute("describe staging.stg_crm__contacts").fetchall()]
    assert "_deleted_at" not in columns  # not passed through as a custom attribute
    assert con.execute("select account_id from staging.stg_crm__accounts").fetchall() == [("A1",)]
    con.close()


@pytest.mark.parametrize(
    ("deletions", "message"),
    [
        ("events: {full_snapshot: true}", "day files"),
        ("contacts: {flag: is_deleted, full_snapshot: true}", "exactly one"),
        ("contacts: {flag: 'x; drop'}", "plain identifier"),
        ("contacts: {tombstones: 'delete from raw.contacts'}", "is a DELETE statement"),
        ("deals: {flag: x}", "does not provide"),
    ],
)
def test_deletions_a_spec_cannot_declare(tmp_path, deletions, message):

    write(tmp_path / "crm" / "contacts.csv", f"{CONTACT_HEADER}\n{contact('C1')}\n")
    spec = spec_file(
        tmp_path,
        {"contacts": "path: crm/contacts.csv", "events": 'path: "events/{day}.parquet"'},
        {"contacts": "select * from contacts", "events": "select * from events"},
        f"deletions:\n  {deletions}\n",
    )
    with pytest.raises(SpecError, match=message):
        load_spec(spec)
