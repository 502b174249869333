"""`crmlens status` covers the whole pipeline, and the model table names its split.

One small real pipeline run, as a user runs it (subprocesses): an undated customer export
(tests/export_shapes.py) ingested, then the daily, train and score jobs. Its churn family
trains on a random split (every snapshot shares one date); the lead and deal families have
no data and stay rule-based.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.export_shapes import undated_snapshot

CRMLENS = Path(sys.executable).parent / "crmlens"
NUMBER = r"(\d+(?:,\d{3})*(?:\.\d+)?)"


def export_with_a_bad_row(root: Path) -> Path:
    """The undated export, plus a customer whose fee is negative: its subscription is
    quarantined (negative_value), its account loads."""
    spec = undated_snapshot(root)
    with (root / "customers.csv").open("a") as f:
        f.write("C9999,Monthly,3,-5.00,10,1,No\n")
    return spec


def crmlens(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`crmlens ARGS` with its own home (and Dagster home), as a user runs it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CRMLENS_", "DAGSTER_"))}
    clean |= {"CRMLENS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), **env}
    return subprocess.run(
        [str(CRMLENS), *args], cwd=home.parent, env=clean, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A home where ingest, then the daily, train, train again and score jobs ran on the
    undated export; the two train runs' outputs (their model tables).

    The second challenger, trained on the same rows with the same seed, is no better than
    the champion: its promotion is held back (the run fails in that blocking check, and
    `crmlens run` exits 0). Each job runs on its own, so a job that fails (today: daily and
    score, whose drift checks of the families without data crash) still leaves the others
    to report on; its failure is what `crmlens status` must then show.
    """
    tmp = tmp_path_factory.mktemp("status")
    root = tmp / "export"
    spec = export_with_a_bad_row(root)
    home = tmp / "home"
    source = {"CRMLENS_SOURCE_SPEC": str(spec), "CRMLENS_SOURCE_ROOT": str(root)}
    ingest = crmlens(home, "ingest", "--spec", str(spec), "--root", str(root))
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    crmlens(home, "run", "--job", "daily", "--days", "2025-01-01:2025-01-01", **source)
    outputs = []
    for _ in range(2):
        train = crmlens(home, "run", "--job", "train", **source)
        assert train.returncode == 0, (train.stdout + train.stderr)[-4000:]
        outputs.append(train.stdout)
    crmlens(home, "run", "--job", "score", **source)
    return home, outputs[0], outputs[1]


def _last_runs(home: Path) -> dict[str, str]:
    """Job -> what its last run's result must read, from Dagster's own API: success,
    FAILED, or "held back" when every failed step is a blocking check that did not pass."""
    from dagster import DagsterEventType, DagsterInstance, RunsFilter

    instance = DagsterInstance.from_config(str(home / "dagster"))
    results = {}
    try:
        for job in ("daily", "train", "score"):
            run = instance.get_runs(RunsFilter(job_name=job), limit=1)[0]
            if run.status.value == "SUCCESS":
                results[job] = "success"
                continue
            events = instance.all_logs(run.run_id)
            failed = {
                e.step_key for e in events if e.dagster_event_type is DagsterEventType.STEP_FAILURE
            }
            checks = {
                e.step_key
                for e in events
                if e.dagster_event_type is DagsterEventType.ASSET_CHECK_EVALUATION
                and not e.dagster_event.event_specific_data.passed
            }
            results[job] = "held back" if failed and failed <= checks else "FAILED"
    finally:
        instance.dispose()
    return results


