"""The Forecast page's processing: the history shown before the forecast, the quarter's
scenarios with what is already closed, and the published method's backtest."""

from __future__ import annotations

from datetime import date

import polars as pl

_SCENARIOS = {"commit": "commit", "most_likely": "most likely", "best_case": "best case"}
CLOSED = "closed so far"
# The scenarios in words, in the order the chart and the table show them.
SCENARIO_ORDER = [CLOSED, *_SCENARIOS.values()]


def history(actuals: pl.DataFrame, start: date, ahead: pl.DataFrame) -> pl.DataFrame:
    """The actuals from ``start`` up to the first forecast period (excluded).

    Args:
        actuals: :func:`dashboards.queries.forecast.forecast_actuals`.
        start: the first day of the period chosen in the filters.
        ahead: :func:`dashboards.queries.forecast.forecast_series` (not empty).

    Returns:
        The actuals to draw before the forecast.
    """
    return actuals.filter((pl.col("period") >= start) & (pl.col("period") < ahead["period"].min()))


def scenarios(frame: pl.DataFrame) -> pl.DataFrame:
    """Commit / most likely / best case per quarter, plus what is already closed.

    Args:
        frame: :func:`dashboards.queries.forecast.forecast_scenarios`.

    Returns:
        ``quarter``, ``quarter_start``, ``horizon``, ``scenario`` (in words, with "closed
        so far"), ``amount``, ``description``.
    """
    chosen = frame.filter(pl.col("scenario").is_in(list(_SCENARIOS))).with_columns(
        scenario=pl.col("scenario").replace(_SCENARIOS)
    )
    closed = (
        frame.group_by("quarter", "quarter_start", "horizon")
        .agg(amount=pl.col("closed_to_date").max())
        .with_columns(scenario=pl.lit(CLOSED), description=pl.lit("already won in the quarter"))
    )
    columns = ["quarter", "quarter_start", "horizon", "scenario", "amount", "description"]
    return pl.concat([closed.select(columns), chosen.select(columns)]).sort("horizon", "scenario")


def scenario_table(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per quarter: closed so far, commit, most likely, best case.

    Args:
        frame: :func:`scenarios`.

    Returns:
        The scenarios side by side, nearest quarter first.
    """
    wide = frame.pivot(on="scenario", index=["quarter", "horizon"], values="amount")
    order = ["quarter", *SCENARIO_ORDER]
    return wide.sort("horizon").select([c for c in order if c in wide.columns])


def chosen_method(backtest: pl.DataFrame) -> pl.DataFrame:
    """The published method's backtest rows, by horizon.

    Args:
        backtest: :func:`dashboards.queries.forecast.forecast_backtest`.

    Returns:
        The published method's rows, by horizon.
    """
    return backtest.filter(pl.col("chosen")).sort("horizon")


# The methods in a manager's words (the technical name stays in the help text).
PLAIN_METHODS = {
    "naive": "Last value carried forward",
    "seasonal_naive": "Same as last season",
    "ets_damped": "Recent level and trend",
    "ets_additive": "Trend and seasonal pattern",
    "ets_multiplicative": "Trend and proportional seasonal pattern",
    "sarimax": "Seasonal pattern model",
    "theta": "Trend line with seasonal pattern",
}


def plain_method(method: str | None) -> str:
    """A forecasting method in a manager's words ("Trend and seasonal pattern")."""
    if not method:
        return "–"
    return PLAIN_METHODS.get(method, method.replace("_", " ").capitalize())


def accuracy_words(mase: float | None, naive: float | None) -> tuple[str, str]:
    """How much better than simply repeating last season the forecast was in its backtests.

    Args:
        mase: the chosen method's backtest MASE one period ahead.
        naive: seasonal naive's on the same backtests.

    Returns:
        The headline ("32 % better than last season's figure", or "not tested yet") and
        a sentence with the figures behind it.
    """
    if mase is None or naive is None or not naive > 0:
        return "not tested yet", "The series is too short to backtest the forecast."
    gain = 1.0 - mase / naive
    if abs(gain) < 0.005:
        headline = "as good as repeating last season"
    elif gain > 0:
        headline = f"{gain:.0%} better than repeating last season"
    else:
        headline = f"{-gain:.0%} worse than repeating last season"
    detail = (
        "Replayed on past periods one step ahead, its misses averaged "
        f"{mase:.2f} against {naive:.2f} for simply repeating last season's figure "
        "(mean absolute scaled error: the typical miss divided by the typical change "
        "from one season to the next; lower is better)."
    )
    return headline, detail
