"""A file's dialect in the source spec: header or not, delimiter (whitespace too), dates.

Real exports come without a header, split by semicolons, tabs or runs of spaces, with
dates written day first. Each case writes its file and spec into tmp_path and loads it
(through ``crmlens ingest --spec`` where the user's path matters), then checks the
values, the line a quarantined row names, and that a spec's SQL failing at run time
is one line, not a stack trace.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import date, datetime
from pathlib import Path

import pytest

from crmlens.ingest import ingest_table
from crmlens.sources.spec import SpecError, load_spec
from crmlens.sources.text import collapse_whitespace
from crmlens.warehouse import connect, session
from tests.conftest import NOW
from tests.export_shapes import whitespace_headerless

CRMLENS = Path(sys.executable).parent / "crmlens"

LEADS_SELECT = """
          select column0 as lead_id, column1 as source, column2 as country,
                 column5 as status, column3 as created_at,
                 nullif(column4, '-') as converted_at,
                 coalesce(nullif(column4, '-'), column3) as updated_at,
                 _source_file, _source_row
          from leads
"""


def crmlens(cwd: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"CRMLENS_HOME": str(home), "COLUMNS": "200"}
    env.pop("CRMLENS_WAREHOUSE_PATH", None)
    env.pop("CRMLENS_SOURCE_SPEC", None)
    return subprocess.run(
        [str(CRMLENS), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def write_spec(root: Path, name: str, files: str, tables: str) -> Path:
    """A spec: ``files`` and ``tables`` are YAML bodies (indented under their keys)."""
    text = f"name: {name}\nfiles:\n{textwrap.indent(textwrap.dedent(files).strip(), '  ')}\n"
    text += f"tables:\n{textwrap.indent(textwrap.dedent(tables).strip(), '  ')}\n"
    path = root / "spec.yml"
    path.write_text(text)
    return path


def rows(home: Path, sql: str) -> list[tuple]:
    with session(home / "warehouse.duckdb", read_only=True) as con:
        return con.execute(sql).fetchall()


# --- a header-less file whose fields are separated by runs of blanks ----------------------


def test_a_headerless_whitespace_file_loads_through_the_cli_with_its_lines(tmp_path: Path):
    """Runs of spaces and tabs split fields; line 1 is the first record; a bad date names
    its line; a quoted value keeps its blanks."""
    (tmp_path / "leads.txt").write_text(
        "L1   Web        US   2024-03-01 -          working\n"
        "  L2\tReferral   DE   2024-03-02 2024-04-02 converted   \n"
        "\n"
        'L3   "Cold call" FR   2024-13-45 -          working\n'
        "L4   Partner    GB   2024-03-04 -          working\n"
    )
    spec = write_spec(
        tmp_path,
        "spaced_leads",
        "leads: {path: leads.txt, delimiter: whitespace, header: false}",
        f"leads:\n  select: |{LEADS_SELECT}",
    )
    home = tmp_path / "home"
    done = crmlens(tmp_path, home, "ingest", "--spec", str(spec), "--table", "leads")
    assert done.returncode == 0, done.stderr
    assert "reconciled: 4 in = 3 loaded + 1 quarantined" in done.stdout
    assert rows(
        home, "select lead_id, source, country, status, created_at, _source_row "
        "from raw.leads order by lead_id"
    ) == [
        ("L1", "Web", "US", "working", datetime(2024, 3, 1), 1),
        ("L2", "Referral", "DE", "converted", datetime(2024, 3, 2), 2),
        ("L4", "Partner", "GB", "working", datetime(2024, 3, 4), 5),
    ]  # fmt: skip
    assert rows(
        home, "select _source_file, _source_row, column_name, reason from quarantine.leads"
    ) == [("leads.txt", 4, "created_at", "created_at: cannot read '2024-13-45' as TIMESTAMP")]
    assert '"source":"Cold call"' in rows(home, "select record from quarantine.leads")[0][0]


def test_the_whitespace_export_shape_loads_every_lead(tmp_path: Path):
    """The export-shape fixture (700 leads aligned in columns, no header) through the CLI."""
    spec = whitespace_headerless(tmp_path)
    home = tmp_path / "home"
    done = crmlens(tmp_path, home, "ingest", "--spec", str(spec), "--table", "leads")
    assert done.returncode == 0, done.stderr
    assert "reconciled: 700 in = 700 loaded + 0 quarantined" in done.stdout
    first = (tmp_path / "leads.txt").read_text().splitlines()[0].split()
    assert rows(home, "select lead_id, source, country, _source_row from raw.leads where "
                "_source_row = 1") == [(first[0], first[1], first[2], 1)]  # fmt: skip
    assert rows(home, "select count(*), max(_source_row) from raw.leads") == [(700, 700)]


def test_collapsing_whitespace_keeps_lines_endings_and_quoted_blanks(tmp_path: Path):
    src = tmp_path / "in.txt"
    src.write_bytes(b'\xef\xbb\xbf  a   b\t\tc  \r\n\r\n"x  y"   z\n  \nlast')
    out = tmp_path / "out.tsv"
    collapse_whitespace(src, out)
    assert out.read_bytes() == b'\xef\xbb\xbfa\tb\tc\r\n\r\n"x  y"\tz\n\nlast'


# --- header-less CSV, tab files, semicolons ---------------------------------------------


def load(tmp_path: Path, spec: Path, table: str = "leads"):
    con = connect(tmp_path / "warehouse.duckdb")
    try:
        result = ingest_table(con, load_spec(spec), table, now=NOW)
        got = con.execute(
            "select lead_id, source, created_at, _source_row from raw.leads order by lead_id"
        ).fetchall()
        bad = con.execute(
            "select _source_row, column_name, reason from quarantine.leads order by 1"
        ).fetchall()
    finally:
        con.close()
    return result, got, bad


def test_a_headerless_csv_numbers_its_first_line_1_and_names_eleven_columns_plainly(
    tmp_path: Path,
):
    """column0 ... column10, never DuckDB's padded column00; the first line is row 1."""
    (tmp_path / "leads.csv").write_text(
        "L1,Web,2024-99-01,a,b,c,d,e,f,g,ten\nL2,Event,2024-03-02,a,b,c,d,e,f,g,ten\n"
    )
    spec = write_spec(
        tmp_path,
        "plain",
        "leads: {path: leads.csv, header: false}",
        """
        leads:
          select: |
            select column0 as lead_id, column1 as source, 'new' as status,
                   column2 as created_at, column2 as updated_at, column10 as tenth,
                   _source_file, _source_row
            from leads
        """,
    )
    result, got, bad = load(tmp_path, spec)
    assert (result.rows_in, result.rows_loaded) == (2, 1)
    assert got == [("L2", "Event", datetime(2024, 3, 2), 2)]
    assert [b[:2] for b in bad] == [(1, "created_at")]


