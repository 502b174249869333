"""`crmlens run` and `crmlens init` as a user meets them: the spec remembered, jobs and
days checked before anything runs, one line for a mistake, a starter spec that loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.jobs import JOB_NAMES
from crmlens.settings import HOME_NAME, Settings, discover_home
from tests.export_shapes import no_events

CRMLENS = Path(sys.executable).parent / "crmlens"


def crmlens(home: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMLENS_")}
    env |= {"CRMLENS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    return subprocess.run(
        [str(CRMLENS), *args], cwd=cwd or home.parent, env=env, capture_output=True, text=True
    )


def test_the_cli_offers_exactly_the_jobs_the_graph_defines():
    from pipelines.jobs import build_jobs

    assert set(JOB_NAMES) == {job.name for job in build_jobs()}


def test_an_unknown_job_is_a_one_line_usage_error(tmp_path: Path):
    result = crmlens(tmp_path / "home", "run", "--job", "dialy")
    assert result.returncode == 2
    assert "'dialy' is not one of" in result.stderr and "forecast" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "home" / "warehouse.duckdb").exists()


def test_days_outside_the_event_days_are_a_usage_error(tmp_path: Path):
    spec = no_events(tmp_path / "export")
    result = crmlens(
        tmp_path / "home", "run", "--spec", str(spec), "--days", "1999-01-01:1999-01-02"
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "1999-01-01:1999-01-02 is outside the event days" in result.stderr
    assert "Traceback" not in result.stderr


def test_ingest_remembers_the_spec_and_root_for_later_commands(tmp_path: Path):
    export = tmp_path / "export"
    spec = no_events(export)
    moved = tmp_path / "spec_elsewhere.yml"
    moved.write_text(spec.read_text())  # the spec apart from its files: --root says where
    home = tmp_path / "home"
    first = crmlens(home, "ingest", "--spec", str(moved), "--root", str(export))
    assert first.returncode == 0, first.stdout + first.stderr
    settings = Settings(home=home)
    assert settings.source_spec == moved.resolve()
    assert settings.source_root == export.resolve()
    again = crmlens(home, "ingest", "--table", "leads")  # neither --spec nor --root
    assert again.returncode == 0, again.stdout + again.stderr
    assert "ingest of no_events" in again.stdout and "600" in again.stdout


def test_an_explicit_spec_wins_over_the_remembered_one(tmp_path: Path):
    home = tmp_path / "home"
    Settings(home=home, source_spec=tmp_path / "a.yml").remember_source()
    assert Settings(home=home).source_spec == (tmp_path / "a.yml").resolve()
    assert Settings(home=home, source_spec=tmp_path / "b.yml").source_spec == tmp_path / "b.yml"


def test_the_home_is_found_from_any_folder_below_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    (tmp_path / HOME_NAME).mkdir()
    below = tmp_path / "notebooks" / "deeper"
    below.mkdir(parents=True)
    assert discover_home(below) == tmp_path / HOME_NAME
    monkeypatch.delenv("CRMLENS_HOME", raising=False)
    monkeypatch.chdir(below)
    assert Settings().home == tmp_path / HOME_NAME
    assert discover_home(tmp_path.parent) == Path(HOME_NAME)  # none above: ./.crmlens


SALESFORCE = {
    "Account.csv": "Id,Name,Industry,NumberOfEmployees,BillingCountry,CreatedDate,LastModifiedDate\n"
    "0011,Acme,Retail,50,US,2024-01-01T10:00:00.000+0000,2024-01-01T10:00:00.000+0000\n",
    "Lead.csv": "Id,FirstName,LastName,Company,Email,LeadSource,Status,CreatedDate,"
    "LastModifiedDate,ConvertedDate,Rating__c\n"
    "00Q1,Ann,Lee,Acme,ann@acme.example,Web,Open - Not Contacted,2024-01-02T10:00:00.000+0000,"
    "2024-01-03T10:00:00.000+0000,,Hot\n"
    "00Q2,Bob,Ray,Beta,bob@beta.example,Partner,Closed - Converted,2024-01-05T10:00:00.000+0000,"
    "2024-02-03T10:00:00.000+0000,2024-02-03,Warm\n"
    "00Q3,Cy,Po,Gamma,cy@gamma.example,Web,Closed - Not Converted,2024-01-06T10:00:00.000+0000,"
    "2024-02-04T10:00:00.000+0000,,Cold\n",
    "Opportunity.csv": "Id,AccountId,Name,StageName,Amount,CloseDate,CreatedDate,LastModifiedDate\n"
    "0061,0011,Big deal,Prospecting,1000,2024-06-30,2024-01-02T10:00:00.000+0000,"
    "2024-01-03T10:00:00.000+0000\n",
}


def test_init_writes_a_spec_that_loads_a_salesforce_export(tmp_path: Path):
    export = tmp_path / "salesforce"
    export.mkdir()
    for name, text in SALESFORCE.items():
        (export / name).write_text(text)
    home = tmp_path / "home"
    out = tmp_path / "crmlens_spec.yml"
    made = crmlens(home, "init", str(export), "--out", str(out))
    assert made.returncode == 0, made.stdout + made.stderr
    text = out.read_text()
    assert '"StageName" as stage' in text and '"LeadSource" as source' in text
    assert '"Rating__c" as rating_c,  -- custom attribute' in text
    assert '"Closed - Not Converted": disqualified  # guessed' in text
    assert '"Closed - Converted": converted  # guessed' in text
    loaded = crmlens(home, "ingest", "--spec", str(out), "--root", str(export))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert "reconciled: 5 in = 5 loaded + 0 quarantined" in loaded.stdout


def test_a_home_holds_one_source(tmp_path: Path):
    """Another source's exports into the same warehouse would mix two CRMs: refused."""
    home = tmp_path / "home"
    first = crmlens(home, "ingest", "--spec", str(no_events(tmp_path / "a")))
    assert first.returncode == 0, first.stdout + first.stderr
    other = tmp_path / "b" / "spec.yml"
    no_events(tmp_path / "b")
    other.write_text(other.read_text().replace("name: no_events", "name: another_crm"))
    second = crmlens(home, "ingest", "--spec", str(other))
    assert second.returncode == 2
    assert "holds the data of source 'no_events', not 'another_crm'" in second.stderr
    assert "Traceback" not in second.stderr
