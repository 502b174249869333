"""What a spec says about its outcomes: the export date (`as_of`) and the labels per family.

The export shapes of tests/export_shapes.py (a lead list with a separate list of wins, an
undated customer table), hand-made rows for each rule of `one_outcome_per_row`, the
cold-start gate's sentence, the forecast of a source that has invoices only (or nothing to
forecast), and the shipped real-data specs' training sets.
"""

from __future__ import annotations

import json
import textwrap
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from crmlens.clock import data_today
from crmlens.contracts import TABLES
from crmlens.ingest import ingest_table
from crmlens.sources import shipped_spec
from crmlens.sources.spec import SpecError, load_spec
from crmlens.warehouse import connect
from features import account, lead, opportunity
from features.labels import label_config, population, read_labels
from models.common.family import Gate, GateContext
from models.common.training import train
from models.families import family
from models.forecasting import assemble
from models.forecasting.series import build_series, check_against_marts, what_was_forecast
from tests.conftest import FEATURE_INPUTS, NOW, REAL_DATA
from tests.dbt_support import empty_warehouse, run_dbt, seed_raw
from tests.export_shapes import leads_with_won_list, undated_snapshot

STAGING = ["build", "--select", "path:models/staging", "--indirect-selection", "cautious"]
TODAY = datetime(2025, 7, 1)


def _load(spec_path: Path, warehouse: Path, root: Path | None = None) -> Path:
    """Ingest every table a spec provides into a new warehouse."""
    con = connect(empty_warehouse(warehouse))
    spec = load_spec(spec_path, root)
    for table in TABLES:
        ingest_table(con, spec, table, now=NOW)
    con.close()
    return warehouse


def _spec(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "spec.yml"
    path.write_text(
        "name: s\nfiles:\n  leads: {path: leads.csv}\n"
        "tables:\n  leads: {select: select * from leads}\n" + textwrap.dedent(extra)
    )
    return path


# --- the spec ---------------------------------------------------------------------------


def test_a_spec_says_its_export_date_and_labels(tmp_path: Path):
    spec = load_spec(
        _spec(
            tmp_path,
            """
            as_of: 2025-06-30
            labels:
              lead_scoring: {horizon_days: 60, converted: [converted, qualified]}
              churn: {mode: one_outcome_per_row}
            """,
        )
    )
    assert spec.as_of == date(2025, 6, 30)
    assert spec.labels["lead_scoring"].horizon_days == 60
    assert spec.labels["churn"].mode == "one_outcome_per_row"


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ("leads: {horizon_days: 60}", "'leads' is not a model family"),
        ("lead_scoring: {churned: [cancelled]}", "`churned` belongs to another family"),
        ("lead_scoring: {converted: [Won]}", "'Won' is not a canonical status"),
        ("churn: {mode: one_row}", "labels.churn.mode"),
        ("deal_scoring: {horizon_days: 0}", "labels.deal_scoring.horizon_days"),
    ],
)
def test_a_wrong_label_definition_is_refused_in_one_line(tmp_path: Path, labels: str, message: str):
    with pytest.raises(SpecError) as error:
        load_spec(_spec(tmp_path, f"labels:\n  {labels}\n"))
    assert message in str(error.value) and str(error.value).startswith("source spec ")
    assert "\n" not in str(error.value)


def test_the_data_today_is_the_setting_then_the_spec_then_the_data(tmp_path: Path):
    root = tmp_path / "export"
    root.mkdir()
    (root / "leads.csv").write_text(
        "lead_id,status,created_at,updated_at\nL1,new,2025-03-01 10:00,2025-03-04 15:00\n"
    )
    plain = _load(_spec(root, ""), tmp_path / "plain.duckdb")
    dated = _load(_spec(root, "as_of: 2025-06-30\n"), tmp_path / "dated.duckdb")
    with connect(plain) as con:
        assert data_today(con) == datetime(2025, 3, 5)  # the day after the newest timestamp
    with connect(dated) as con:
        assert data_today(con) == datetime(2025, 6, 30)  # the export date
        assert data_today(con, datetime(2025, 5, 1)) == datetime(2025, 5, 1)  # CRMLENS_AS_OF
        assert all(not c.declared for c in read_labels(con).values())


# --- a lead list and, apart from it, the deals won ------------------------------------------


