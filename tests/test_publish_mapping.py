"""The publish mapping engine: insert, upsert, update and replace into a CRM's own tables,
keyed on any column, with constants and transforms; only changed rows written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import polars as pl
import psycopg
import pytest

from crmlens.publish.contract import score_table
from crmlens.publish.local import publish_table
from crmlens.publish.mapping import MappingError, load_mapping
from crmlens.publish.postgres import sync
from crmlens.publish.transforms import apply
from crmlens.warehouse import replace_table

LEADS = score_table("lead_scores")
REASONS = [
    {
        "group": "pricing",
        "direction": "up",
        "impact": 0.9,
        "text": "Visited pricing twice this week",
    },
    {
        "group": "email",
        "direction": "up",
        "impact": 0.4,
        "text": "No reply to the last two e-mails.",
    },
    {"group": "size", "direction": "down", "impact": -0.2, "text": "Small company"},
]
SENTENCE = "Visited pricing twice this week; no reply to the last two e-mails; small company."

AI_SCORES = """
create schema crm;
create table crm.ai_scores (
    id serial primary key,
    company_id integer not null,
    score_type text not null,
    external_id text not null,
    source text not null,
    score integer,
    explanation text,
    priority text,
    score_pct integer,
    factors jsonb,
    scored_on date
);
"""

FULL_MAPPING = """
name: scoring_crm
tables:
  lead_scores:
    target: crm.ai_scores
    mode: {mode}
    key: [external_id, score_type, source]
    constants: {{company_id: 7, score_type: combined, source: crmlens}}
    columns:
      external_id: {{from: lead_id}}
      score: {{from: score}}
      explanation: {{from: reasons, transform: sentence}}
      priority: {{from: probability, transform: band, bands: {{Hot: 0.6, Warm: 0.3, Cold: 0}}}}
      score_pct: {{from: probability, transform: percent}}
      factors: {{from: reasons, transform: json}}
      scored_on: {{from: scored_at, transform: date}}
