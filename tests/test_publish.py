"""Publishing scores: only changed rows reach PostgreSQL, never a half-written table."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from pathlib import Path

import polars as pl
import psycopg
import pytest

from crmlens.publish.contract import score_table
from crmlens.publish.export import export_table, verify
from crmlens.publish.local import publish_table
from crmlens.publish.postgres import contract_destination, sync
from crmlens.warehouse import connect, replace_table

LEADS = score_table("lead_scores")


def _scores(
    n: int, bump: dict[str, int] | None = None, drop: set[str] | None = None
) -> pl.DataFrame:
    rows = []
    for i in range(n):
        lead = f"L{i:05d}"
        if drop and lead in drop:
            continue
        score = (i * 7) % 100 + (bump or {}).get(lead, 0)
        rows.append(
            {
                "lead_id": lead,
                "score": score,
                "probability": score / 100,
                "grade": "A" if score > 70 else "C",
                "band": "hot" if score > 70 else "cold",
                "reasons": json.dumps(
                    [{"group": "pricing_view", "text": f"Viewed pricing {i % 5} times"}]
                ),
                "next_action": "Call today",
                "model_name": "crmlens-lead-scoring",
                "model_version": "3",
                "scoring_path": "model",
                "as_of": datetime(2026, 11, 1),
                "scored_at": datetime(2026, 11, 1),
                "valid_until": datetime(2026, 11, 2),
                "run_id": "run",
            }
        )
    return pl.DataFrame(rows)


def _publish(con, frame: pl.DataFrame, dsn: str, run_id: str, **kw):
    replace_table(con, "ml", "lead_scores", frame.with_columns(run_id=pl.lit(run_id)))
    publish_table(con, LEADS)
    return sync(con, LEADS, contract_destination(LEADS, "crmlens"), dsn, run_id, **kw)


def _pg_rows(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as pg:
        return dict(pg.execute("select lead_id, score from crmlens.lead_scores").fetchall())


pytestmark = pytest.mark.postgres


def test_only_changed_rows_are_written(warehouse, pg_database):
    first = _publish(warehouse, _scores(500), pg_database, "r1")
    assert (first.inserted, first.updated, first.deleted) == (500, 0, 0)
    assert len(_pg_rows(pg_database)) == 500

    again = _publish(warehouse, _scores(500), pg_database, "r2")
    assert again.written == 0 and again.unchanged == 500  # new run id and stamps: not a change

    one = _publish(warehouse, _scores(500, bump={"L00007": 1}), pg_database, "r3")
    assert (one.inserted, one.updated, one.deleted) == (0, 1, 0)
    assert _pg_rows(pg_database)["L00007"] == 49 + 1

    gone = _publish(warehouse, _scores(500, bump={"L00007": 1}, drop={"L00010"}), pg_database, "r4")
    assert (gone.inserted, gone.updated, gone.deleted) == (0, 0, 1)
    assert "L00010" not in _pg_rows(pg_database)

    with psycopg.connect(pg_database) as pg:
        log = pg.execute(
            "select run_id, inserted, updated, deleted from crmlens.sync_log order by synced_at"
        ).fetchall()
    assert log == [("r1", 500, 0, 0), ("r2", 0, 0, 0), ("r3", 0, 1, 0), ("r4", 0, 0, 1)]
    local = warehouse.execute(
        "select run_id, inserted, updated, unchanged, deleted, failed from ops.sync_log"
    ).fetchall()
    assert local[-1] == ("r4", 0, 0, 499, 1, False)


def test_a_cut_connection_leaves_the_previous_scores_and_the_next_run_completes(
    warehouse, pg_database
):
    _publish(warehouse, _scores(300), pg_database, "r1")
    before = _pg_rows(pg_database)

    def cut(pg: psycopg.Connection) -> None:
        with psycopg.connect(pg_database, autocommit=True) as admin:
            admin.execute("select pg_terminate_backend(%s)", [pg.info.backend_pid])

    changed = _scores(300, bump={"L00001": 5, "L00002": 5})
    with pytest.raises(ConnectionError) as excinfo:
        _publish(
            warehouse,
            changed,
            pg_database,
            "r2",
            before_commit=cut,
            max_attempts=2,
            backoff_seconds=0.01,
        )
    assert "previous scores are still in place" in str(excinfo.value)
    assert _pg_rows(pg_database) == before  # nothing of the cut run is visible
    failed = warehouse.execute(
        "select failed, attempts from ops.sync_log where run_id = 'r2'"
    ).fetchall()
    assert failed == [(True, 2)]

    done = _publish(warehouse, changed, pg_database, "r3")
    assert (done.updated, done.failed) == (2, False)  # the same difference, sent again
    assert _pg_rows(pg_database)["L00001"] == before["L00001"] + 5


def test_a_retried_cut_completes_in_the_same_run(warehouse, pg_database):
    _publish(warehouse, _scores(50), pg_database, "r1")
    cuts = []

    def cut_once(pg: psycopg.Connection) -> None:
        if not cuts:
            cuts.append(1)
            with psycopg.connect(pg_database, autocommit=True) as admin:
                admin.execute("select pg_terminate_backend(%s)", [pg.info.backend_pid])

    result = _publish(
        warehouse,
        _scores(50, bump={"L00003": 1}),
        pg_database,
        "r2",
        before_commit=cut_once,
        backoff_seconds=0.01,
    )
    assert (result.attempts, result.updated, result.failed) == (2, 1, False)


def test_errors_never_show_the_password(warehouse):
    dsn = "host=127.0.0.1 port=1 user=crm password=hunter2 dbname=crm connect_timeout=1"
    with pytest.raises(ConnectionError) as excinfo:
        _publish(warehouse, _scores(5), dsn, "r1", max_attempts=1)
    assert "127.0.0.1:1" in str(excinfo.value) and "hunter2" not in str(excinfo.value)
    logged = warehouse.execute("select error, target from ops.sync_log").fetchall()
    assert all("hunter2" not in str(v) for row in logged for v in row)


def test_an_emptied_target_is_filled_again(warehouse, pg_database):
    _publish(warehouse, _scores(40), pg_database, "r1")
    with psycopg.connect(pg_database) as pg:
        pg.execute("truncate crmlens.lead_scores")
    again = _publish(warehouse, _scores(40), pg_database, "r2")
    assert again.full_resync and again.inserted == 40
    assert len(_pg_rows(pg_database)) == 40


def test_history_keeps_every_published_version(warehouse):
    replace_table(warehouse, "ml", "lead_scores", _scores(10).with_columns(run_id=pl.lit("a")))
    publish_table(warehouse, LEADS)
    replace_table(
        warehouse,
        "ml",
        "lead_scores",
        _scores(10, bump={"L00001": 1}).with_columns(run_id=pl.lit("b")),
    )
    publish_table(warehouse, LEADS)
    publish_table(warehouse, LEADS)  # a rerun of run b replaces its own version
    runs = warehouse.execute(
        "select run_id, count(*) from publish.lead_scores_history group by 1 order by 1"
    ).fetchall()
    assert runs == [("a", 10), ("b", 10)]
    assert warehouse.execute("select count(*) from publish.lead_scores").fetchall() == [(10,)]


def test_the_export_manifest_matches_its_files(warehouse, tmp_path: Path):
    replace_table(warehouse, "ml", "lead_scores", _scores(25))
    publish_table(warehouse, LEADS)
    manifest = export_table(warehouse, "lead_scores", tmp_path, "run-x", csv=True)
    assert verify(tmp_path, "lead_scores") == manifest
    assert manifest["rows"] == 25 and {f["format"] for f in manifest["files"]} == {"parquet", "csv"}
    assert pl.read_parquet(tmp_path / "lead_scores.parquet").height == 25
    assert [c["name"] for c in manifest["schema"]][:2] == ["lead_id", "score"]
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind
    (tmp_path / "lead_scores.csv").write_text("tampered")
    with pytest.raises(ValueError, match="does not match its manifest"):
        verify(tmp_path, "lead_scores")


def test_the_crm_mapping_writes_scores_into_the_crms_own_leads(
    tiny_crm: Path, warehouse, pg_database
):
    from crmlens.publish.mapping import load_mapping
    from crmlens.sources import shipped_spec
    from crmlens.sources.postgres import load_operational_crm

    load_operational_crm(tiny_crm, pg_database)
    with psycopg.connect(pg_database) as pg:
        leads = [
            r[0]
            for r in pg.execute(
                "select lead_id from crm.leads order by lead_id limit 30"
            ).fetchall()
        ]
    frame = _scores(30).with_columns(lead_id=pl.Series(leads))
    replace_table(warehouse, "ml", "lead_scores", frame)
    publish_table(warehouse, LEADS)
    [(table, destination)] = [
        m
        for m in load_mapping(shipped_spec("publish_operational_crm"))
        if m[0].name == "lead_scores"
    ]
    first = sync(warehouse, table, destination, pg_database, "r1")
    assert first.inserted == 30
    with psycopg.connect(pg_database) as pg:
        rows = pg.execute(
            "select lead_id, lead_score, lead_grade, lead_score_reasons->0->>'text' from crm.leads "
            "where lead_score is not null order by lead_id"
        ).fetchall()
        total = pg.execute("select count(*) from crm.leads").fetchone()[0]
    assert len(rows) == 30 and total > 30  # the CRM's other leads are untouched
    assert rows[0][1] == 0 and rows[0][3].startswith("Viewed pricing")
    assert sync(warehouse, table, destination, pg_database, "r2").written == 0


def test_readers_see_the_old_or_the_new_snapshot_never_a_mix(tmp_path: Path):
    from crmlens.serving import SnapshotReader, refresh_snapshot
    from crmlens.settings import get_settings

    settings = get_settings(home=tmp_path / "home")
    settings.ensure_dirs()

    def write_version(v: int) -> None:
        con = connect(settings.warehouse_path)
        replace_table(
            con,
            "publish",
            "lead_scores",
            pl.DataFrame({"lead_id": [f"L{i}" for i in range(2000)], "version": [v] * 2000}),
        )
        con.close()

    write_version(0)
    refresh_snapshot(settings, "v0")
    reader = SnapshotReader(settings.serving_path)
    seen, errors, stop = set(), [], threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                rows = (
                    reader.connection()
                    .execute(
                        "select count(*), count(distinct version), min(version) from publish.lead_scores"
                    )
                    .fetchall()[0]
                )
                assert rows[:2] == (2000, 1), rows
                seen.add(rows[2])
            except Exception as exc:  # any error fails the test below
                errors.append(repr(exc))
                return

    threads = [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    for v in range(1, 6):
        write_version(v)
        refresh_snapshot(settings, f"v{v}")
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert len(seen) >= 2  # the readers did move to newer snapshots


def _forecast(points: dict[tuple[str, str], float]) -> pl.DataFrame:
    from datetime import date

    rows = []
    for (segment, month), point in points.items():
        rows.append(
            {
                "metric": "bookings",
                "grain": "month",
                "segment_type": "total" if segment == "total" else "region",
                "segment": segment,
                "period": date.fromisoformat(month),
                "horizon": int(month[5:7]) - 10,
                "point": point,
                "lo80": point * 0.8,
                "hi80": point * 1.2,
                "lo95": point * 0.7,
                "hi95": point * 1.3,
                "method": "ets_damped",
                "fallback_reason": None,
                "forecast_origin": datetime(2026, 11, 1),
                "scored_at": datetime(2026, 11, 1),
                "valid_until": datetime(2026, 12, 2),
                "run_id": "run",
                "mlflow_run_id": "abc",
            }
        )
    return pl.DataFrame(rows)


def test_the_forecast_is_published_by_its_composite_key(warehouse, pg_database):
    table = score_table("revenue_forecast")
    points = {
        ("total", "2026-11-01"): 100.0,
        ("total", "2026-12-01"): 110.0,
        ("East", "2026-11-01"): 60.0,
        ("West", "2026-11-01"): 40.0,
    }
    destination = contract_destination(table, "crmlens")
    replace_table(warehouse, "ml", "revenue_forecast", _forecast(points))
    assert publish_table(warehouse, table) == 4
    first = sync(warehouse, table, destination, pg_database, "f1")
    assert (first.inserted, first.updated, first.deleted) == (4, 0, 0)

    # Next month: one period revised, one new, one gone; the others unchanged.
    points[("total", "2026-12-01")] = 120.0
    del points[("West", "2026-11-01")]
    points[("total", "2027-01-01")] = 130.0
    replace_table(warehouse, "ml", "revenue_forecast", _forecast(points))
    publish_table(warehouse, table)
    second = sync(warehouse, table, destination, pg_database, "f2")
    assert (second.inserted, second.updated, second.deleted) == (1, 1, 1)
    with psycopg.connect(pg_database) as pg:
        rows = pg.execute(
            "select segment, period::text, point, mlflow_run_id from crmlens.revenue_forecast "
            "order by segment, period"
        ).fetchall()
    assert rows == [
        ("East", "2026-11-01", 60.0, "abc"),
        ("total", "2026-11-01", 100.0, "abc"),
        ("total", "2026-12-01", 120.0, "abc"),
        ("total", "2027-01-01", 130.0, "abc"),
    ]


def test_a_contract_table_made_by_an_older_crmlens_gains_the_new_columns(warehouse, pg_database):
    with psycopg.connect(pg_database) as pg:
        pg.execute("create schema crmlens")
        pg.execute(
            "create table crmlens.lead_scores (lead_id text primary key, score bigint, "
            "probability double precision, grade text, band text, reasons text, "
            "next_action text, model_name text, model_version text, scoring_path text, "
            "as_of timestamp, scored_at timestamp, valid_until timestamp, run_id text)"
        )
    first = _publish(warehouse, _scores(50), pg_database, "r1")
    assert first.inserted == 50
    with psycopg.connect(pg_database) as pg:
        columns = [
            r[0]
            for r in pg.execute(
                "select column_name from information_schema.columns where table_schema = "
                "'crmlens' and table_name = 'lead_scores' order by ordinal_position"
            ).fetchall()
        ]
    assert set(LEADS.columns) <= set(columns)
