"""The dashboards (Streamlit AppTest) on the tiny home's serving snapshot.

Every page runs without exception or error box and shows its key elements; changing a
filter changes what a page shows; a hostile filter value is just a value; pages keep
answering while the pipeline swaps the snapshot under them; a missing snapshot or
table gives a friendly message. Processing helpers are tested on hand-made frames.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from crmlens.serving import refresh_snapshot
from crmlens.settings import get_settings
from dashboards.catalog import APP, PAGES

TIMEOUT = 120  # a safety net for a hung run, not a performance limit
HOSTILE = "x' OR 1=1; DROP TABLE marts.fct_leads; --\"); select * from ml.lead_scores --"


# ----------------------------------------------------------------------------- helpers


def _use_home(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    monkeypatch.setenv("CRMLENS_HOME", str(home))
    monkeypatch.delenv("CRMLENS_SERVING_PATH", raising=False)


def _app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if page:
        at.switch_page(f"views/{page}.py")
    return at.run()


def _healthy(at: AppTest, page: str) -> None:
    assert not at.exception, f"{page}: {[e.value for e in at.exception]}"
    assert not at.error, f"{page}: {[e.value for e in at.error]}"


def _charts(at: AppTest) -> list:
    return list(at.get("vega_lite_chart"))


def _shown(at: AppTest) -> str:
    """A fingerprint of what the page shows: metrics, tables, charts' data, messages."""
    parts = [f"{m.label}={m.value}|{m.delta}" for m in at.metric]
    parts += [df.value.to_csv() for df in at.dataframe]
    for chart in _charts(at):
        proto = chart.proto
        parts.append(proto.spec)
        parts += [d.data.data.hex() for d in proto.datasets]
    parts += [str(e.value) for e in (*at.info, *at.caption)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _has_table(home: Path, schema: str, table: str) -> bool:
    path = get_settings(home=home).serving_path
    with duckdb.connect(str(path), read_only=True) as con:
        return bool(
            con.execute(
                "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
                [schema, table],
            ).fetchone()[0]
        )


@pytest.fixture
def tiny_app(tiny_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    _use_home(monkeypatch, tiny_home)
    return tiny_home


# --------------------------------------------------------------------------- every page

# Subheaders each page must show (its key sections).
KEY_SECTIONS = {
    "overview": {"Alerts", "Bookings by month", "MRR", "Open pipeline by stage"},
    "pipeline": {"Stage funnel", "Aging of open deals", "Deals at risk"},
    "forecast": set(),  # depends on whether the forecast job ran: checked below
    "leads": {"Leads to work", "Score distribution", "Does the score work?"},
    "customers": {"Customers by churn risk", "Renewals in the next 90 days", "MRR movements"},
    "campaigns": {"Attribution models compared", "Cost and return", "Campaign performance"},
    "team": {"Rep leaderboard", "When the team works", "Time per client", "Revenue per hour"},
    "quality": {"Quarantined rows", "Freshness of every source", "Duplicate candidates"},
    "models": {
        "Against the baselines",
        "Calibration",
        "Score drift",
        "Drift and calibration checks over time",
        "How would the scores have done for us?",
        "Champion and challenger",
    },
}


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_and_shows_its_key_elements(page: str, tiny_app: Path) -> None:
    at = _app(page)
    _healthy(at, page)
    assert at.title and at.title[0].value, f"{page} has no title"
    subheaders = {s.value for s in at.subheader}
    assert KEY_SECTIONS[page] <= subheaders, f"{page}: missing {KEY_SECTIONS[page] - subheaders}"
    if page == "forecast" and not _has_table(tiny_app, "ml", "revenue_forecast"):
        # the forecast job has not run on this home: a message, not a trace
        assert any("not in the published data yet" in str(i.value) for i in at.info)
        return
    assert _charts(at), f"{page} draws no chart"
    if page in ("pipeline", "leads", "customers", "campaigns", "team", "quality", "models"):
        assert at.dataframe, f"{page} shows no table"
        assert at.get("download_button"), f"{page}'s tables have no CSV download"
    if page in ("overview", "leads", "customers", "campaigns", "forecast", "models"):
        assert at.metric, f"{page} shows no headline figures"


def test_overview_kpis_compare_with_the_previous_period(tiny_app: Path) -> None:
    at = _app("overview")
    labels = [m.label for m in at.metric]
    assert labels == [
        "Open pipeline",
        "Bookings",
        "Win rate",
        "MRR",
        "Churned MRR",
        "Lead conversion",
    ]
    assert any(m.delta for m in at.metric), "no KPI shows a change vs the previous period"


def test_every_score_table_shows_its_reasons(tiny_app: Path) -> None:
    for page in ("pipeline", "leads", "customers"):
        column = "why"  # shown as "Why"
        at = _app(page)
        tables = [df.value for df in at.dataframe if column in df.value.columns]
        assert tables, f"{page}: no table with a {column!r} column"
        filled = tables[0][column].dropna()
        assert len(filled) and filled.str.len().gt(0).any(), f"{page}: reasons are empty"
        assert filled.str.contains("↑|↓").any(), f"{page}: reasons lack their direction"


# ------------------------------------------------------------------------ filter change


def _first_team(at: AppTest) -> str:
    return at.multiselect(key="f_teams").options[0]


FILTER_CHANGES = {
    # page: (description, function that changes one filter on the app)
    "overview": lambda at: at.multiselect(key="f_segments").set_value(["smb"]),
    "pipeline": lambda at: at.multiselect(key="f_teams").set_value([_first_team(at)]),
    "forecast": lambda at: at.selectbox(key="fc_metric").set_value(
        "new_pipeline" if at.selectbox(key="fc_metric").value != "new_pipeline" else "bookings"
    ),
    "leads": lambda at: at.button_group(key="leads_grades").set_value(["A"]),
    "customers": lambda at: at.multiselect(key="f_segments").set_value(["enterprise"]),
    "campaigns": lambda at: at.radio(key="campaigns_model").set_value("first_touch"),
    "team": lambda at: at.multiselect(key="f_teams").set_value([_first_team(at)]),
    "quality": lambda at: at.slider(key="dq_min_score").set_value(1.0),
    "models": lambda at: at.radio(key="models_family").set_value("deal_scoring"),
}


@pytest.mark.parametrize("page", PAGES)
def test_a_filter_change_changes_what_the_page_shows(page: str, tiny_app: Path) -> None:
    at = _app(page)
    if page == "forecast" and not _has_table(tiny_app, "ml", "revenue_forecast"):
        pytest.skip("the forecast job has not run on the tiny home")
    before = _shown(at)
    FILTER_CHANGES[page](at)
    at.run()
    _healthy(at, page)
    assert _shown(at) != before, f"{page}: the filter change changed nothing on the page"


def test_the_period_filter_changes_the_overview(tiny_app: Path) -> None:
    at = _app("overview")
    before = _shown(at)
    start, _ = at.date_input(key="f_period").value
    at.date_input(key="f_period").set_value((start, start + timedelta(days=27))).run()
    _healthy(at, "overview")
    assert _shown(at) != before


def test_filters_survive_moving_between_pages(tiny_app: Path) -> None:
    at = _app("overview")
    at.multiselect(key="f_segments").set_value(["smb"]).run()
    at.switch_page("views/customers.py").run()
    _healthy(at, "customers")
    assert at.multiselect(key="f_segments").value == ["smb"]
    assert any("SMB" in str(c.value) for c in at.caption)


# ----------------------------------------------------------------------- hostile values


def test_hostile_search_text_is_just_text(tiny_app: Path) -> None:
    at = _app("leads")
    total = next(m.value for m in at.metric if m.label == "Open leads scored")
    assert total != "0"
    at.text_input(key="leads_search").set_value(HOSTILE).run()
    _healthy(at, "leads")
    shown = next(m.value for m in at.metric if m.label == "Open leads scored")
    assert shown == "0", "a hostile search matched leads: it was not treated as text"
    at.text_input(key="leads_search").set_value("").run()
    assert next(m.value for m in at.metric if m.label == "Open leads scored") == total


def test_hostile_filter_values_reach_sql_only_as_parameters(tiny_app: Path) -> None:
    """Values no widget offers (as a crafted request could send) match nothing."""
    from dashboards.filters import Filters
    from dashboards.queries import forecast, leads, overview, quality

    everyone = Filters(date(2020, 1, 1), date(2030, 1, 1))
    hostile = Filters(
        date(2020, 1, 1),
        date(2030, 1, 1),
        owners=(HOSTILE,),
        segments=("smb' OR '1'='1",),
        scope_users=(HOSTILE,),
    )
    assert leads.scored_leads(everyone.params(), [], [], "").height > 0
    assert leads.scored_leads(hostile.params(), [], [], "").height == 0
    assert leads.scored_leads(everyone.params(), [HOSTILE], [HOSTILE], HOSTILE).height == 0
    assert quality.duplicates([HOSTILE], 0.0).height == 0
    if _has_table(tiny_app, "ml", "forecast_backtest"):
        assert forecast.forecast_backtest(HOSTILE, HOSTILE, HOSTILE, HOSTILE).height == 0
    assert overview.open_alerts(everyone.params()).height > 0
    # only the pipeline's own alerts (no owner, always shown) survive a hostile owner
    assert set(overview.open_alerts(hostile.params())["kind"]) <= set(overview.SYSTEM_ALERTS)
    kpis = overview.kpis(hostile.params())
    assert kpis["bookings"] == 0 and kpis["leads"] == 0
    assert _has_table(tiny_app, "marts", "fct_leads")  # and nothing was dropped


# ------------------------------------------------------------------ alerts and monitoring


def _table_with(at: AppTest, column: str):
    tables = [df.value for df in at.dataframe if column in df.value.columns]
    assert tables, f"no table with a {column!r} column"
    return tables[0]


def _seed_alerts(home: Path, rows: list[tuple]) -> None:
    """Replace the alerts of a private home's warehouse with ``rows`` and publish them.

    A row: (kind, severity, entity_id, owner_user_id, title, raised_on).
    """
    from crmlens.alerts import ensure_table

    settings = get_settings(home=home)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        ensure_table(con)
        con.execute("delete from ops.alerts")
        for i, (kind, severity, entity, owner, title, day) in enumerate(rows):
            con.execute(
                "insert into ops.alerts values (?, ?, ?, 'test', ?, ?, ?, 'seeded detail', ?, "
                "now()::timestamp, now()::timestamp, 'seed', null, null)",
                [f"seed{i}", kind, severity, entity, owner, title, day],
            )
    refresh_snapshot(settings, run_id="seeded-alerts")


def test_the_overview_shows_the_alerts_and_the_owner_filter_applies(
    swapping_home: Path,
) -> None:
    with duckdb.connect(str(get_settings(home=swapping_home).serving_path), read_only=True) as con:
        (mine, my_name), (theirs, _) = con.execute(
            "select user_id, name from marts.dim_users where name is not null "
            "order by user_id limit 2"
        ).fetchall()
    day = date(2026, 11, 1)
    today = datetime.now(UTC).date()  # the pipeline dates its own alerts by the wall clock
    _seed_alerts(
        swapping_home,
        [
            ("deal_at_risk", "medium", "O1", mine, "Seeded: my deal", day),
            ("deal_at_risk", "medium", "O1", mine, "Seeded: my deal, the day before", day - timedelta(days=1)),
            ("hot_lead_not_contacted", "high", "L1", theirs, "Seeded: their lead", day - timedelta(days=3)),
            ("activity_gap", "medium", mine, mine, "Seeded: a month ago", day - timedelta(days=30)),
            ("pipeline_failure", "high", "step_x", None, "Seeded: step failed", today),
        ],
    )  # fmt: skip
    at = _app("overview")
    _healthy(at, "overview")
    alerts = _table_with(at, "title")
    titles = set(alerts["title"])
    # the latest day, the week before it (each deal once, as raised last), the pipeline's own
    assert titles == {"Seeded: my deal", "Seeded: their lead", "Seeded: step failed"}
    assert my_name in set(alerts["owner"])  # the owner's name, from marts.dim_users
    assert any(str(c.value).startswith("3 open alerts, 2 of high severity") for c in at.caption)
    assert at.get("download_button"), "the alerts table has no CSV download"

    at.multiselect(key="f_owners").set_value([mine]).run()
    _healthy(at, "overview")
    titles = set(_table_with(at, "title")["title"])
    assert titles == {"Seeded: my deal", "Seeded: step failed"}


def test_no_alert_and_no_checks_give_a_friendly_message(swapping_home: Path) -> None:
    _seed_alerts(swapping_home, [])
    at = _app("overview")
    _healthy(at, "overview")
    assert any("No open alert" in str(i.value) for i in at.info)

    settings = get_settings(home=swapping_home)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("drop table ops.alerts")
        con.execute("drop table if exists ops.model_monitoring")
    refresh_snapshot(settings, run_id="without-alerts")
    at = _app("overview")
    _healthy(at, "overview")
    assert any("No alert is recorded" in str(i.value) for i in at.info)
    assert _charts(at), "the other sections of the page should still draw"
    at.switch_page("views/models.py").run()
    _healthy(at, "models")
    assert any("model_monitoring" in str(i.value) for i in at.info)


def test_the_models_page_shows_the_checks_over_time(tiny_app: Path) -> None:
    from dashboards.processing import models as processing

    path = get_settings(home=tiny_app).serving_path
    with duckdb.connect(str(path), read_only=True) as con:
        kinds = {
            k for (k,) in con.execute("select distinct kind from ops.model_monitoring").fetchall()
        }
    assert kinds == {"drift", "calibration"}, "the tiny home's score job records both checks"
    at = _app("models")
    _healthy(at, "models")
    assert "Drift and calibration checks over time" in {s.value for s in at.subheader}
    latest = _table_with(at, "kind_label")
    assert set(latest["kind_label"]) == set(processing.MONITORING_KINDS.values())
    assert latest["why"].notna().all()
    specs = [c.proto.spec for c in _charts(at)]
    assert any('"checked_at"' in spec and "rule" in spec for spec in specs), "no checks chart"


# ------------------------------------------------------------- snapshot swap and absence


@pytest.fixture
def swapping_home(tiny_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private home with a copy of the tiny warehouse and its own serving snapshot."""
    home = tmp_path / "home"
    settings = get_settings(home=home)
    settings.ensure_dirs()
    shutil.copy(get_settings(home=tiny_home).warehouse_path, settings.warehouse_path)
    refresh_snapshot(settings, run_id="first")
    _use_home(monkeypatch, home)
    return home


def test_pages_keep_answering_while_the_snapshot_is_swapped(swapping_home: Path) -> None:
    settings = get_settings(home=swapping_home)
    stop = threading.Event()
    swaps: list[str] = []
    failures: list[BaseException] = []

    def publish() -> None:
        try:
            while not stop.is_set():
                refresh_snapshot(settings, run_id=f"swap-{len(swaps)}")
                swaps.append(datetime.now().isoformat())
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    publisher = threading.Thread(target=publish, daemon=True)
    publisher.start()
    try:
        at = _app("overview")
        for _ in range(2):
            for page in PAGES:
                at.switch_page(f"views/{page}.py").run()
                _healthy(at, page)
                assert at.title and at.title[0].value
    finally:
        stop.set()
        publisher.join(timeout=60)
    assert not failures, failures
    assert len(swaps) >= 3, f"only {len(swaps)} swaps happened while the pages ran"


def test_queries_during_swaps_never_fail(swapping_home: Path) -> None:
    """Many threads (sessions) querying while the publisher swaps, without caches."""
    from dashboards import data

    settings = get_settings(home=swapping_home)
    stop = threading.Event()
    errors: list[BaseException] = []
    counts: list[int] = []

    def reader() -> None:
        while not stop.is_set():
            try:
                cur = data._cursor(Path(settings.serving_path).resolve())
                try:
                    counts.append(
                        cur.execute("select count(*) from marts.fct_opportunities").fetchall()[0][0]
                    )
                finally:
                    cur.close()
            except BaseException as exc:
                errors.append(exc)
                return

    readers = [threading.Thread(target=reader, daemon=True) for _ in range(4)]
    for t in readers:
        t.start()
    for i in range(5):
        refresh_snapshot(settings, run_id=f"swap-{i}")
        time.sleep(0.05)
    stop.set()
    for t in readers:
        t.join(timeout=60)
    assert not errors, errors[:3]
    assert counts and len(set(counts)) == 1


def test_no_snapshot_yet_gives_a_friendly_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_home(monkeypatch, tmp_path / "empty_home")
    for page in ("overview", "leads", "models"):
        at = _app(page)
        _healthy(at, page)
        assert any("No data has been published yet" in str(i.value) for i in at.info), page


def test_a_missing_table_blanks_only_its_section(
    swapping_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings(home=swapping_home)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("drop table marts.fct_activity_heatmap")
    refresh_snapshot(settings, run_id="without-heatmap")
    at = _app("team")
    _healthy(at, "team")
    assert any("not in the published data yet" in str(i.value) for i in at.info)
    assert _charts(at), "the other sections of the page should still draw"


# -------------------------------------------------------------------------- processing


def test_reasons_in_words_with_their_direction() -> None:
    from dashboards.processing import reasons as processing

    frame = pl.DataFrame(
        {
            "reasons": [
                '[{"group":"a","direction":"up","impact":0.5,"text":"Budget confirmed"},'
                '{"group":"b","direction":"down","impact":-0.2,"text":"No reply in 14 days"}]',
                "[]",
                None,
            ]
        }
    )
    why = processing.with_reasons(frame)["why"].to_list()
    assert why == ["↑ Budget confirmed · ↓ No reply in 14 days", "", ""]


def test_risk_flags_in_words_and_filtering() -> None:
    from dashboards.processing import pipeline as processing

    frame = pl.DataFrame(
        {
            "risk_flags": ['["no_activity_14d", "single_contact"]', "[]", '["stage_over_p75"]'],
            "reasons": ["[]", "[]", "[]"],
            "amount": [100.0, 50.0, 10.0],
        }
    )
    risky = processing.at_risk(frame)
    assert risky.height == 2
    assert risky["risks"][0].to_list() == ["No activity in 14 days", "Single-threaded"]
    assert processing.at_risk(frame, ["stage_over_p75"])["amount"].to_list() == [10.0]
    summary = processing.risk_summary(risky)
    assert dict(zip(summary["risk"], summary["amount"], strict=True)) == {
        "No activity in 14 days": 100.0,
        "Single-threaded": 100.0,
        "Stuck in stage": 10.0,
    }


def test_kpi_changes_against_the_previous_period() -> None:
    from dashboards.processing import overview as processing

    base = {
        "open_pipeline": 100.0,
        "bookings": 50.0,
        "won_deals": 1,
        "closed_deals": 4,
        "mrr": 10.0,
        "mrr_at_start": 10.0,
        "churned_mrr": 1.0,
        "churned_customers": 1,
        "leads": 10,
        "converted_leads": 1,
    }
    now = base | {"bookings": 75.0, "won_deals": 2, "converted_leads": 0}
    kpis = {k.label: k for k in processing.kpis(now, base)}
    assert kpis["Bookings"].delta == "+50.0%"
    assert kpis["Win rate"].value == "50.0%" and kpis["Win rate"].delta == "+25.0 pts"
    assert kpis["Lead conversion"].delta == "-10.0 pts"
    assert kpis["Churned MRR"].delta_color == "inverse"
    empty = base | {"closed_deals": 0, "won_deals": 0}
    assert processing.kpis(empty, empty)[2].value == "–"


def test_mrr_bridge_signs_losses_and_nets() -> None:
    from dashboards.processing import customers as processing

    frame = pl.DataFrame(
        {
            "month": [date(2026, 1, 1)],
            "new": [10.0],
            "expansion": [5.0],
            "reactivation": [0.0],
            "contraction": [2.0],
            "churn": [3.0],
            "mrr_end": [100.0],
        }
    )
    bridge = processing.mrr_bridge(frame)
    amounts = dict(zip(bridge["movement"], bridge["amount"], strict=True))
    assert amounts["churn"] == -3.0 and amounts["new"] == 10.0
    assert bridge["net"].unique().to_list() == [10.0]


def test_drift_is_zero_for_identical_publications() -> None:
    from dashboards.processing import models as processing

    rows = []
    for run, day in (("r1", 1), ("r2", 2)):
        for b, grade, n in ((0, "D", 80), (5, "B", 15), (9, "A", 5)):
            rows.append(
                {
                    "run_id": run,
                    "scored_at": datetime(2026, 1, day),
                    "model_name": "m",
                    "model_version": "1",
                    "scoring_path": "model",
                    "first_row": day * 1000,
                    "bin": b,
                    "grade": grade,
                    "rows": n,
                    "mean_score": 10.0 * b,
                }
            )
    grades, psi = processing.drift(pl.DataFrame(rows))
    assert psi["psi"].to_list() == pytest.approx([0.0, 0.0])
    assert grades.filter(pl.col("grade") == "A")["share"].to_list() == pytest.approx([0.05, 0.05])


def test_alert_counts_and_summary() -> None:
    from dashboards.processing import overview as processing

    frame = pl.DataFrame(
        {
            "kind": ["deal_at_risk", "deal_at_risk", "pipeline_failure", "new_kind"],
            "severity": ["medium", "medium", "high", "high"],
            "raised_on": [date(2026, 11, 1), date(2026, 10, 30), date(2026, 11, 20), None],
            "latest": [True, False, True, False],
        }
    )
    counts = processing.alert_counts(frame)
    assert counts.row(0) == ("Deal at risk", "medium", 2)
    assert set(counts["kind_label"]) == {"Deal at risk", "Pipeline step failed", "new_kind"}
    assert processing.alert_summary(frame) == (
        "4 open alerts, 2 of high severity; 2 raised on 01 Nov 2026 / 20 Nov 2026, "
        "2 earlier in the week."
    )
    assert processing.alert_summary(frame.head(1)) == (
        "1 open alert, 0 of high severity; 1 raised on 01 Nov 2026."
    )
    assert processing.alert_counts(frame.clear()).is_empty()


def test_monitoring_latest_status_and_thresholds() -> None:
    from dashboards.processing import models as processing

    frame = pl.DataFrame(
        {
            "family": ["churn", "churn", "churn"],
            "kind": ["drift", "drift", "calibration"],
            "checked_at": [datetime(2026, 11, 1), datetime(2026, 11, 2), datetime(2026, 11, 2)],
            "status": ["ok", "block", "warn"],
            "value": [0.01, 0.3, 0.0712],
            "reasons": ["stable", "score PSI 0.300 > 0.25", None],
            "rows": [None, None, 120],
            "warn_at": [0.1, 0.12, 0.05],
            "block_at": [0.25, 0.3, None],
        }
    )
    latest = processing.monitoring_latest(frame)
    assert latest.select("kind", "status", "why").rows() == [
        ("calibration", "warn", "ECE 0.071 (warning above 0.05) on 120 matured rows"),
        ("drift", "block", "score PSI 0.300 > 0.25"),
    ]
    # the rules drawn are the thresholds the latest check applied
    assert processing.monitoring_limits(frame, "drift").rows() == [("warn", 0.12), ("block", 0.3)]
    assert processing.monitoring_limits(frame, "calibration").rows() == [("warn", 0.05)]
    assert processing.monitoring_limits(frame.clear(), "drift").is_empty()


def test_csv_download_flattens_lists() -> None:
    from dashboards.ui import to_csv

    frame = pl.DataFrame({"id": ["O1"], "risks": [["Stuck in stage", "Single-threaded"]]})
    assert to_csv(frame).decode().splitlines() == ["id,risks", "O1,Stuck in stage; Single-threaded"]


def test_money_format() -> None:
    from dashboards.processing import formatting as processing

    assert processing.money(1_234_567) == "1.23M"
    assert processing.money(950) == "950"
    assert processing.money(-12_500) == "-12.5k"
    assert processing.money(None) == "–"


def test_the_forecast_speaks_a_managers_words() -> None:
    from dashboards.processing.forecast import accuracy_words, plain_method

    assert plain_method("ets_additive") == "Trend and seasonal pattern"
    assert plain_method("croston_sba") == "Croston sba"  # an unknown method stays readable
    better, detail = accuracy_words(0.68, 1.0)
    assert better == "32% better than repeating last season"
    assert "0.68 against 1.00" in detail
    assert accuracy_words(1.2, 1.0)[0] == "20% worse than repeating last season"
    assert accuracy_words(None, 1.0)[0] == "not tested yet"