"""


def _scores(n: int, bump: dict[str, int] | None = None, drop: set[str] = frozenset()):
    rows = []
    for i in range(n):
        lead = f"L{i:05d}"
        if lead in drop:
            continue
        score = (i * 7) % 100 + (bump or {}).get(lead, 0)
        rows.append(
            {
                "lead_id": lead,
                "score": score,
                "probability": score / 100,
                "grade": "A" if score > 70 else "C",
                "band": "hot" if score > 70 else "cold",
                "reasons": json.dumps(REASONS),
                "next_action": "Call today",
                "model_name": "crmlens-lead-scoring",
                "model_version": "3",
                "scoring_path": "model",
                "as_of": datetime(2026, 11, 1),
                "scored_at": datetime(2026, 11, 1, 6, 30),
                "valid_until": datetime(2026, 11, 2),
                "run_id": "run",
            }
        )
    return pl.DataFrame(rows)


def _mapping(tmp_path: Path, text: str, name: str = "mapping.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _publish(con, frame, dsn, mapping: Path, run_id: str):
    replace_table(con, "ml", "lead_scores", frame.with_columns(run_id=pl.lit(run_id)))
    publish_table(con, LEADS)
    [(table, destination)] = load_mapping(mapping)
    return sync(con, table, destination, dsn, run_id)


def _sql(dsn: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(dsn) as pg:
        cur = pg.execute(query, params)
        return cur.fetchall() if cur.description else []


def _counts(result) -> tuple[int, int, int]:
    return (result.inserted, result.updated, result.deleted)


def test_transforms():
    frame = pl.DataFrame(
        {
            "reasons": [json.dumps(REASONS), "[]", None],
            "p": [0.64, 0.3, 0.05],
            "at": [datetime(2026, 11, 1, 6, 30)] * 3,
        }
    )
    out = frame.select(
        apply("sentence", pl.col("reasons"), {}).alias("all"),
        apply("sentence", pl.col("reasons"), {"direction": "up", "top": 2}).alias("up"),
        apply("band", pl.col("p"), {"bands": {"Hot": 0.6, "Warm": 0.3, "Cold": 0}}).alias("b"),
        apply("percent", pl.col("p"), {}).alias("pct"),
        apply("date", pl.col("at"), {}).alias("d"),
    )
    assert out["all"].to_list() == [SENTENCE, None, None]
    assert out["up"][0] == "Visited pricing twice this week; no reply to the last two e-mails."
    assert out["b"].to_list() == ["Hot", "Warm", "Cold"]
    assert out["pct"].to_list() == [64, 30, 5]
    assert out["d"].to_list() == [date(2026, 11, 1)] * 3


pytestmark = pytest.mark.postgres


def test_insert_into_an_empty_table_with_constants(warehouse, pg_database, tmp_path):
    _sql(pg_database, AI_SCORES)
    mapping = _mapping(tmp_path, FULL_MAPPING.format(mode="insert"))
    first = _publish(warehouse, _scores(20), pg_database, mapping, "r1")
    assert _counts(first) == (20, 0, 0)
    rows = _sql(
        pg_database,
        "select company_id, score_type, source, score, explanation, priority, score_pct, "
        "factors->0->>'text', scored_on from crm.ai_scores where external_id = 'L00010'",
    )
    # L00010: score 70, probability 0.7
    assert rows == [
        (7, "combined", "crmlens", 70, SENTENCE, "Hot", 70, REASONS[0]["text"], date(2026, 11, 1))
    ]
    again = _publish(warehouse, _scores(20), pg_database, mapping, "r2")
    assert again.written == 0 and again.unchanged == 20
    # insert never overwrites a row already there (a rep may have edited it)
    changed = _publish(warehouse, _scores(20, bump={"L00001": 1}), pg_database, mapping, "r3")
    assert _counts(changed) == (0, 0, 0)
    assert _sql(pg_database, "select count(*) from crm.ai_scores") == [(20,)]


def test_upsert_writes_only_what_changed(warehouse, pg_database, tmp_path):
    _sql(pg_database, AI_SCORES)
    mapping = _mapping(tmp_path, FULL_MAPPING.format(mode="upsert"))
    assert _counts(_publish(warehouse, _scores(200), pg_database, mapping, "r1")) == (200, 0, 0)
    second = _publish(warehouse, _scores(200), pg_database, mapping, "r2")
    assert second.written == 0 and second.unchanged == 200
    one = _publish(warehouse, _scores(200, bump={"L00007": 1}), pg_database, mapping, "r3")
    assert _counts(one) == (0, 1, 0)
    assert _sql(
        pg_database, "select score, score_pct from crm.ai_scores where external_id = 'L00007'"
    ) == [(50, 50)]
    more = _publish(warehouse, _scores(201, bump={"L00007": 1}), pg_database, mapping, "r4")
    assert _counts(more) == (1, 0, 0)
    # upsert never deletes: a lead no longer output keeps its row
    kept = _publish(
        warehouse, _scores(201, bump={"L00007": 1}, drop={"L00003"}), pg_database, mapping, "r5"
    )
    assert _counts(kept) == (0, 0, 0)
    assert _sql(pg_database, "select count(*) from crm.ai_scores") == [(201,)]
    log = _sql(
        pg_database,
        "select run_id, inserted, updated, deleted from crm.sync_log order by synced_at",
    )
    assert log == [
        ("r1", 200, 0, 0),
        ("r2", 0, 0, 0),
        ("r3", 0, 1, 0),
        ("r4", 1, 0, 0),
        ("r5", 0, 0, 0),
    ]


def test_replace_deletes_only_the_rows_it_owns(warehouse, pg_database, tmp_path):
    _sql(pg_database, AI_SCORES)
    others = (
        "insert into crm.ai_scores (company_id, score_type, external_id, source, score) values "
        "(7, 'combined', 'L00002', 'manual', 1), (7, 'combined', 'X1', 'manual', 2), "
        "(7, 'combined', 'STALE', 'crmlens', 3)"
    )
    _sql(pg_database, others)
    mapping = _mapping(tmp_path, FULL_MAPPING.format(mode="replace"))
    first = _publish(warehouse, _scores(10), pg_database, mapping, "r1")
    # the first publish: every lead inserted, the owned row crmlens no longer outputs deleted
    assert _counts(first) == (10, 0, 1)
    gone = _publish(warehouse, _scores(10, drop={"L00002"}), pg_database, mapping, "r2")
    assert _counts(gone) == (0, 0, 1)
    rows = _sql(pg_database, "select source, count(*) from crm.ai_scores group by 1 order by 1")
    assert rows == [("crmlens", 9), ("manual", 2)]  # L00002 and X1 of source manual stay
    assert _sql(pg_database, "select score from crm.ai_scores where external_id = 'L00002'") == [
        (1,)
    ]


def test_update_keyed_on_another_column_clears_what_is_no_longer_scored(
    warehouse, pg_database, tmp_path
):
    _sql(
        pg_database,
        "create schema crm; create table crm.people (person_id serial primary key, "
        "lead_ref text, name text, ai_score integer, ai_priority text, ai_source text); "
        "insert into crm.people (lead_ref, name) "
        "select 'ref-L' || lpad(g::text, 5, '0'), 'P' || g from generate_series(0, 29) g",
    )
    mapping = _mapping(
        tmp_path,
        """
