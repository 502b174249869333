"""Monitoring and alerts: drift blocks publishing, alerts reach a webhook, transient
failures are retried, failed steps raise an alert."""

from __future__ import annotations

import json
import shutil
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from crmlens.settings import get_settings
from crmlens.warehouse import connect, session
from models.common import drift
from models.common.metrics import calibration_by_decile, expected_calibration_error
from pipelines.ingest.checks import volume_anomalies

# --- the statistics ---------------------------------------------------------------------


def test_psi_is_near_zero_for_the_same_population_and_large_for_a_shifted_one():
    rng = np.random.default_rng(0)
    reference = rng.normal(0, 1, 20_000)
    assert drift.psi_numeric(reference, rng.normal(0, 1, 20_000)) < 0.01
    assert 0.1 < drift.psi_numeric(reference, rng.normal(0.5, 1, 20_000)) < 0.25
    assert drift.psi_numeric(reference, rng.normal(2, 1, 20_000)) > 1.0
    # Missing values are a bin of their own: a feed that stops filling a field drifts.
    half_missing = rng.normal(0, 1, 20_000)
    half_missing[::2] = np.nan
    assert drift.psi_numeric(reference, half_missing) > 1.0


def test_categorical_psi_notices_a_new_and_a_vanished_category():
    reference = pl.Series("source", ["web"] * 500 + ["event"] * 300 + ["referral"] * 200)
    same = pl.Series("source", ["web"] * 50 + ["event"] * 30 + ["referral"] * 20)
    assert drift.psi_categorical(reference, same) < 1e-9
    changed = pl.Series("source", ["web"] * 50 + ["partner"] * 50)
    assert drift.psi_categorical(reference, changed) > 1.0


def test_a_collapsed_score_distribution_blocks_even_without_feature_drift():
    rng = np.random.default_rng(1)
    reference = rng.beta(2, 8, 5_000)
    healthy = drift.assess(reference, rng.beta(2, 8, 800), {"a": 0.01})
    assert healthy.status == "ok" and not healthy.reasons
    collapsed = drift.assess(reference, np.full(800, 0.12), {"a": 0.01})
    assert collapsed.blocked and "collapsed" in collapsed.reasons[0]


def test_feature_drift_is_weighted_by_what_the_model_uses():
    scores = np.linspace(0.01, 0.99, 1000)
    features = {"used": 0.9, "ignored": 0.9, "stable": 0.0}
    ignored_only = drift.assess(scores, scores, {**features, "used": 0.0}, {"used": 10.0})
    assert ignored_only.status == "warn"  # a drifting feature is reported, not blocking
    used = drift.assess(scores, scores, features, {"used": 10.0, "ignored": 0.0, "stable": 1.0})
    assert used.blocked and used.weighted_feature_psi == pytest.approx(0.9 * 10 / 11)


def test_calibration_by_decile_of_a_calibrated_model_is_close():
    rng = np.random.default_rng(2)
    p = rng.uniform(0, 1, 50_000)
    y = rng.uniform(0, 1, 50_000) < p
    table = calibration_by_decile(p, y)
    assert table["rows"].to_list() == [5_000] * 10
    assert expected_calibration_error(table) < 0.01
    assert expected_calibration_error(calibration_by_decile(p, ~y)) > 0.3


def test_a_day_with_far_fewer_events_than_usual_is_flagged():
    last = date(2026, 11, 1)
    days = [last - timedelta(days=i) for i in range(35)]
    counts = [1000 + (i % 7) * 30 for i in range(35)]
    counts[2] = 180  # three days ago the feed broke
    counts[0] = 990
    ratio = get_settings().volume_warn_ratio  # half the median, by default
    flagged, detail = volume_anomalies(pl.DataFrame({"day": days, "events": counts}), ratio)
    assert flagged == [str(last - timedelta(days=2))]
    assert detail[str(last)]["events"] == 990


# --- on a copy of the tiny home -----------------------------------------------------


@pytest.fixture
def home(tiny_home_copy: Path) -> Path:
    return tiny_home_copy


