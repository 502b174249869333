"""Any CRM's data in, end to end, with one command: `crmlens run --spec S --root DIR`.

A matrix of export shapes (tests/export_shapes.py, each written by the test itself) and
the shipped real-data specs go through the README's command as a subprocess. Each must
exit 0 and leave what a user then opens: published scores (or the honest rule-based /
no-signal path, with its reason), a serving snapshot that opens, every dashboard page
running, and the Workbench reading the marts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from crmlens.settings import Settings
from dashboards.catalog import APP, PAGES
from tests.conftest import REAL_DATA
from tests.export_shapes import SHAPES
from workbench import Workbench

CRMLENS = Path(sys.executable).parent / "crmlens"
SCORE_TABLES = ("lead_scores", "opportunity_scores", "churn_scores")
PATHS = {"model", "rule_based", "no_reliable_signal"}
REAL_SPECS = {
    "bank_marketing": "bank_marketing",
    "telco_churn": "telco_customer_churn",
    "us_retail_sales": "us_retail_sales",
}


def run_crmlens(home: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`crmlens ARGS` as a user runs it, with its own home; output kept for the assertion."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMLENS_")}
    env |= {"CRMLENS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    return subprocess.run(
        [str(CRMLENS), *args], cwd=cwd or home.parent, env=env, capture_output=True, text=True
    )


class Outcome:
    def __init__(self, home: Path, result: subprocess.CompletedProcess, seconds: float):
        self.home, self.result, self.seconds = home, result, seconds

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr


def _run_shape(tmp: Path, spec: Path, root: Path) -> Outcome:
    home = tmp / "home"
    started = time.perf_counter()
    result = run_crmlens(home, "run", "--spec", str(spec), "--root", str(root))
    return Outcome(home, result, time.perf_counter() - started)


@pytest.fixture(scope="module", params=sorted(SHAPES))
def shape(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    name = request.param
    tmp = tmp_path_factory.mktemp(name)
    root = tmp / "export"
    spec = SHAPES[name](root)
    return name, _run_shape(tmp, spec, root)


def _check_readers(outcome: Outcome, monkeypatch: pytest.MonkeyPatch) -> None:
    snapshot = outcome.home / "serving" / "current.duckdb"
    assert snapshot.exists(), "no serving snapshot written"
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        published = {
            t
            for (t,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'publish'"
            ).fetchall()
        }
        for table in SCORE_TABLES:
            if table not in published:
                continue
            paths = {
                p
                for (p,) in con.execute(
                    f"select distinct scoring_path from publish.{table}"
                ).fetchall()
            }
            assert paths <= PATHS, f"{table}: unknown scoring paths {paths}"
    finally:
        con.close()
    monkeypatch.setenv("CRMLENS_HOME", str(outcome.home))
    monkeypatch.delenv("CRMLENS_SERVING_PATH", raising=False)
    for page in PAGES:
        at = AppTest.from_file(str(APP), default_timeout=120)  # a safety net, not a limit
        at.switch_page(f"views/{page}.py")
        at.run()
        assert not at.exception, f"page {page}: {[e.value for e in at.exception]}"
    bench = Workbench(Settings(home=outcome.home))
    marts = bench.marts()
    assert marts.filter(marts["schema"] == "marts").height > 0, "the Workbench sees no marts"


def test_an_export_shape_runs_end_to_end(shape, monkeypatch: pytest.MonkeyPatch):
    name, outcome = shape
    assert outcome.result.returncode == 0, (
        f"{name}: exit {outcome.result.returncode}\n{outcome.output[-4000:]}"
    )
    assert "Traceback" not in outcome.output, outcome.output[-4000:]
    for family in ("lead_scoring", "deal_scoring", "churn"):
        assert family in outcome.output, f"{name}: the run says nothing about {family}"
    _check_readers(outcome, monkeypatch)
    print(f"{name}: {outcome.seconds:.0f} s")


@pytest.mark.parametrize("spec", sorted(REAL_SPECS))
def test_a_shipped_real_data_spec_runs_end_to_end(
    spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    root = REAL_DATA / REAL_SPECS[spec]
    if not root.exists():
        pytest.skip(f"{root} is absent (the shared real datasets)")
    spec_path = Path(__file__).resolve().parents[1] / "crmlens" / "specs" / f"{spec}.yml"
    outcome = _run_shape(tmp_path, spec_path, root)
    assert outcome.result.returncode == 0, outcome.output[-4000:]
    assert "Traceback" not in outcome.output
    _check_readers(outcome, monkeypatch)
    print(f"{spec}: {outcome.seconds:.0f} s")


def test_later_commands_remember_the_spec(shape):
    """`crmlens status` and a second `crmlens run` need neither --spec nor --root."""
    name, outcome = shape
    if name != "no_events":
        pytest.skip("checked on one shape")
    status = run_crmlens(outcome.home, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "source: no_events (spec " in status.stdout, status.stdout
    for job in ("daily", "train", "score", "forecast"):
        assert job in status.stdout, status.stdout