name: people
tables:
  lead_scores:
    target: crm.people
    mode: update
    key: {lead_ref: {sql: "'ref-' || lead_id"}}
    constants: {ai_source: crmlens}
    columns:
      score: ai_score
      ai_priority: {from: probability, transform: band, bands: {High: 0.5, Low: 0}}
""",
    )
    first = _publish(warehouse, _scores(10), pg_database, mapping, "r1")
    assert _counts(first) == (0, 10, 0)
    assert _sql(
        pg_database,
        "select count(*), count(ai_score), count(*) filter (where ai_source = 'crmlens') "
        "from crm.people",
    ) == [(30, 10, 10)]
    assert _publish(warehouse, _scores(10), pg_database, mapping, "r2").written == 0
    cleared = _publish(warehouse, _scores(10, drop={"L00004"}), pg_database, mapping, "r3")
    assert _counts(cleared) == (0, 0, 1)
    assert _sql(
        pg_database,
        "select name, ai_score, ai_priority from crm.people where lead_ref = 'ref-L00004'",
    ) == [("P4", None, None)]


def test_todays_mapping_form_loads_unchanged():
    from crmlens.sources import shipped_spec

    loaded = load_mapping(shipped_spec("publish_operational_crm"))
    assert {t.name for t, _ in loaded} == {"lead_scores", "opportunity_scores", "churn_scores"}
    assert all(d.plan is None and d.key and d.columns for _, d in loaded)


BAD = [
    ("mode: merge", "lead_scores.mode"),
    (
        "mode: upsert\n    columns: {x: {from: score, transform: shout}}",
        "unknown transform 'shout'",
    ),
    ("mode: upsert\n    columns: {x: {from: scroe}}", "columns.x: 'scroe' is not a column"),
    ("mode: upsert\n    columns: {x: {from: probability, transform: band}}", "needs bands"),
    ("mode: replace\n    columns: {x: {from: score}}", "constants: replace needs a constant"),
    ("mode: upsert\n    key: [y]\n    columns: {x: {from: score}}", "key: 'y' is neither"),
    (
        "mode: upsert\n    columns: {x: {from: score, bogus: 1}}",
        "columns.x.bogus: Extra inputs are not permitted",
    ),
]


@pytest.mark.parametrize(("snippet", "expected"), BAD)
def test_a_bad_mapping_is_one_line(tmp_path, snippet, expected):
    text = "name: bad\ntables:\n  lead_scores:\n    target: crm.t\n    key: [x]\n    " + snippet
    if "key: [y]" in snippet:
        text = text.replace("    key: [x]\n", "")
    path = _mapping(tmp_path, text, "bad_mapping.yml")
    with pytest.raises(MappingError) as excinfo:
        load_mapping(path)
    message = str(excinfo.value)
    assert "\n" not in message and "bad_mapping.yml" in message and "lead_scores" in message
    assert expected in message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "key: [external_id, score_type, source]",
            "key: [external_id, score_type, ref]",
            "key: 'ref' is not a column of the table",
        ),
        ("company_id: 7", "company_id: seven", "constants.company_id: 'seven' does not fit"),
    ],
)
def test_a_mapping_that_does_not_fit_the_table_is_one_line(
    warehouse, pg_database, tmp_path, old, new, expected
):
    _sql(pg_database, AI_SCORES)
    text = FULL_MAPPING.format(mode="upsert").replace(old, new)
    if "ref" in new:
        text += "      ref: {from: lead_id}\n"
    with pytest.raises(MappingError) as excinfo:
        _publish(warehouse, _scores(5), pg_database, _mapping(tmp_path, text), "r1")
    message = str(excinfo.value)
    assert "\n" not in message and "crm.ai_scores" in message and expected in message
    assert _sql(pg_database, "select count(*) from crm.ai_scores") == [(0,)]


def _readme_mapping() -> str:
    """The mapping the README shows (section "How the CRM reads the scores")."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme.split("**The publish mapping.**", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