def _settings(home: Path, tiny_crm: Path, **kw):
    return get_settings(home=home, source_spec=tiny_crm / "source_spec.yml", **kw)


def test_drift_injected_into_a_feature_blocks_publishing(home: Path, tiny_crm: Path):
    from dagster import AssetCheckSeverity, DagsterInstance

    from pipelines.run import run_job

    settings = _settings(home, tiny_crm)
    with session(settings.warehouse_path) as con:
        before = con.execute("select distinct run_id from publish.lead_scores").fetchall()
        # Every company becomes a 50,000-employee enterprise overnight (a broken unit in
        # the CRM export): employee_count drifts, and the rule score with it.
        con.execute("update raw.accounts set employee_count = 50000")
        con.execute("update raw.leads set employee_count = 50000")
    result = run_job(settings, "score", instance=DagsterInstance.ephemeral(), raise_on_error=False)

    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    lead = checks["lead_scoring_drift"]
    assert not lead.passed and lead.severity == AssetCheckSeverity.ERROR
    assert lead.metadata["status"].value == "block"
    assert lead.metadata["score_psi"].value >= 0.10  # the rule score moved with it
    assert "employee_count" in lead.metadata["top_feature_psi"].value
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "ml/lead_scores" in materialized
    assert "publish/lead_scores" not in materialized  # blocked: the CRM keeps the old scores
    with session(settings.warehouse_path) as con:
        after = con.execute("select distinct run_id from publish.lead_scores").fetchall()
        blocked = con.execute(
            "select title from ops.alerts where kind = 'scores_blocked'"
        ).fetchall()
        monitored = con.execute(
            "select status from ops.model_monitoring where family = 'lead_scoring' "
            "and kind = 'drift' order by checked_at desc limit 1"
        ).fetchall()
    assert after == before
    assert blocked == [("lead_scoring scores not published: drift",)]
    assert monitored == [("block",)]


def test_without_drift_the_scores_are_published(home: Path, tiny_crm: Path):
    from dagster import DagsterInstance

    from pipelines.run import run_job

    settings = _settings(home, tiny_crm)
    result = run_job(settings, "score", instance=DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success
    drift_checks = [
        c for c in result.get_asset_check_evaluations() if c.check_name.endswith("_drift")
    ]
    assert len(drift_checks) == 3
    assert all(c.metadata["status"].value in ("ok", "warn") for c in drift_checks)
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"publish/lead_scores", "publish/opportunity_scores", "publish/churn_scores"} <= (
        materialized
    )


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/crm", _Receiver.received
    server.shutdown()


def test_an_alert_for_a_seeded_hot_uncontacted_lead_reaches_the_webhook(
    home: Path, tiny_crm: Path, webhook, monkeypatch: pytest.MonkeyPatch
):
    from dagster import materialize

    from pipelines.monitoring.alerts import ops_alerts
    from pipelines.resources import CrmlensResource

    url, received = webhook
    monkeypatch.setenv("CRMLENS_ALERT_WEBHOOK_URL", url)
    settings = _settings(home, tiny_crm)
    with session(settings.warehouse_path) as con:
        # The seed: a lead that came in yesterday, nobody answered, and the model rates hot.
        lead = con.execute(
            "select lead_id from marts.fct_leads l join ml.lead_scores s using (lead_id) "
            "order by lead_id limit 1"
        ).fetchall()[0][0]
        con.execute(
            "update marts.fct_leads set first_response_at = null, "
            "created_at = (select max(occurred_at) from raw.events) - interval 1 day "
            "where lead_id = ?",
            [lead],
        )
        con.execute("update ml.lead_scores set band = 'hot', score = 91 where lead_id = ?", [lead])
    resource = CrmlensResource(home=str(home), source_spec=str(tiny_crm / "source_spec.yml"))
    for _ in range(2):  # a rerun on the same day raises nothing new and sends nothing again
        assert materialize([ops_alerts], resources={"crmlens": resource}).success

    alerts = [a for body in received for a in body["alerts"]]
    hot = [a for a in alerts if a["kind"] == "hot_lead_not_contacted"]
    assert [a["entity_id"] for a in hot] == [lead]
    assert hot[0]["severity"] == "high" and "score 91" in hot[0]["title"]
    assert len(received) == 1  # the second run found them delivered
    with session(settings.warehouse_path) as con:
        undelivered = con.execute(
            "select count(*) from ops.alerts where delivered_at is null"
        ).fetchall()[0][0]
        stored = con.execute(
            "select count(*) from ops.alerts where kind = 'hot_lead_not_contacted'"
        ).fetchall()[0][0]
    assert undelivered == 0 and stored == 1