@pytest.fixture(scope="module")
def won_list(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """leads_with_won_list ingested, with every dbt model built (run, not tested)."""
    tmp = tmp_path_factory.mktemp("won_list")
    warehouse = _load(leads_with_won_list(tmp / "export"), tmp / "warehouse.duckdb")
    run_dbt(warehouse, ["run"])
    return warehouse


def test_the_spec_horizon_labels_the_lead_snapshots(won_list: Path):
    con = connect(won_list)
    today = data_today(con)
    label = read_labels(con)["lead_scoring"]
    snapshots = lead.training_snapshots(con, today)
    leads = con.sql("select lead_id, created_at, converted_at from staging.stg_crm__leads").pl()
    con.close()
    assert today == TODAY and (label.horizon_days, label.mode) == (60, "snapshots")
    # no snapshot after the data's today, and each one's 60 days have passed by then
    assert (snapshots["as_of"] + timedelta(days=60) <= today).all()
    joined = snapshots.join(leads, on="lead_id")
    expected = (
        joined["converted_at"].is_not_null()
        & (joined["converted_at"] >= joined["as_of"])
        & (joined["converted_at"] < joined["as_of"] + timedelta(days=60))
    ).cast(pl.Int32)
    assert (joined["label"] == expected).all() and joined["label"].sum() > 0


def test_the_gate_says_why_through_the_training_assets(won_list: Path, tmp_path: Path):
    """The pipeline's training assets: the lead list is below the gate (900 leads < 1,000),
    and the reason the model table shows says how many there are and how many settled."""
    from dagster import materialize

    from pipelines.ml.training import challenger_asset, training_set_asset
    from pipelines.resources import CrmlensResource

    spec = family("lead_scoring")
    home = tmp_path / "home"
    resource = CrmlensResource(home=str(home), warehouse_path=str(won_list))
    result = materialize(
        [training_set_asset(spec), challenger_asset(spec)], resources={"crmlens": resource}
    )
    meta = {
        e.materialization.asset_key.to_user_string(): {
            k: v.value for k, v in e.materialization.metadata.items()
        }
        for e in result.get_asset_materialization_events()
    }
    training = meta["features/lead_training_set"]
    assert (training["horizon_days"], training["label_mode"]) == (60, "snapshots")
    gate = meta["ml/lead_scoring_challenger"]["gate"]
    settled = training["entities"]
    # a lead list without the rule's fields has no rule baseline: the base rate, not a constant
    assert meta["ml/lead_scoring_challenger"]["path"] == "no_reliable_signal"
    assert meta["ml/lead_scoring_challenger"]["rule_baseline"] == "no rule baseline"
    assert gate == f"not enough history: {settled} entities < 1000 — the source has 900 leads ({settled} settled)"  # fmt: skip


def test_the_gate_names_what_to_set_when_labels_wait():
    ids, labels = np.array([], dtype=str), np.array([], dtype=int)
    context = GateContext("lead_scoring", "lead", 9240, 90, "snapshots", datetime(2025, 6, 30))
    reason = family("lead_scoring").family.gate.check(ids, labels, context).reason
    assert reason == (
        "not enough history: 0 entities < 1000, 0 positive < 120, 0 negative < 120 — 0 of "
        "9,240 leads have a settled label: labels need 90 days after a snapshot and the data "
        "ends 2025-06-30; set labels.lead_scoring.horizon_days, mode, or as_of"
    )
    deals = GateContext("deal_scoring", "opportunity", 0, 180, "snapshots", datetime(2025, 6, 30))
    assert (
        Gate(400, 200, 200)
        .check(ids, labels, deals)
        .reason.endswith("— the source has no opportunities")
    )


def test_a_source_with_nothing_to_forecast_says_so_and_succeeds(won_list: Path, tmp_path: Path):
    from dagster import materialize

    from pipelines.forecast import build_forecast_assets
    from pipelines.resources import CrmlensResource

    path = tmp_path / "w.duckdb"
    path.write_bytes(won_list.read_bytes())
    resource = CrmlensResource(home=str(tmp_path / "home"), warehouse_path=str(path))
    result = materialize(build_forecast_assets(), resources={"crmlens": resource})
    assert result.success
    (note,) = [
        e.materialization.metadata["note"].value
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key.to_user_string() == "ml/revenue_forecast"
    ]
    assert note == "nothing to forecast: the source has no won deals, subscriptions or invoices"


# --- one undated customer table ------------------------------------------------------------


def test_an_undated_customer_table_trains_one_row_per_customer(tmp_path: Path):
    warehouse = _load(undated_snapshot(tmp_path / "export"), tmp_path / "warehouse.duckdb")
    run_dbt(warehouse, STAGING)
    con = connect(warehouse)
    today = data_today(con)
    label = read_labels(con)["churn"]
    snapshots = account.training_snapshots(con, today)
    features = account.build(con, snapshots)
    churned = con.sql(
        "select account_id, (status = 'cancelled')::int as churned from staging.stg_crm__subscriptions"
    ).pl()
    customers = population(con, "churn")
    con.close()
    frame = features.frame
    assert today == datetime(2025, 6, 30) and label.one_outcome_per_row
    # every customer once, all at one moment: the midnight before the first churn
    assert frame.height == customers == 800
    assert frame["as_of"].unique().to_list() == [datetime(2025, 6, 15)]
    assert frame.join(churned, on="account_id").select((pl.col("label") == pl.col("churned")).all()).item()  # fmt: skip
    # nobody's features show the outcome: each was still a paying customer then
    assert (frame["active_subscriptions"] == 1).all() and (frame["mrr"] > 0).all()
    assert "account_type" not in features.feature_columns
    spec = family("churn").configured(label)
    outcome = train(spec.family, features, frame["label"].to_numpy(), frame["as_of"].to_numpy())
    assert outcome.trained and outcome.split.kind == "random"
    assert outcome.test_metric("logistic_regression", "roc_auc") > 0.65


# --- one outcome per row, rule by rule ------------------------------------------------------


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def handmade(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = empty_warehouse(tmp_path_factory.mktemp("handmade") / "warehouse.duckdb")
    leads = [
        ("A", "converted", "2025-01-01", "2025-02-01", None),  # converted -> 1
        ("B", "converted", "2025-03-01", None, None),  # status only -> 1
        ("C", "disqualified", "2025-01-01", None, "2025-02-15"),  # -> 0
        ("D", "working", "2025-01-01", None, None),  # open past its horizon -> 0
        ("E", "working", "2025-06-01", None, None),  # open, young: not settled
        ("F", "converted", "2025-06-15", "2025-08-01", None),  # converts after today
        ("G", "new", "2025-07-05", None, None),  # created after today
        ("H", "qualified", "2025-02-01", None, None),  # converted only if the spec says so
    ]
    seed_raw(
        path,
        "leads",
        [
            {"lead_id": i, "status": s, "created_at": _ts(c), "updated_at": _ts(c),
             "converted_at": v and _ts(v), "disqualified_at": d and _ts(d)}
            for i, s, c, v, d in leads
        ],
    )  # fmt: skip
    deals = [
        ("O1", True, "2025-01-01", "2025-03-01"),
        ("O2", False, "2025-01-15", "2025-04-01"),
        ("O3", None, "2025-02-01", None),  # open
        ("O4", True, "2025-05-01", "2025-08-01"),  # closed after today
        ("O5", True, "2025-03-01", None),  # won, no close date
    ]
    seed_raw(
        path,
        "opportunities",
        [
            {"opportunity_id": i, "is_won": w, "created_at": _ts(c), "updated_at": _ts(c),
             "closed_at": x and _ts(x), "account_id": "acc", "stage": "prospecting"}
            for i, w, c, x in deals
        ],
    )  # fmt: skip
    subscriptions = [
        ("A1", "A", "2023-01-01", None, "active"),
        ("B1", "B", "2023-01-01", "2025-05-10 09:30", "cancelled"),  # the first end
        ("C1", "C", "2025-06-01", None, "active"),  # joined after the first end
        ("D1", "D", "2024-01-01", None, "cancelled"),  # cancelled, no end date
        ("E1", "E", "2024-06-20", "2025-06-20", "expired"),  # renewed
        ("E2", "E", "2025-06-20", None, "active"),
    ]
    seed_raw(
        path,
        "accounts",
        [{"account_id": a, "name": a, "created_at": _ts("2023-01-01"), "updated_at": _ts("2023-01-01")} for a in "ABCDE"],
    )  # fmt: skip
    seed_raw(
        path,
        "subscriptions",
        [
            {"subscription_id": i, "account_id": a, "started_at": _ts(s),
             "ended_at": e and _ts(e), "status": st, "mrr": 10.0}
            for i, a, s, e, st in subscriptions
        ],
    )  # fmt: skip
    run_dbt(path, STAGING)
    return path


def _rows(frame: pl.DataFrame, key: str) -> dict[str, tuple]:
    return {r[key]: r for r in frame.iter_rows(named=True)}


def test_one_outcome_per_lead_is_its_final_outcome_once_settled(handmade: Path):
    con = connect(handmade)
    one = label_config("lead_scoring", {"mode": "one_outcome_per_row"})
    own = label_config("lead_scoring", {"mode": "one_outcome_per_row", "converted": ["converted", "qualified"]})  # fmt: skip
    rows = _rows(lead.training_snapshots(con, TODAY, label=one), "lead_id")
    qualified = _rows(lead.training_snapshots(con, TODAY, label=own), "lead_id")
    con.close()
    assert {k: r["label"] for k, r in rows.items()} == {"A": 1, "B": 1, "C": 0, "D": 0, "H": 0}
    assert qualified["H"]["label"] == 1
    assert all(r["as_of"] < TODAY and r["snapshot_age_days"] == 0 for r in rows.values())
    assert rows["A"]["as_of"] == _ts("2025-01-01")  # at its creation
    assert rows["A"]["label_known_at"] == _ts("2025-02-01")  # settled when it converted
    assert rows["B"]["label_known_at"] == _ts("2025-05-30")  # a status: by the horizon
    assert rows["D"]["label_known_at"] == _ts("2025-04-01")  # open for 90 days: a no


def test_a_status_the_spec_counts_converts_a_snapshot_when_last_updated(handmade: Path):
    con = connect(handmade)
    own = label_config("lead_scoring", {"converted": ["converted", "qualified"]})
    counted = lead.training_snapshots(con, TODAY, label=own).filter(pl.col("lead_id") == "H")
    default = lead.training_snapshots(con, TODAY).filter(pl.col("lead_id") == "H")
    con.close()
    # H is qualified, no date, last updated when created: converted then, by the spec
    assert counted.select("snapshot_age_days", "label").rows() == [(0, 1)]
    assert default["label"].sum() == 0 and default["snapshot_age_days"].to_list() == [0, 3, 7, 14, 30, 60]  # fmt: skip


def test_one_outcome_per_deal_is_won_or_lost_by_the_data_today(handmade: Path):
    con = connect(handmade)
    one = label_config("deal_scoring", {"mode": "one_outcome_per_row"})
    rows = _rows(opportunity.training_snapshots(con, TODAY, label=one), "opportunity_id")
    con.close()
    assert {k: r["label"] for k, r in rows.items()} == {"O1": 1, "O2": 0, "O5": 1}
    assert rows["O1"]["as_of"] == _ts("2025-01-01") and rows["O5"]["label_known_at"] == TODAY


def test_one_outcome_per_customer_at_the_moment_before_the_first_end(handmade: Path):
    con = connect(handmade)
    one = label_config("churn", {"mode": "one_outcome_per_row"})
    snapshots = account.training_snapshots(con, TODAY, label=one)
    con.close()
    assert snapshots["as_of"].unique().to_list() == [_ts("2025-05-10")]
    assert dict(snapshots.select("account_id", "label").iter_rows()) == {
        "A": 0, "B": 1, "D": 1, "E": 0
    }  # fmt: skip


def test_the_snapshot_mode_default_is_unchanged_without_labels(handmade: Path):
    """No labels in the spec: the builders' own horizons, dated snapshots."""
    con = connect(handmade)
    assert {c.mode for c in read_labels(con).values()} == {"snapshots"}
    defaults = lead.training_snapshots(con, TODAY)
    explicit = lead.training_snapshots(con, TODAY, horizon_days=90, label=label_config("lead_scoring"))  # fmt: skip
    con.close()
    assert defaults.equals(explicit) and defaults["snapshot_age_days"].max() > 0


# --- the forecast from invoices alone ---------------------------------------------------------


def test_an_invoices_only_source_forecasts_its_revenue(tmp_path: Path):
    root = tmp_path / "export"
    root.mkdir()
    months = [date(2021 + m // 12, m % 12 + 1, 1) for m in range(48)]
    rows = [f"{d},{1000 + 40 * i + (300 if d.month == 12 else 0)}" for i, d in enumerate(months)]
    (root / "revenue.csv").write_text("month,amount\n" + "\n".join(rows) + "\n")
    spec = root / "spec.yml"
    spec.write_text(
        textwrap.dedent(
            """
            name: billing_only
            as_of: 2025-01-01
            files:
              revenue: {path: revenue.csv}
            tables:
              invoices:
                select: |
                  select 'INV' || month as invoice_id, 'market' as account_id,
                         amount::double as amount, month::timestamp as issued_at,
                         _source_file, _source_row
                  from revenue
            """
        )
    )
    warehouse = _load(spec, tmp_path / "warehouse.duckdb")
    run_dbt(warehouse, ["run"])
    con = connect(warehouse)
    today = data_today(con)
    series = build_series(con, today)
    assert today == datetime(2025, 1, 1)
    # one series: revenue, monthly (recorded once a month), the total (no regions)
    assert series.keys() == [("revenue", "month", "total", "all")]
    assert series.frame.height == 48 and check_against_marts(con, series) == {"revenue": True}
    assert what_was_forecast(series) == "forecast: revenue (invoices)"
    publication = assemble.run(con, today, run_id="r", n_jobs=1)
    con.close()
    first = publication.forecast.filter(pl.col("horizon") == 1)
    assert first["period"].to_list() == [date(2025, 1, 1)] and first["point"][0] > 2000


# --- the shipped real-data specs --------------------------------------------------------------

real = pytest.mark.skipif(not REAL_DATA.exists(), reason=f"real datasets not found at {REAL_DATA}")


def _print(title: str, outcome) -> None:
    print(f"\n{title}: {outcome.params['split']} split, {outcome.params['test_rows']} test rows")
    for model, sets in outcome.metrics.items():
        test = sets["test"]
        print(f"  {model:20s} AUC {test['roc_auc']:.4f}  PR AUC {test['pr_auc']:.4f}  Brier {test['brier']:.4f}")  # fmt: skip


@real
def test_bank_marketing_trains_one_row_per_call_with_its_outcome(tmp_path: Path):
    warehouse = _load(
        shipped_spec("bank_marketing"), tmp_path / "w.duckdb", REAL_DATA / "bank_marketing"
    )
    run_dbt(warehouse, FEATURE_INPUTS)
    con = connect(warehouse)
    label = read_labels(con)["lead_scoring"]
    snapshots = lead.training_snapshots(con, data_today(con))
    features = lead.build(con, snapshots)
    invented = con.execute(
        "select count(converted_at) + count(disqualified_at) from staging.stg_crm__leads"
    ).fetchone()[0]
    con.close()
    frame = features.frame
    assert label.one_outcome_per_row and invented == 0  # no outcome date made up
    assert frame.height == frame["lead_id"].n_unique() == 45211  # one row per call
    assert round(frame["label"].mean(), 4) == 0.1170  # the published 11.70 % yes
    spec = family("lead_scoring").configured(label)
    outcome = train(spec.family, features, frame["label"].to_numpy(), frame["as_of"].to_numpy())
    _print("lead scoring, bank marketing (one outcome per call)", outcome)
    assert outcome.trained and outcome.split.kind == "time"
    assert outcome.test_metric("logistic_regression", "roc_auc") > 0.55


@real
def test_telco_trains_one_row_per_customer_as_of_its_export(tmp_path: Path):
    warehouse = _load(
        shipped_spec("telco_churn"), tmp_path / "w.duckdb", REAL_DATA / "telco_customer_churn"
    )
    run_dbt(warehouse, STAGING)
    con = connect(warehouse)
    label = read_labels(con)["churn"]
    recorded = json.loads(con.execute("select labels from ops.source_settings").fetchone()[0])
    features = account.build(con, account.training_snapshots(con, data_today(con)))
    con.close()
    frame = features.frame
    assert recorded == {"churn": {"mode": "one_outcome_per_row"}} and label.one_outcome_per_row
    # every customer but the 11 who joined in the last month, at one moment
    assert frame.height == 7043 - 11 and frame["as_of"].n_unique() == 1
    spec = family("churn").configured(label)
    outcome = train(spec.family, features, frame["label"].to_numpy(), frame["as_of"].to_numpy())
    _print("churn, telco (one outcome per customer)", outcome)
    assert outcome.split.kind == "random"
    assert outcome.test_metric("logistic_regression", "roc_auc") >= 0.84  # anchor: 0.858


@real
def test_us_retail_sales_forecasts_as_monthly_revenue(tmp_path: Path):
    warehouse = _load(
        shipped_spec("us_retail_sales"), tmp_path / "w.duckdb", REAL_DATA / "us_retail_sales"
    )
    run_dbt(warehouse, ["run"])
    con = connect(warehouse)
    today = data_today(con)
    publication = assemble.run(con, today, run_id="r", n_jobs=1)
    con.close()
    assert today == datetime(2016, 6, 1)
    assert publication.series.keys() == [("revenue", "month", "total", "all")]
    assert publication.series.frame.height == 293
    result = publication.results[0]
    print(f"\nretail: {result.method}, MASE by horizon {result.selection.mase_by_horizon(result.method)}")  # fmt: skip
    assert publication.forecast["period"].min() == date(2016, 6, 1)
