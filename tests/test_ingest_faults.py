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
from pathlib import Path

import pytest

from crmlens.ingest import IngestResult, ingest_table
from crmlens.sources.spec import load_spec
from tests.conftest import NOW

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
    from crmlens.warehouse import session

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
    import polars as pl

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
    from crmlens.sources.spec import SpecError

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
    from crmlens.sources.spec import SpecError

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
    from crmlens.sources.spec import SpecError

    root = tmp_path / "export"
    write(root / "crm" / "contacts.csv", f"{CONTACT_HEADER}\n{contact('C1')}\n")
    spec = spec_file(root, files, {"contacts": "select * from contacts"}, extra)
    with pytest.raises(SpecError, match=message):
        load_spec(spec)


def test_an_alias_must_be_an_identifier(tmp_path):
    from crmlens.sources.spec import SpecError

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
