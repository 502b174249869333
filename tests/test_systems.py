"""The CRM systems crmlens serves: every fixture loads into its own schema, and its
source spec and publish mapping load and fit it (the round trips are per system:
tests/test_system_<name>.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from crmlens.publish.mapping import load_mapping
from crmlens.sources.spec import load_spec
from crmlens.systems import FixtureError, load_system, system, systems

SEEDS = {"000", "001", "002", "003", "004"}


def test_every_seed_system_ships_a_fixture_a_spec_and_a_mapping():
    shipped = systems()
    assert {s.seed for s in shipped.values()} == SEEDS
    for target in shipped.values():
        assert target.spec.exists() and target.mapping.exists(), target.name
        assert load_spec(target.spec).kind == "postgres"
        assert load_mapping(target.mapping), target.name


def test_an_unknown_system_is_one_line():
    with pytest.raises(FixtureError, match="no CRM system named 'nope' \\(known: "):
        system("nope")
    crmlens = Path(sys.executable).parent / "crmlens"
    done = subprocess.run(
        [str(crmlens), "generate", "--scale", "tiny", "--system", "smb_ai"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0 and "--system needs --postgres DSN" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("name", sorted(systems()))
def test_each_fixture_loads_and_its_sequences_move_past_its_ids(
    name: str, tiny_crm: Path, pg_database: str
):
    counts = load_system(tiny_crm, pg_database, name)
    assert counts and all(n >= 0 for n in counts.values())
    assert sum(counts.values()) > 1000, counts
    again = load_system(tiny_crm, pg_database, name)  # the DDL is idempotent
    assert again == counts
    with psycopg.connect(pg_database) as con:
        serials = con.execute(
            "select table_schema, table_name, column_name, "
            "pg_get_serial_sequence(quote_ident(table_schema) || '.' || quote_ident(table_name),"
            " column_name) from information_schema.columns "
            "where column_default like 'nextval(%' or is_identity = 'YES'"
        ).fetchall()
        for schema, table, column, sequence in serials:
            top = con.execute(f'select max("{column}") from "{schema}"."{table}"').fetchone()[0]
            following = con.execute("select nextval(%s)", [sequence]).fetchone()[0]
            assert top is None or following > top, (table, column)
    print(name, counts)
