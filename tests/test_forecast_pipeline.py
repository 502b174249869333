"""Forecasting on a warehouse: series from the marts, the pipeline forecast (hand-computed),
slippage, the blend, and the Dagster assets end to end (tables, MLflow, history, accuracy)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from crmlens.warehouse import connect
from models.forecasting import accuracy, assemble, methods, reconcile
from models.forecasting import pipeline as pipe
from models.forecasting.deals import snapshot_deals
from models.forecasting.series import build_series, check_against_marts

TODAY = datetime(2026, 11, 1)
START = datetime(2024, 11, 1)


def _quarter_end(t: datetime) -> datetime:
    q = pipe.quarter_start(t.date())
    nxt = pipe.shift("month", q, 3)
    return datetime(nxt.year, nxt.month, nxt.day)


def make_warehouse(path: Path, seed: int = 0) -> Path:
    """Two years of a small CRM, as the marts the forecasts read: growing deal flow, wins
    pulled to the last days of the quarter, close dates pushed when deals run late."""
    rng = np.random.default_rng(seed)
    users = pl.DataFrame(
        {
            "user_id": ["U1", "U2"],
            "team_name": ["Sales East", "Sales West"],
            "region": ["East", "West"],
        }
    )
    accounts = pl.DataFrame(
        {
            "account_id": [f"A{i:02d}" for i in range(40)],
            "region": ["East" if i % 2 else "West" for i in range(40)],
            "owner_user_id": ["U1" if i % 2 else "U2" for i in range(40)],
        }
    )
    deals, history = [], []
    stages = list(pipe.STAGE_PROBABILITY)
    for month in range(24):
        first = pipe.shift("month", START.date(), month)
        for _ in range(30 + month):
            created = datetime(first.year, first.month, 1) + timedelta(
                days=float(rng.uniform(0, 28))
            )
            account = int(rng.integers(40))
            amount = float(round(rng.lognormal(10, 0.5), -2)) if rng.random() > 0.1 else None
            won = rng.random() < 0.3
            close = created + timedelta(days=float(rng.gamma(3.0, 20.0)))
            end = _quarter_end(close)
            if won and (end - close).days < 30 and rng.random() < 0.5:
                close = end - timedelta(days=float(rng.uniform(1, 10)))
            expected = (created + timedelta(days=45)).date()
            oid = f"O{len(deals):05d}"
            is_open = close >= TODAY
            stage = (
                stages[int(rng.integers(5))]
                if is_open
                else ("closed_won" if won else "closed_lost")
            )
            history.append((oid, created, "prospecting", amount, expected))
            pushed = expected
            if close.date() > expected and datetime.combine(expected, datetime.min.time()) < TODAY:
                pushed = (close + timedelta(days=float(rng.uniform(-5, 5)))).date()
                history.append(
                    (
                        oid,
                        datetime.combine(expected, datetime.min.time()),
                        "prospecting",
                        None,
                        pushed,
                    )
                )
            if not is_open:
                history.append((oid, close, stage, None, close.date()))
            deals.append(
                {
                    "opportunity_id": oid,
                    "account_id": accounts["account_id"][account],
                    "owner_user_id": accounts["owner_user_id"][account],
                    "stage": stage,
                    "is_open": is_open,
                    "is_won": (not is_open) and won,
                    "amount": amount,
                    "product_line": "Core" if rng.random() < 0.7 else "Add-on",
                    "forecast_category": "pipeline" if is_open else "closed",
                    "created_at": created,
                    "closed_at": None if is_open else close,
                    "expected_close_date": pushed,
                }
            )
    opportunities = pl.DataFrame(deals)
    stage_history = pl.DataFrame(
        history,
        schema={
            "opportunity_id": pl.String,
            "changed_at": pl.Datetime("us"),
            "to_stage": pl.String,
            "amount": pl.Float64,
            "expected_close_date": pl.Date,
        },
        orient="row",
    )
    months = [pipe.shift("month", date(2024, 5, 1), i) for i in range(30)]
    mrr = pl.DataFrame(
        [
            (a, m, 1000.0 * (1 + i % 5) * (1.02**k))
            for i, a in enumerate(accounts["account_id"])
            for k, m in enumerate(months)
            if k >= i % 6
        ],
        schema={"account_id": pl.String, "month": pl.Date, "mrr_end": pl.Float64},
        orient="row",
    )
    con = connect(path)
    for schema in ("marts", "staging", "ml"):
        con.execute(f"create schema if not exists {schema}")
    for name, frame in {
        "marts.dim_users": users,
        "marts.dim_accounts": accounts,
        "marts.fct_opportunities": opportunities,
        "marts.fct_mrr_movements": mrr,
        "staging.stg_crm__opportunity_stage_history": stage_history,
    }.items():
        con.register("_f", frame)
        con.execute(f"create table {name} as select * from _f")
        con.unregister("_f")
    con.execute(
        "create table marts.fct_mrr_monthly as "
        "select month, sum(mrr_end) as mrr_end from marts.fct_mrr_movements group by 1"
    )
    con.execute(
        """
        create table marts.fct_revenue_monthly as
        select cast(date_trunc('month', closed_at) as date) as month, sum(amount) as bookings
        from marts.fct_opportunities where is_won group by 1
        """
    )
    con.execute(
        "create table ml.opportunity_scores as select opportunity_id, 0.3 as probability "
        "from marts.fct_opportunities where is_open"
    )
    con.close()
    return path


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_warehouse(tmp_path_factory.mktemp("forecast_crm") / "warehouse.duckdb")


@pytest.fixture(autouse=True)
def _pinned_today(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CRMLENS_AS_OF", TODAY.date().isoformat())


# --- series ---------------------------------------------------------------------------


def test_series_hold_complete_periods_only_and_segments_add_up(crm: Path):
    con = connect(crm, read_only=True)
    series = build_series(con, TODAY)
    frame = series.frame
    assert series.current == {"month": date(2026, 11, 1), "week": date(2026, 10, 26)}
    months = frame.filter(pl.col("grain") == "month")
    assert months["period"].max() == date(2026, 10, 1)
    weeks = frame.filter(pl.col("grain") == "week")
    assert weeks["period"].min() == date(2024, 11, 4)  # the week of Oct 28 started before the data
    assert weeks["period"].max() == date(2026, 10, 19)
    # The current week is not fitted: its actual so far is kept apart.
    assert series.partial.filter(pl.col("grain") == "week")["period"].unique().to_list() == [
        date(2026, 10, 26)
    ]
    sums = frame.group_by("metric", "grain", "segment_type", "period").agg(pl.col("value").sum())
    wide = sums.pivot(on="segment_type", index=["metric", "grain", "period"], values="value")
    for column in ("region", "team"):
        assert ((wide["total"] - wide[column]).abs() < 1e-6).all()
    assert set(frame.filter(pl.col("metric") == "mrr")["segment_type"].unique()) == {
        "total",
        "region",
        "team",
    }
    assert check_against_marts(con, series) == {"bookings": True, "mrr": True}
    con.close()


def test_snapshots_read_the_close_date_the_history_had_then(tmp_path: Path):
    con = connect(tmp_path / "w.duckdb")
    con.execute("create schema marts; create schema staging")
    con.execute(
        """
        create table marts.fct_opportunities as select * from (values
            ('O1', 'closed_won', 500.0, date '2026-05-10', 'X',
             timestamp '2026-01-10', timestamp '2026-05-12', true),
            ('O2', 'closed_lost', 70.0, date '2026-02-01', 'X',
             timestamp '2026-01-20', timestamp '2026-01-25', false)
        ) as t(opportunity_id, stage, amount, expected_close_date, product_line,
               created_at, closed_at, is_won)
        """
    )
    con.execute(
        """
        create table staging.stg_crm__opportunity_stage_history as select * from (values
            ('O1', timestamp '2026-01-10', 'prospecting', 300.0, date '2026-03-01'),
            ('O1', timestamp '2026-02-15', 'proposal', null, date '2026-03-01'),
            ('O1', timestamp '2026-03-02', 'proposal', 500.0, date '2026-05-10'),
            ('O1', timestamp '2026-05-12', 'closed_won', null, date '2026-05-12')
        ) as t(opportunity_id, changed_at, to_stage, amount, expected_close_date)
        """
    )
    snaps = snapshot_deals(con, [date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)])
    con.close()
    assert snaps["opportunity_id"].to_list() == ["O1", "O1", "O1"]  # O2 closed before Feb 1
    assert snaps["stage"].to_list() == ["prospecting", "proposal", "proposal"]
    assert snaps["amount"].to_list() == [300.0, 300.0, 500.0]  # a null amount carries forward
    assert snaps["expected_close_date"].to_list() == [
        date(2026, 3, 1),
        date(2026, 3, 1),  # the push on Mar 2 is not known on Mar 1
        date(2026, 5, 10),
    ]


# --- the pipeline forecast, by hand ---------------------------------------------------


def test_pipeline_forecast_of_hand_made_deals_matches_the_hand_computed_value():
    origin = date(2026, 11, 1)
    deals = pl.DataFrame(
        {
            "opportunity_id": ["A", "B", "C", "D"],
            "stage": ["proposal", "negotiation", "prospecting", "qualification"],
            "amount": [100.0, 200.0, None, 400.0],
            "expected_close_date": [
                date(2026, 11, 20),  # this month
                date(2026, 12, 15),  # next month
                date(2026, 10, 15),  # already past: counts from this month
                date(2027, 3, 20),  # last month of next quarter
            ],
            "product_line": ["X", "X", "X", "Y"],
            "probability": [0.5, 0.25, 0.4, 0.1],
        }
    )
    won = pl.DataFrame(
        {
            "amount": [40.0, 50.0, 60.0, 1000.0],
            "closed_at": [
                datetime(2026, 3, 1),
                datetime(2026, 5, 1),
                datetime(2026, 7, 1),
                datetime(2026, 10, 7),
            ],
            "product_line": ["X", "X", "X", "Y"],
        }
    )
    deals = pipe.impute_amounts(pipe.with_probability(deals, {}), won, origin)
    assert deals["amount_filled"].to_list() == [100.0, 200.0, 50.0, 400.0]  # X's median won
    plan = pipe.QuarterPlan.at(origin)
    assert [pipe.quarter_label(q) for q in plan.quarters] == ["2026-Q4", "2027-Q1", "2027-Q2"]
    assert plan.months[0] == date(2026, 11, 1) and len(plan.months) == 8
    kernel = pipe.Slippage(on_time={0: 0.5, 1: 0.5}, overdue={0: 1.0})
    closed = pipe.closed_between(won, plan.quarters[0], datetime(2026, 11, 1))
    assert closed == 1000.0
    q = pipe.pipeline_quarters(deals, plan, kernel, closed, draws=2000, seed=1)
    # CRM roll-up: stage % × amount (missing amount = 0), in the expected month.
    assert q.weighted_pipeline == pytest.approx([1000 + 0.6 * 100 + 0.8 * 200, 0.2 * 400, 0])
    # Calibrated: A 50 + B 50 + C 20 this quarter; D 40 in March.
    assert q.probability_weighted == pytest.approx([1120.0, 40.0, 0.0])
    # Half of each slips a month: B's second half to January, D's to April.
    assert q.slippage_adjusted == pytest.approx([1000 + 50 + 25 + 20, 25 + 20, 20])
    # The Monte Carlo agrees with the expectation and brackets it.
    assert q.quantiles[0.1][0] <= q.slippage_adjusted[0] <= q.quantiles[0.9][0]
    assert q.quantiles[0.025][0] >= 1000.0  # closed bookings are certain

    stat_point, stat_sd = np.array([1200.0, 300.0, 100.0]), np.array([50.0, 40.0, 30.0])
    weights = {1: (0.25, 5, None), 2: (0.5, 5, None), 3: (0.0, 5, None)}
    mix = pipe.combine(q, stat_point, stat_sd, weights)
    assert mix["blended"] == pytest.approx([0.25 * 1095 + 0.75 * 1200, 0.5 * 45 + 0.5 * 300, 100])
    assert np.all(mix["commit"] <= mix["most_likely"]) and np.all(
        mix["most_likely"] <= mix["best_case"]
    )
    assert mix["best_case"][2] == pytest.approx(100 + methods.Z80 * 30)


def test_slippage_is_learned_from_how_close_dates_moved():
    rows = []
    for i in range(40):
        slipped = i % 2 == 1
        rows.append(
            {
                "snapshot": date(2026, 1, 1),
                "opportunity_id": f"W{i}",
                "stage": "proposal",
                "amount": 10.0,
                "expected_close_date": date(2026, 2, 10),
                "product_line": "X",
                "closed_at": datetime(2026, 3 if slipped else 2, 20),
                "is_won": True,
            }
        )
    for i in range(25):  # lost deals teach the stage win rate, not the kernel
        rows.append({**rows[0], "opportunity_id": f"L{i}", "is_won": False})
    snapshots = pl.DataFrame(rows)
    kernel = pipe.learn_slippage(snapshots, date(2026, 8, 1))
    assert kernel.on_time == {0: 0.5, 1: 0.5} and kernel.wins_on_time == 40
    assert kernel.overdue == {0: 1.0} and "overdue kernel: 0 wins" in kernel.note
    assert pipe.stage_win_rates(snapshots, date(2026, 8, 1))["proposal"] == pytest.approx(40 / 65)
    # Outcomes after the origin, or snapshots within six months of it, are not used.
    assert pipe.learn_slippage(snapshots, date(2026, 6, 1)).wins_on_time == 0
    assert pipe.learn_slippage(snapshots, date(2026, 3, 1)).note


def test_blend_weights_are_inverse_mean_squared_errors():
    errors = pl.DataFrame(
        {
            "horizon": [1, 1, 1, 2, 2],
            "actual": [10.0, 10.0, 10.0, 10.0, 10.0],
            "slippage_adjusted": [11.0, 9.0, 11.0, 0.0, 0.0],  # MSE 1
            "statistical": [12.0, 8.0, 12.0, 10.0, 10.0],  # MSE 4
        }
    )
    weights = pipe.blend_weights(errors)
    assert weights[1] == (pytest.approx(0.8), 3, None)
    assert weights[2][0] == 0.5 and "2 backtest origins" in weights[2][2]
    assert weights[3][1] == 0


# --- publication, history and accuracy ------------------------------------------------


def test_an_earlier_publication_is_scored_against_the_actuals_that_arrived(
    crm: Path, tmp_path: Path
):
    path = tmp_path / "w.duckdb"
    path.write_bytes(crm.read_bytes())
    con = connect(path)
    earlier = datetime(2026, 8, 1)
    pub = assemble.run(
        con, earlier, run_id="aug", n_jobs=1, metrics=("bookings",), grains=("month",),
        segment_types=("total",),
    )  # fmt: skip
    assemble.write(con, pub)
    scored = accuracy.refresh(con, build_series(con, TODAY))
    con.close()
    monthly = scored.filter((pl.col("grain") == "month") & pl.col("is_published"))
    assert monthly["period"].to_list() == [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]
    assert monthly["horizon"].to_list() == [1, 2, 3]
    assert (monthly["error"] - (monthly["actual"] - monthly["point"])).abs().max() < 1e-9
    quarter = scored.filter(pl.col("grain") == "quarter")
    assert set(quarter["method"]) >= {"blended", "weighted_pipeline", "statistical"}
    assert quarter["period"].unique().to_list() == [date(2026, 7, 1)]  # Q3 is complete
    baseline = scored.filter(pl.col("method") == "seasonal_naive")
    assert baseline.height == 3 and not baseline["is_published"].any()


def test_forecast_assets_publish_log_to_mlflow_and_score(
    crm: Path, tmp_path: Path, crmlens_home: Path
):
    import mlflow
    from dagster import materialize

    from pipelines.forecast import build_forecast_assets
    from pipelines.resources import CrmlensResource

    path = tmp_path / "w.duckdb"
    path.write_bytes(crm.read_bytes())
    resource = CrmlensResource(home=str(crmlens_home), warehouse_path=str(path))
    config = {
        "ops": {
            "forecast_publication": {
                "config": {"grains": ["month"], "segment_types": ["total", "region"], "n_jobs": 1}
            }
        }
    }
    runs = []
    for _ in range(2):
        result = materialize(
            build_forecast_assets(), resources={"crmlens": resource}, run_config=config
        )
        assert result.success
        runs.append(result.run_id)
    con = connect(path)
    forecast = con.sql("select * from ml.revenue_forecast").pl()
    pipeline = con.sql("select * from ml.pipeline_forecast").pl()
    backtest = con.sql("select * from ml.forecast_backtest").pl()
    history = con.sql(
        "select run_id, count(*) from ml.revenue_forecast_history group by 1"
    ).fetchall()
    con.close()

    # The score contract: every row says what it is, how sure, and which run made it.
    for column in (
        "period",
        "segment",
        "point",
        "lo80",
        "hi95",
        "method",
        "run_id",
        "mlflow_run_id",
    ):
        assert forecast[column].null_count() == 0, column
    assert forecast["run_id"].unique().to_list() == [runs[-1]]
    monthly = forecast.filter(pl.col("grain") == "month")
    assert reconcile.check_additive(monthly).is_empty()
    assert (monthly["lo95"] <= monthly["lo80"]).all() and (
        monthly["lo80"] <= monthly["point"]
    ).all()
    assert (monthly["point"] <= monthly["hi80"]).all() and (
        monthly["hi80"] <= monthly["hi95"]
    ).all()
    assert monthly.filter(pl.col("horizon") == 1)["period"].unique().to_list() == [
        date(2026, 11, 1)
    ]
    quarters = forecast.filter(pl.col("grain") == "quarter").sort("horizon")
    assert quarters.height == 3
    assert (quarters["commit"] <= quarters["most_likely"]).all()
    assert (quarters["most_likely"] <= quarters["best_case"]).all()
    assert set(pipeline["scenario"]) == set(pipe.SCENARIOS)
    chosen = backtest.filter(pl.col("chosen") & (pl.col("grain") == "month"))
    assert chosen["mase"].drop_nulls().len() > 0 and chosen["coverage80"].null_count() == 0
    assert {r for r, _ in history} == set(runs)  # both publications kept

    mlflow.set_tracking_uri(f"sqlite:///{(crmlens_home / 'mlflow' / 'mlflow.db').resolve()}")
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name("crmlens-forecasting")
    logged = client.get_run(forecast["mlflow_run_id"][0])
    assert logged.info.experiment_id == experiment.experiment_id
    assert int(logged.data.params["series"]) == 9
    assert "median_mase_chosen" in logged.data.metrics
    artifacts = {a.path for a in client.list_artifacts(logged.info.run_id)}
    assert {"backtest.csv", "backtest_total_bookings.png", "chosen_models.csv"} <= artifacts


def test_forecast_asset_graph():
    from dagster import AssetKey, Definitions

    from pipelines.forecast import build_forecast_assets
    from pipelines.resources import CrmlensResource

    defs = Definitions(assets=build_forecast_assets(), resources={"crmlens": CrmlensResource()})
    specs = {s.key.to_user_string(): s for s in defs.resolve_all_asset_specs()}
    assert set(specs) >= {
        "ml/revenue_forecast",
        "ml/pipeline_forecast",
        "ml/forecast_backtest",
        "ml/forecast_accuracy",
    }
    ours = [s for k, s in specs.items() if k.startswith("ml/") and s.group_name == "forecast"]
    assert len(ours) == 4
    deps = {d.asset_key for d in specs["ml/revenue_forecast"].deps}
    assert {
        AssetKey(["marts", "fct_opportunities"]),
        AssetKey(["marts", "fct_revenue_monthly"]),
        AssetKey(["marts", "fct_mrr_monthly"]),
    } <= deps
    assert AssetKey(["ml", "opportunity_scores"]) in {
        d.asset_key for d in specs["ml/pipeline_forecast"].deps
    }
    assert AssetKey(["ml", "revenue_forecast"]) in {
        d.asset_key for d in specs["ml/forecast_accuracy"].deps
    }