@pytest.mark.parametrize(
    ("entry", "separator"),
    [
        ("delimiter: tab", "\t"),
        ("delimiter: ';'", ";"),
        ("options: {delim: ';'}", ";"),  # the reader's own option still works
        ("delimiter: '|'", "|"),
    ],
)
def test_delimiters(tmp_path: Path, entry: str, separator: str):
    lines = ["id,source,created", "L1,Cold call,2024-03-01", "L2,Web,2024-03-02"]
    (tmp_path / "leads.csv").write_text("\n".join(x.replace(",", separator) for x in lines))
    spec = write_spec(
        tmp_path,
        "delimited",
        f"leads: {{path: leads.csv, {entry}}}",
        """
        leads:
          select: |
            select id as lead_id, source, 'new' as status, created as created_at,
                   created as updated_at, _source_file, _source_row
            from leads
        """,
    )
    _, got, bad = load(tmp_path, spec)
    assert bad == []
    assert got == [
        ("L1", "Cold call", datetime(2024, 3, 1), 2),
        ("L2", "Web", datetime(2024, 3, 2), 3),
    ]


# --- dates written day first -------------------------------------------------------------


def test_date_format_reads_day_first_dates_and_quarantines_a_bad_one(tmp_path: Path):
    (tmp_path / "leads.csv").write_text(
        "id;source;created;signed\n"
        "L1;Web;31/12/2024;01/02/2024\n"
        "L2;Web;2024-11-05;03/02/2024\n"  # ISO still reads
        "L3;Web;31/13/2024;04/02/2024\n"
    )
    spec = write_spec(
        tmp_path,
        "day_first",
        "leads: {path: leads.csv, delimiter: ';', date_format: '%d/%m/%Y'}",
        """
        leads:
          select: |
            select id as lead_id, source, 'new' as status, created as created_at,
                   created as updated_at, signed, _source_file, _source_row
            from leads
        """,
    )
    result, got, bad = load(tmp_path, spec)
    assert got == [
        ("L1", "Web", datetime(2024, 12, 31), 2),
        ("L2", "Web", datetime(2024, 11, 5), 3),
    ]
    assert bad == [(4, "created_at", "created_at: cannot read '31/13/2024' as TIMESTAMP")]
    assert result.rows_quarantined == 1
    # A custom attribute in the file's format is a date too.
    with session(tmp_path / "warehouse.duckdb", read_only=True) as con:
        signed = con.execute("select signed from raw.leads order by lead_id").fetchall()
    assert signed == [(date(2024, 2, 1),), (date(2024, 2, 3),)]