README_MAPPING = _readme_mapping()


def _cli(home: Path, dsn: str, mapping: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "CRMLENS_HOME": str(home),
        "CRMLENS_PUBLISH_POSTGRES_DSN": dsn,
        "CRMLENS_PUBLISH_MAPPING": str(mapping),
    }
    env.pop("CRMLENS_WAREHOUSE_PATH", None)
    crmlens = Path(sys.executable).parent / "crmlens"
    return subprocess.run(
        [str(crmlens), "publish", "--table", "lead_scores", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_crmlens_publish_through_a_mapping(pg_database, tmp_path):
    from crmlens.settings import get_settings
    from crmlens.warehouse import connect

    _sql(pg_database, AI_SCORES)
    home = tmp_path / "home"
    settings = get_settings(home=home)
    settings.ensure_dirs()
    con = connect(settings.warehouse_path)
    replace_table(con, "ml", "lead_scores", _scores(50))
    con.close()
    mapping = _mapping(tmp_path, README_MAPPING)

    first = _cli(home, pg_database, mapping)
    assert first.returncode == 0, first.stderr
    assert "ai_scores: 50 rows written (50 inserted" in first.stdout
    again = _cli(home, pg_database, mapping)
    assert again.returncode == 0 and "ai_scores: 0 rows written" in again.stdout, again.stdout
    assert _sql(
        pg_database,
        "select explanation, priority from crm.ai_scores where external_id = 'L00010'",
    ) == [(SENTENCE, "Hot")]

    bad = _mapping(tmp_path, README_MAPPING.replace("sentence", "sentense"), "bad.yml")
    failed = _cli(home, pg_database, mapping, "--mapping", str(bad))
    assert failed.returncode == 1
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.yml, lead_scores" in lines[0], failed.stderr
    assert "unknown transform 'sentense'" in lines[0] and "Traceback" not in failed.stderr


def test_a_row_without_a_key_is_not_sent(warehouse, pg_database, tmp_path):
    _sql(pg_database, AI_SCORES)
    text = FULL_MAPPING.format(mode="upsert").replace(
        "external_id: {from: lead_id}",
        "external_id: {sql: \"case when lead_id = 'L00003' then null else lead_id end\"}",
    )
    result = _publish(warehouse, _scores(10), pg_database, _mapping(tmp_path, text), "r1")
    assert _counts(result) == (9, 0, 0)
    assert _sql(pg_database, "select count(*) from crm.ai_scores") == [(9,)]


def test_rows_postgresql_refuses_are_one_line_and_nothing_is_written(
    warehouse, pg_database, tmp_path
):
    _sql(pg_database, AI_SCORES)
    text = FULL_MAPPING.format(mode="upsert").replace("company_id: 7, ", "")  # not null
    with pytest.raises(MappingError) as excinfo:
        _publish(warehouse, _scores(5), pg_database, _mapping(tmp_path, text), "r1")
    message = str(excinfo.value)
    assert "\n" not in message and "crm.ai_scores" in message and "company_id" in message
    assert _sql(pg_database, "select count(*) from crm.ai_scores") == [(0,)]


def test_a_new_scoring_time_alone_is_not_a_change(warehouse, pg_database, tmp_path):
    _sql(pg_database, AI_SCORES)
    mapping = _mapping(tmp_path, FULL_MAPPING.format(mode="upsert"))
    _publish(warehouse, _scores(10), pg_database, mapping, "r1")
    later = _scores(10).with_columns(scored_at=pl.lit(datetime(2026, 11, 2, 6, 30)))
    assert _publish(warehouse, later, pg_database, mapping, "r2").written == 0
    changed = later.with_columns(
        score=pl.when(pl.col("lead_id") == "L00001").then(99).otherwise(pl.col("score"))
    )
    assert _counts(_publish(warehouse, changed, pg_database, mapping, "r3")) == (0, 1, 0)
    assert _sql(
        pg_database, "select score, scored_on from crm.ai_scores where external_id = 'L00001'"
    ) == [(99, date(2026, 11, 2))]  # a row that changed carries its new date


TASKS = """
create schema crm;
create table crm.tasks (
    id serial primary key,
    external_id text not null,
    source text not null,
    status text not null,
    score integer
);
"""
TASK_MAPPING = """
name: tasks_crm
tables:
  lead_tasks:
    from: lead_scores
    target: crm.tasks
    mode: replace
    key: [external_id, source]
    constants: {source: crmlens}
    on_insert: {status: open}
    columns:
      external_id: {from: lead_id}
      score: {from: score}
"""


def test_on_insert_values_become_the_crms_and_protect_the_row(warehouse, pg_database, tmp_path):
    _sql(pg_database, TASKS)
    mapping = _mapping(tmp_path, TASK_MAPPING)
    first = _publish(warehouse, _scores(10), pg_database, mapping, "r1")
    assert _counts(first) == (10, 0, 0)
    assert _sql(pg_database, "select distinct status from crm.tasks") == [("open",)]
    # The rep finishes two tasks; crmlens then rescores one of them and stops
    # suggesting the other, and a third (still open) too.
    _sql(
        pg_database,
        "update crm.tasks set status = 'done' where external_id in ('L00003', 'L00004')",
    )
    later = _scores(10, bump={"L00003": 5}, drop={"L00004", "L00005"})
    second = _publish(warehouse, later, pg_database, mapping, "r2")
    assert _counts(second) == (0, 1, 1)  # L00003 updated; L00005 deleted; L00004 kept
    rows = dict(_sql(pg_database, "select external_id, status from crm.tasks"))
    assert rows["L00003"] == "done" and rows["L00004"] == "done" and "L00005" not in rows
    assert _sql(pg_database, "select score from crm.tasks where external_id = 'L00003'") == [
        (later.filter(pl.col("lead_id") == "L00003")["score"][0],)
    ]


def test_an_on_insert_column_that_is_also_mapped_is_one_line(tmp_path):
    text = TASK_MAPPING.replace("on_insert: {status: open}", "on_insert: {score: 1}")
    with pytest.raises(MappingError, match=r"lead_tasks, on_insert\.score: also a mapped column"):
        load_mapping(_mapping(tmp_path, text))