def test_an_unreachable_webhook_keeps_the_alerts_for_the_next_run(home: Path):
    from datetime import datetime

    from crmlens import alerts

    con = connect(home / "warehouse.duckdb")
    frame = pl.DataFrame(
        {c: ["x"] for c in alerts.COLUMNS}, schema=dict.fromkeys(alerts.COLUMNS, pl.String)
    )
    alerts.record(con, frame, day="2026-11-01", run_id="r", now=datetime(2026, 11, 1))
    result = alerts.deliver(
        con, "http://127.0.0.1:9/nowhere", now=datetime(2026, 11, 1), backoff_seconds=0.01
    )
    assert result.sent == 0 and result.attempts == 3 and result.error
    pending = con.execute(
        "select count(*) from ops.alerts where delivered_at is null and delivery_error is not null"
    ).fetchall()[0][0]
    con.close()
    assert pending >= 1


def test_a_transient_failure_is_retried(
    tiny_crm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The accounts export is still being uploaded when the run starts: the first attempt
    fails, the retry (after the backoff) finds the file and loads it."""
    from dagster import materialize

    import pipelines.ingest.assets as ingest_assets
    from pipelines.ingest import build_ingest_assets
    from pipelines.resources import CrmlensResource

    data = tmp_path / "crm"
    shutil.copytree(tiny_crm, data)
    accounts = data / "crm" / "accounts.csv"
    parked = tmp_path / accounts.name
    accounts.rename(parked)
    real_ingest = ingest_assets.ingest_table

    def arrives_after_the_first_attempt(*args, **kwargs):
        try:
            return real_ingest(*args, **kwargs)  # the first attempt finds no file
        finally:
            if parked.exists():  # ...and the upload completes while the step backs off
                parked.rename(accounts)

    monkeypatch.setattr(ingest_assets, "ingest_table", arrives_after_the_first_attempt)
    asset = next(a for a in build_ingest_assets() if a.key.to_user_string() == "raw/accounts")
    resource = CrmlensResource(
        home=str(tmp_path / "home"), source_spec=str(data / "source_spec.yml")
    )
    started = time.monotonic()
    result = materialize([asset], resources={"crmlens": resource})
    assert result.success
    retried = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retried) >= 1
    assert time.monotonic() - started >= 1.0  # it waited for the backoff, not a busy loop
    with session(tmp_path / "home" / "warehouse.duckdb") as con:
        assert con.execute("select count(*) from raw.accounts").fetchall()[0][0] > 0


def test_a_failed_step_raises_a_pipeline_failure_alert(tmp_path: Path, tiny_crm: Path, webhook):
    from dagster import DagsterInstance

    from pipelines.run import run_job

    url, received = webhook
    # No warehouse yet: training has no staging views to read, and fails.
    settings = get_settings(
        home=tmp_path / "home", source_spec=tiny_crm / "source_spec.yml", alert_webhook_url=url
    )
    result = run_job(settings, "train", instance=DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    with session(settings.warehouse_path) as con:
        rows = con.execute(
            "select entity_id, title from ops.alerts where kind = 'pipeline_failure'"
        ).fetchall()
    assert rows and all("train" in title for _, title in rows)
    sent = [a["kind"] for body in received for a in body["alerts"]]
    assert "pipeline_failure" in sent