# --- what a spec may say -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("delimiter: xx", "unknown delimiter 'xx'"),
        ("delimiter: ';', options: {delim: ','}", "the delimiter is given twice"),
        ("date_format: day-month-year", "has no % directive"),
        ("date_format: '%d/%Q'", "is not a strptime format"),
        ("format: jsonl, header: false", "`header:` are for CSV and text files, not jsonl"),
    ],
)
def test_a_dialect_a_spec_cannot_mean_is_one_line_naming_spec_and_alias(
    tmp_path: Path, entry: str, says: str
):
    (tmp_path / "leads.csv").write_text("id\nL1\n")
    spec = write_spec(
        tmp_path,
        "odd_dialect",
        f"leads: {{path: leads.csv, {entry}}}",
        "leads: {select: select id as lead_id from leads}",
    )
    with pytest.raises(SpecError) as caught:
        load_spec(spec)
    message = str(caught.value)
    assert message.startswith(f"source spec 'odd_dialect' ({spec}), file 'leads': ")
    assert says in message
    assert "\n" not in message


def test_options_header_false_is_the_header_setting(tmp_path: Path):
    (tmp_path / "leads.csv").write_text("L1\n")
    spec = write_spec(
        tmp_path,
        "reader_header",
        "leads: {path: leads.csv, options: {header: false}}",
        "leads: {select: select column0 as lead_id from leads}",
    )
    source = load_spec(spec).files["leads"]
    assert (source.header, source.options) == (False, {})


# --- a spec's SQL failing at run time ----------------------------------------------------


@pytest.mark.parametrize(
    ("created", "says"),
    [
        (
            "strptime(created, '%Y-%m-%d')",
            "table 'leads', column 'created_at': the select failed: Invalid Input Error: "
            'Could not parse string "not a date"',
        ),
        (
            "created::date",
            "table 'leads', column 'created_at': the select failed: Conversion Error: "
            'invalid date field format: "not a date"',
        ),
        ("no_such_column", 'Referenced column "no_such_column" not found'),
        ("interval 1 day", "'created_at' (INTERVAL)"),
    ],
)
def test_a_spec_select_failing_at_run_time_is_one_line(tmp_path: Path, created: str, says: str):
    (tmp_path / "leads.csv").write_text("id,created\nL1,2024-03-01\nL2,not a date\n")
    spec = write_spec(
        tmp_path,
        "failing_sql",
        "leads: {path: leads.csv}",
        f"""
        leads:
          select: |
            select id as lead_id, 'Web' as source, 'new' as status,
                   {created} as created_at, created as updated_at, _source_file, _source_row
            from leads
        """,
    )
    done = crmlens(tmp_path, tmp_path / "home", "ingest", "--spec", str(spec), "--table", "leads")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    lines = [x for x in done.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: source spec 'failing_sql' ({spec}), table 'leads'")
    assert says in lines[0]


# --- `crmlens init` writes the dialect it found ------------------------------------------


def test_the_starter_spec_says_the_dialect_and_its_dates_load(tmp_path: Path):
    """A semicolon file with day-first dates: the starter says `delimiter` and
    `date_format` on the file and selects the text, so a bad date quarantines."""
    from crmlens.sources.starter import starter_spec

    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "leads.csv").write_text(
        "Lead ID;Lead Source;Lead Status;Created Date\n"
        "L1;Web;new;31/12/2024\nL2;Event;working;01/11/2024\nL3;Web;new;31/12/2024\n"
    )
    text, _ = starter_spec(exports, "starter")
    assert '  leads: {path: "leads.csv", delimiter: ";", date_format: "%d/%m/%Y"}' in text
    assert "strptime" not in text
    spec = tmp_path / "spec.yml"
    spec.write_text(text)
    (exports / "leads.csv").write_text(
        (exports / "leads.csv")
        .read_text()
        .replace("L3;Web;new;31/12/2024", "L3;Web;new;32/12/2024")
    )
    con = connect(tmp_path / "warehouse.duckdb")
    try:
        ingest_table(con, load_spec(spec, exports), "leads", now=NOW)
        got = con.execute("select lead_id, created_at from raw.leads order by 1").fetchall()
        bad = con.execute("select _source_row, column_name from quarantine.leads").fetchall()
    finally:
        con.close()
    assert got == [("L1", datetime(2024, 12, 31)), ("L2", datetime(2024, 11, 1))]
    assert bad == [(4, "created_at")]