def _snapshot(home: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(home / "serving" / "current.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _row(output: str, first: str) -> list[str]:
    """The cells of the table row whose first cell is ``first``."""
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells) > 1 and cells[0] == first:
            return cells
    raise AssertionError(f"no table row for {first!r} in:\n{output}")


def _quarantined(home: Path) -> int:
    tables = _snapshot(
        home, "select table_name from duckdb_tables() where schema_name = 'quarantine'"
    )
    return sum(_snapshot(home, f"select count(*) from quarantine.{t}")[0][0] for (t,) in tables)


def _publishing_job(home: Path, run_id: str) -> str:
    from dagster import DagsterInstance

    instance = DagsterInstance.from_config(str(home / "dagster"))
    try:
        return instance.get_run_by_id(run_id).job_name
    finally:
        instance.dispose()


def _churn_test_figures(home: Path) -> dict[str, float]:
    (row,) = _snapshot(
        home,
        "select model, roc_auc, pr_auc, brier, ece, rows from ml.model_evaluations "
        "where family = 'churn' and split = 'test' and published and registered_version = '1'",
    )
    return dict(zip(("model", "roc_auc", "pr_auc", "brier", "ece", "rows"), row, strict=True))


def test_the_model_table_names_the_random_split_and_its_figures(trained):
    home, output, again = trained
    assert "time-split test set" not in output
    cells = _row(output, "churn")
    _family, split, rows, _, _, _, published, ci, pr_auc, brier, ece, version, promoted = cells
    assert split == "random"  # every snapshot of an undated export shares one date
    figures = _churn_test_figures(home)
    assert int(rows.replace(",", "")) == figures["rows"] > 0
    assert published == {"lightgbm": "LightGBM", "logistic_regression": "logistic"}.get(
        figures["model"], figures["model"]
    )
    # The printed figures are the held-out predictions' own, not constants.
    assert float(pr_auc) == pytest.approx(figures["pr_auc"], abs=6e-4)
    assert float(brier) == pytest.approx(figures["brier"], abs=6e-4)
    assert float(ece) == pytest.approx(figures["ece"], abs=6e-4)
    assert 0 < float(brier) < 0.25 and 0 < float(pr_auc) <= 1
    low, high = (float(x) for x in ci.strip("[]").split(","))
    assert 0.5 < low < high <= 1  # promoted: its AUC's interval excludes chance
    assert (version, promoted) == ("1", "yes")
    # No leads at all: the family says what it publishes, and why, in one line.
    assert re.search(
        r"lead_scoring: (rule-based|no reliable signal in this data)[^\n]* — .+", output
    )
    # The same rows and seed again: no better, so not promoted, and the table says why.
    assert _row(again, "churn")[1:3] == [split, rows]
    assert (_row(again, "churn")[-2:]) == ["2", "no"]
    assert "churn: not promoted — " in again


def test_status_shows_jobs_champions_publication_and_quarantine(trained):
    home, _, _ = trained
    status = crmlens(home, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    out = status.stdout
    for job, result in _last_runs(home).items():
        cells = _row(out, job)
        assert cells[2] == result, (cells, result)
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", cells[1]), cells
        if result != "success":
            assert f"{job} run {cells[4]} " in out
    train = _row(out, "train")
    assert train[2] == "held back" and train[5] != "never" and train[6] == "2"
    assert re.search(
        rf"train run {train[4]} held back by the blocking checks \S*churn_promotion", out
    )

    champion = _row(out, "churn")
    figures = _churn_test_figures(home)
    _, version, _, trained_at, roc, pr_auc, brier, ece, rows = champion
    assert version == "v1" and trained_at
    printed = dict(
        zip(("roc_auc", "pr_auc", "brier", "ece"), (roc, pr_auc, brier, ece), strict=True)
    )
    for metric, value in printed.items():
        assert float(value) == pytest.approx(figures[metric], abs=6e-4)
    assert int(rows.replace(",", "")) == figures["rows"]
    flat = " ".join(out.split())  # a long line may wrap
    assert re.search(
        r"lead_scoring: no model trained yet — rule-based scores \(.+ the source has no leads", flat
    )

    ((churn_scores, run),) = _snapshot(
        home, "select count(*), max(run_id) from publish.churn_scores"
    )
    assert churn_scores > 0
    assert re.search(
        r"last publication: \d{4}-\d\d-\d\d \d\d:\d\d UTC, job (daily|score), scores as of "
        rf"2025-06-30: .*churn_scores {churn_scores:,} rows",
        out,
    ), out
    assert _row(out, _publishing_job(home, run))[4] == run[:8]
    match = re.search(rf"quarantine: {NUMBER} rows held back of {NUMBER} read", out)
    assert match, out
    assert int(match[1].replace(",", "")) == _quarantined(home) == 1
    assert "top reasons: negative_value 1" in out
    assert "no model trained yet\n" not in out and "nothing published yet" not in out


def test_status_after_ingest_only_says_what_is_not_there_yet(tmp_path: Path):
    root = tmp_path / "export"
    spec = export_with_a_bad_row(root)
    home = tmp_path / "home"
    ingest = crmlens(home, "ingest", "--spec", str(spec), "--root", str(root))
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    status = crmlens(home, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    out = status.stdout
    assert "jobs: no pipeline job has run yet" in out
    assert "models: no model trained yet" in out
    assert "publication: nothing published yet" in out
    match = re.search(rf"quarantine: {NUMBER} rows held back of {NUMBER} read", out)
    assert match, out
    assert int(match[1].replace(",", "")) == _quarantined(home) == 1
    assert "top reasons: negative_value 1" in out
    assert _row(out, "accounts")[1:3] == ["801", "0"]
    assert _row(out, "subscriptions")[1:3] == ["800", "1"]
