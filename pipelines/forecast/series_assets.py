"""Assets of the series a source spec defines (group `forecast`), one per series set:

    forecast/series_<name>   the set read from the spec's files, every series (and
                             segment) backtested and forecast, its rows of
                             ml.series_forecast replaced; `publish/series_forecast`
                             publishes them

The same work as ``crmlens forecast --spec`` (:func:`models.forecasting.spec_series.forecast_spec`).
A set is known when the definitions load: a spec that cannot be read then defines none
(ingest reports the spec's problem).
"""

# No `from __future__ import annotations`: Dagster inspects the annotations at runtime.
from dagster import (
    AssetExecutionContext,
    AssetKey,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from crmlens.settings import Settings
from crmlens.warehouse import session
from pipelines.resources import CrmlensResource

GROUP = "forecast"


def series_names(settings: Settings) -> list[str]:
    """The series sets of the settings' source spec (none when it cannot be read)."""
    from crmlens.sources import load_source
    from crmlens.sources.spec import SpecError

    try:
        return list(load_source(settings).series)
    except (SpecError, OSError):
        return []


def series_key(name: str) -> AssetKey:
    return AssetKey(["forecast", f"series_{name}"])


def _build(name: str):
    @asset(
        key=series_key(name),
        group_name=GROUP,
        kinds={"duckdb", "statsmodels"},
        description=f"The spec's series set {name!r}: each series and segment backtested, "
        "forecast with the chosen method, 80/95 % intervals; rows in ml.series_forecast.",
    )
    def _asset(context: AssetExecutionContext, crmlens: CrmlensResource) -> MaterializeResult:
        from crmlens.sources import load_source
        from models.forecasting import spec_series

        settings = crmlens.settings()
        made = spec_series.forecast_spec(load_source(settings), [name], run_id=context.run_id)
        if made.problems:
            raise Failure(made.problems[name], allow_retries=False)
        for note in made.notes:
            context.log.warning(note)
        with session(settings.warehouse_path) as con:
            rows = spec_series.write(con, made.frame, [name])
        chosen = {
            r.key.segment: {
                "method": r.method,
                "backtest_mase": r.selection.mean_score(r.method),
                "seasonal_naive_mase": r.selection.mean_score("seasonal_naive"),
            }
            for r in made.results
        }
        return MaterializeResult(
            metadata={
                "rows": rows,
                "series": len(made.results),
                "chosen": MetadataValue.json(chosen),
            }
        )

    _asset.__name__ = f"forecast_series_{name}"
    return _asset


def build_series_assets(names: list[str]) -> list:
    """One asset per series set (:func:`series_names`)."""
    return [_build(name) for name in names]
