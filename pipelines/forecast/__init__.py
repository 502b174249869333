"""Revenue forecasting in Dagster: the `forecast` group (its job and schedule: pipelines.jobs)."""

from pipelines.forecast.assets import build_forecast_assets

__all__ = ["build_forecast_assets"]
