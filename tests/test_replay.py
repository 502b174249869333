"""The replay of the schedule (`crmlens backtest`): retrain at each step on what was known
then, score the next window as the schedule would have published, measure it.

The unit tests build lead histories in memory (one snapshot per lead, labelled with a
90-day horizon) where the answer is known: a signal the replay must find, random labels it
must not publish a model on, and a relation that flips half-way, which a replay that saw
later labels would score well and an honest one cannot. The command is run as a user runs
it, on a copy of the tiny home, and the Models page shows what it left.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from crmlens.settings import get_settings
from features.common import FeatureSet
from models.common.replay import cuts, replay, settled_at
from models.families import family
from tests.test_status import crmlens

START = datetime(2025, 1, 1)


def leads(n: int = 6000, days: int = 360, flip_at: int | None = None, *, signal: float = 2.5,
          seed: int = 7) -> FeatureSet:  # fmt: skip
    """``n`` leads created over ``days`` days; converts with log-odds ``signal·x − 2``
    (random when ``signal`` is 0; the sign of x flips from day ``flip_at`` on)."""
    rng = np.random.default_rng(seed)
    day = np.sort(rng.integers(0, days, n))
    x = rng.normal(size=n)
    slope = np.where(day >= (flip_at if flip_at is not None else days + 1), -signal, signal)
    y = (rng.random(n) < 1 / (1 + np.exp(-(slope * x - 2)))).astype(int)
    frame = pl.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(n)],
            "as_of": [START + timedelta(days=int(d), hours=9) for d in day],
            "x": x,
            "channel": rng.choice(["web", "event", "partner"], n),
            "label": y,
        }
    )
    return FeatureSet(frame, "lead_id", ["x"], ["channel"])


LEADS = family("lead_scoring").family


def test_a_signal_is_found_and_every_cut_trains_only_on_what_was_settled() -> None:
    features = leads()
    result = replay(LEADS, features, step="month", windows=6)
    table = result.table()
    assert table.height == 6
    frame = features.frame
    settled = settled_at(frame, LEADS.horizon_days)
    as_of = frame["as_of"].to_numpy().astype("datetime64[us]")
    for window in result.windows:
        cut = np.datetime64(window.start, "us")
        # what the cut trained on: exactly the rows whose label had settled by then
        assert window.known_rows == int(((as_of < cut) & (settled <= cut)).sum())
        end = np.datetime64(window.end, "us")
        assert window.rows == int(((as_of >= cut) & (as_of < end)).sum())
    assert table["known_rows"].is_sorted() and table["known_rows"][0] < table["known_rows"][-1]
    assert {w.path for w in result.windows[-3:]} == {"model"}, table
    assert result.overall["roc_auc"] > 0.75, result.overall
    assert result.overall["rows"] == table["rows"].sum()
    assert result.scored.height == table["rows"].sum()


def test_random_labels_publish_no_model_in_any_window() -> None:
    result = replay(LEADS, leads(signal=0.0), step="month", windows=4)
    assert {w.path for w in result.windows} <= {"rule_based", "no_reliable_signal"}
    assert result.overall["model_windows"] == 0
    assert 0.4 < result.overall["roc_auc"] < 0.6


def test_a_relation_that_flips_is_scored_as_the_schedule_would_have_scored_it() -> None:
    """From day 240 on, x lowers the odds instead of raising them. At the first cut after
    the flip no settled label shows it yet (a 90-day horizon): an honest replay scores that
    window with the old relation, worse than chance. One that peeked would not."""
    result = replay(LEADS, leads(n=8000, flip_at=243), step="month", windows=4)
    first_after = next(w for w in result.windows if w.start >= START + timedelta(days=243))
    assert first_after.path == "model"
    assert first_after.metrics["roc_auc"] < 0.4, result.table()


def test_windows_are_the_newest_calendar_steps_after_the_first_row() -> None:
    as_of = np.array(
        [datetime(2025, 1, 15), datetime(2025, 2, 3), datetime(2025, 3, 20), datetime(2025, 3, 26)],
        dtype="datetime64[us]",
    )
    months = cuts(as_of, "month", 0)
    assert months == [
        (datetime(2025, 2, 1), datetime(2025, 3, 1)),
        (datetime(2025, 3, 1), datetime(2025, 4, 1)),
    ]
    assert cuts(as_of, "month", 1) == months[-1:]
    weeks = cuts(as_of, "week", 0)
    assert all(start.weekday() == 0 and end - start == timedelta(days=7) for start, end in weeks)
    assert [s.day for s, _ in weeks] == [3, 17, 24]
    with pytest.raises(ValueError, match="step must be"):
        cuts(as_of, "day", 3)


# --------------------------------------------------------------------- the user's path


@pytest.fixture(scope="module")
def replayed(tiny_home: Path, tiny_crm: Path, tmp_path_factory: pytest.TempPathFactory):
    """A copy of the tiny home where `crmlens backtest --family lead --windows 3` ran."""
    home = tmp_path_factory.mktemp("replay") / "home"
    shutil.copytree(tiny_home, home)
    spec = str(tiny_crm / "source_spec.yml")
    done = crmlens(home, "backtest", "--family", "lead", "--windows", "3",
                   CRMLENS_SOURCE_SPEC=spec)  # fmt: skip
    return home, done


def test_the_command_replays_prints_and_keeps_the_windows(replayed) -> None:
    home, done = replayed
    assert done.returncode == 0, done.stdout + done.stderr
    out = " ".join(done.stdout.split())
    assert "lead_scoring: the schedule replayed, retrained every month" in out
    assert "over 3 windows" in out and "MLflow run" in out
    settings = get_settings(home=home)
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        runs = con.execute("select family, windows, rows from ml.backtests").fetchall()
        windows = con.execute("select count(*), sum(rows) from ml.backtest_windows").fetchone()
    assert runs[0][:2] == ("lead_scoring", 3)
    assert windows == (3, runs[0][2])
    assert list(Path(settings.mlflow_artifacts_dir).rglob("backtest.png")), "no plot in MLflow"


def test_the_models_page_shows_the_replay(replayed, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    from dashboards.catalog import APP

    home, done = replayed
    assert done.returncode == 0, done.stderr
    monkeypatch.setenv("CRMLENS_HOME", str(home))
    monkeypatch.delenv("CRMLENS_SERVING_PATH", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.switch_page("views/models.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "How would the scores have done for us?" in {s.value for s in at.subheader}
    assert "Replayed ROC AUC" in {m.label for m in at.metric}
    assert any("known_rows" in str(df.value.columns.tolist()) or "Window" in df.value.columns
               for df in at.dataframe) or at.dataframe  # fmt: skip


def test_nothing_to_replay_is_one_line(tmp_path: Path) -> None:
    done = crmlens(tmp_path / "home", "backtest", "--family", "deal")
    assert done.returncode != 0
    assert "nothing to replay yet: run `crmlens run --spec …` first" in done.stderr
    assert "Traceback" not in done.stderr
