"""Revenue forecasting: backtest hygiene, intervals, selection and fallback, reconciliation,
the real retail series, and the history of published forecasts."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from crmlens.warehouse import connect
from models.forecasting import accuracy, backtest, batch, evaluate, methods, reconcile, select
from models.forecasting.series import SeriesKey, load_retail

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
RETAIL = REAL / "us_retail_sales" / "example_retail_sales.csv"


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with methods.single_threaded():
        yield


def seasonal_series(n: int, *, m: int = 12, trend: float = 0.0, noise: float = 2.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100 + trend * t + 10 * np.sin(2 * np.pi * t / m) + rng.normal(0, noise, n)


# --- the backtest never looks past its origin -------------------------------------------


def test_each_fit_receives_exactly_the_periods_before_its_origin():
    y = seasonal_series(40)
    seen: list[np.ndarray] = []

    def spy(history: np.ndarray, h: int) -> methods.Forecast:
        seen.append(history.copy())
        history[:] = -1.0  # a fitter that scribbles on its input cannot reach the series
        return methods.naive(history, h)

    at = backtest.origins(len(y), min_train=20, max_origins=5, step=2)
    records = backtest.run(y, spy, m=12, h=4, at=at)
    assert [len(s) for s in seen] == at
    assert all(np.array_equal(s, y[:o]) for s, o in zip(seen, at, strict=True))
    # Actuals are the series' own values after each origin, untouched by the fitter.
    for o, hzn, actual in records.select("origin", "horizon", "actual").iter_rows():
        assert actual == y[o + hzn - 1]


def test_changing_the_future_does_not_change_a_backtest_forecast():
    y = seasonal_series(48)
    poisoned = y.copy()
    poisoned[36:] *= 50  # everything from the origin on
    fit = select._fitter("ets_additive", 12, seed=0)
    a = backtest.run(y, fit, m=12, h=6, at=[36])
    b = backtest.run(poisoned, fit, m=12, h=6, at=[36])
    assert np.allclose(a["point"], b["point"]) and np.allclose(a["hi95"], b["hi95"])
    assert not np.allclose(a["actual"], b["actual"])


# --- intervals ----------------------------------------------------------------------------


def test_naive_intervals_cover_a_random_walk_at_their_nominal_rate():
    hits80, hits95, total = 0, 0, 0
    for seed in range(3):
        rng = np.random.default_rng(seed)
        y = 100 + np.cumsum(rng.normal(0, 1, 400))
        fit = lambda hist, h: methods.forecast("naive", hist, h, 1, nonnegative=False)  # noqa: E731
        scored = backtest.errors(backtest.run(y, fit, m=1, h=1, at=range(200, 400)))
        hits80 += int(scored["in80"].sum())
        hits95 += int(scored["in95"].sum())
        total += scored.height
    # 600 forecasts: a binomial sd of 1.6 (80 %) and 0.9 (95 %) points.
    assert abs(hits80 / total - 0.80) < 0.05
    assert abs(hits95 / total - 0.95) < 0.03


def test_ets_intervals_on_seasonal_data_with_known_noise_are_close_to_nominal():
    pooled = []
    for seed in range(4):
        y = seasonal_series(96, noise=2.0, seed=seed)
        fit = select._fitter("ets_additive", 12, seed=0)
        pooled.append(backtest.run(y, fit, m=12, h=3, at=range(60, 96, 2)))
    scored = backtest.errors(pl.concat(pooled))
    # Estimated parameters make model intervals a little narrow; they stay near nominal.
    assert 0.68 <= scored["in80"].mean() <= 0.92
    assert 0.87 <= scored["in95"].mean() <= 1.0


def test_calibration_widens_intervals_that_were_too_narrow_in_the_backtest():
    records = pl.DataFrame(
        {
            "actual": [10.0] * 20,
            "point": [0.0] * 20,
            "lo80": [-1.0] * 20,
            "hi80": [5.0] * 20,  # every actual twice as far as the upper bound
            "lo95": [-2.0] * 20,
            "hi95": [8.0] * 20,
        }
    )
    scale80, scale95 = select.interval_scale(records)
    assert scale80 == pytest.approx(2.0) and scale95 == pytest.approx(1.25)
    wide = methods.Forecast(*(np.array([x]) for x in (0.0, -1.0, 5.0, -2.0, 8.0))).widened(
        scale80, scale95
    )
    assert wide.hi80[0] == pytest.approx(10.0) and wide.lo80[0] == pytest.approx(-2.0)
    assert select.interval_scale(records.head(5)) == (1.0, 1.0)  # too few to judge


# --- selection and fallback -----------------------------------------------------------


def test_selection_prefers_a_model_over_seasonal_naive_on_a_trending_seasonal_series():
    y = seasonal_series(60, trend=2.0, noise=2.0, seed=3)
    result = evaluate.holdout(y, "month", holdout=12, h=3)
    assert result["fallback_reason"] is None and result["seasonal_period"] == 12
    assert result["method"] not in methods.BASELINES
    assert result["chosen"]["mase"] < 0.8 * result["seasonal_naive"]["mase"]


def test_a_short_series_falls_back_to_a_simple_method_and_says_so():
    short = np.array([5.0, 7, 9, 6, 8, 10, 7, 9, 11, 8])
    chosen = select.select(short, "month")
    assert chosen.method == "seasonal_naive" and chosen.seasonal_period == 3
    assert chosen.fallback_reason.startswith("short series: 10 months")
    assert chosen.ranking == ["seasonal_naive"]
    used, fc = select.forecast(short, chosen, 9)
    assert used == "seasonal_naive"
    assert np.allclose(fc.point[:3], short[-3:])
    assert np.all(fc.lo95 <= fc.lo80) and np.all(fc.hi80 <= fc.hi95)

    for tiny in (np.array([4.0, 5.0, 6.0, 5.0]), np.array([7.0])):
        result = batch.run_one(SeriesKey("bookings", "month", "total", "all"), [], tiny)
        assert result.method == "naive" and result.selection.fallback_reason
        assert np.all(result.forecast.point == tiny[-1]) and len(result.forecast.point) == 9


def test_methods_that_cannot_fit_are_left_out_with_a_reason():
    y = np.r_[np.zeros(6), seasonal_series(30, m=3)]
    chosen = select.select(y, "month")
    assert "ets_multiplicative" in chosen.failed
    assert "positive" in chosen.failed["ets_multiplicative"]
    assert chosen.method in methods.ALL


def test_a_weekly_series_uses_the_quarter_as_its_season():
    assert select.seasonal_period("week", 104) == 13
    assert select.seasonal_period("month", 24) == 3
    assert select.seasonal_period("month", 36) == 12


def test_parallel_and_in_process_runs_agree():
    key = SeriesKey("bookings", "month", "total", "all")
    items = [(key, [], seasonal_series(30, m=3, seed=s)) for s in range(3)]
    one = batch.run_many(items, n_jobs=1)
    two = batch.run_many(items, n_jobs=2)
    for a, b in zip(one, two, strict=True):
        assert a.method == b.method
        assert np.allclose(a.forecast.point, b.forecast.point)


# --- reconciliation -------------------------------------------------------------------


def test_the_gap_is_shared_by_forecast_variance_and_no_segment_goes_negative():
    assert reconcile.to_total(100.0, np.array([30.0, 50.0]), np.array([1.0, 3.0])) == (
        pytest.approx([35.0, 65.0])
    )
    out = reconcile.to_total(10.0, np.array([2.0, 30.0, 8.0]), np.array([4.0, 1.0, 1.0]))
    assert out.sum() == pytest.approx(10.0) and np.all(out >= 0) and out[0] == 0.0
    assert reconcile.to_total(6.0, np.zeros(3), np.zeros(3)) == pytest.approx([2.0, 2.0, 2.0])


def test_reconciled_segments_add_up_to_the_total_and_keep_their_interval_widths():
    rows = []
    for period in (date(2026, 11, 1), date(2026, 12, 1)):
        for segment_type, segment, point, sd in (
            ("total", "all", 100.0, 5.0),
            ("region", "EMEA", 70.0, 10.0),
            ("region", "NA", 45.0, 5.0),
            ("product_line", "A", 20.0, 2.0),
            ("product_line", "B", 60.0, 8.0),
        ):
            rows.append(
                {
                    "metric": "bookings",
                    "grain": "month",
                    "segment_type": segment_type,
                    "segment": segment,
                    "period": period,
                    "point": point,
                    "lo80": point - 1.28 * sd,
                    "hi80": point + 1.28 * sd,
                    "lo95": point - 1.96 * sd,
                    "hi95": point + 1.96 * sd,
                }
            )
    out = reconcile.reconcile(pl.DataFrame(rows))
    assert reconcile.check_additive(out).is_empty()
    emea = out.filter((pl.col("segment") == "EMEA") & (pl.col("period") == date(2026, 11, 1)))
    # Gap −15 shared 100:25 by variance: EMEA takes 12, NA 3.
    assert emea["point"][0] == pytest.approx(58.0) and emea["base_point"][0] == 70.0
    assert (emea["hi95"] - emea["lo95"])[0] == pytest.approx(2 * 1.96 * 10.0)
    total = out.filter(pl.col("segment") == "all")
    assert total["point"].to_list() == [100.0, 100.0]


# --- real data: US retail sales -------------------------------------------------------


@pytest.mark.skipif(not RETAIL.exists(), reason=f"{RETAIL} is absent")
def test_retail_sales_beats_seasonal_naive_under_the_readme_protocol():
    series = load_retail(RETAIL)
    _, y = series.values(series.keys()[0])
    assert len(y) == 293 and series.current["month"] == date(2016, 6, 1)
    result = evaluate.holdout(y, "month", holdout=24, h=1)
    # The README's figure: seasonal naive, one step ahead over the last 24 months.
    assert result["seasonal_naive"]["smape"] == pytest.approx(3.1, abs=0.05)
    assert result["chosen"]["smape"] < 0.6 * result["seasonal_naive"]["smape"]
    assert result["chosen"]["mase"] < result["seasonal_naive"]["mase"]
    assert result["chosen_calibrated"]["coverage80"] >= 0.7
    assert result["chosen_calibrated"]["coverage95"] >= 0.9


# --- history and accuracy -------------------------------------------------------------


def _history_rows(run_id: str, point: float) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "run_id": [run_id] * 2,
            "published_at": [datetime(2026, 9, 2, 6)] * 2,
            "forecast_origin": [datetime(2026, 9, 1)] * 2,
            "metric": ["bookings"] * 2,
            "grain": ["month"] * 2,
            "segment_type": ["total"] * 2,
            "segment": ["all"] * 2,
            "period": [date(2026, 9, 1), date(2026, 10, 1)],
            "horizon": [1, 2],
            "method": ["ets_additive"] * 2,
            "is_published": [True] * 2,
            "point": [point, point],
            "lo80": [point - 10] * 2,
            "hi80": [point + 10] * 2,
            "lo95": [point - 20] * 2,
            "hi95": [point + 20] * 2,
        }
    )


def test_a_rerun_replaces_its_own_history_rows_and_keeps_the_others(tmp_path: Path):
    con = connect(tmp_path / "w.duckdb")
    accuracy.append_history(con, _history_rows("run-a", 100.0))
    accuracy.append_history(con, _history_rows("run-b", 100.0))
    assert accuracy.append_history(con, _history_rows("run-a", 120.0)) == 4
    history = accuracy.read_history(con)
    by_run = dict(history.group_by("run_id").agg(pl.col("point").max()).iter_rows())
    assert by_run == {"run-a": 120.0, "run-b": 100.0}
    con.close()


def test_forecasts_are_scored_once_their_period_is_complete():
    history = _history_rows("run-a", 100.0)
    actual = pl.DataFrame(
        {
            "metric": ["bookings"],
            "grain": ["month"],
            "segment_type": ["total"],
            "segment": ["all"],
            "period": [date(2026, 9, 1)],  # October is not complete yet
            "actual": [115.0],
        }
    )
    scored = accuracy.forecast_vs_actual(history, actual)
    assert scored.height == 1
    row = scored.row(0, named=True)
    assert row["error"] == 15.0 and row["abs_pct_error"] == pytest.approx(100 * 15 / 115)
    assert row["within95"] and not row["within80"]
    summary = accuracy.summary(scored)
    assert summary.select("method", "horizon", "coverage80").row(0) == ("ets_additive", 1, 0.0)


# ------------------------------------------------------------------ grains and bad series


def test_a_daily_series_is_forecast_with_its_weekly_season():
    rng = np.random.default_rng(3)
    days = 7 * 40
    week = np.tile([120.0, 135.0, 140.0, 138.0, 150.0, 60.0, 40.0], days // 7)
    y = week * (1 + 0.002 * np.arange(days)) + rng.normal(0, 5, days)
    chosen = select.select(y, "day")
    assert chosen.seasonal_period == 7 and chosen.fallback_reason is None
    scored = evaluate.holdout(y, "day", holdout=28, h=7)
    chosen_mase, naive_mase = scored["chosen"]["mase"], scored["seasonal_naive"]["mase"]
    print(f"daily: {scored['method']} MASE {chosen_mase:.3f}, seasonal naive {naive_mase:.3f}")
    assert chosen_mase <= naive_mase * 1.05


def test_a_quarterly_series_has_a_yearly_season():
    y = np.tile([100.0, 120.0, 90.0, 160.0], 6) + np.arange(24)
    chosen = select.select(y, "quarter")
    assert chosen.seasonal_period == 4 and chosen.fallback_reason is None


def test_a_series_with_gaps_says_so_in_one_line():
    y = np.arange(40, dtype=float)
    y[[5, 9, 30]] = np.nan
    with pytest.raises(methods.ForecastError) as caught:
        select.select(y, "month")
    message = str(caught.value)
    assert "3 missing values (NaN), the first at month 6 of 40" in message
    assert "\n" not in message
    with pytest.raises(methods.ForecastError, match="unknown grain 'fortnight'"):
        select.select(np.arange(40.0), "fortnight")
