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
