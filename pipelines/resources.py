"""Dagster resources: one object that hands every asset the crmlens settings.

Fields left empty fall back to the ``CRMLENS_*`` environment (read when an asset
runs, not when the code is imported), so the same definitions run the demo, a
schedule, and a test against a warehouse in ``tmp_path``.
"""

from __future__ import annotations

from dagster import ConfigurableResource

from crmlens.settings import Settings, get_settings


class CrmlensResource(ConfigurableResource):
    """Settings for assets; set a field to override the environment."""

    home: str | None = None
    warehouse_path: str | None = None
    source_spec: str | None = None
    source_root: str | None = None
    source_postgres_dsn: str | None = None
    alert_webhook_url: str | None = None

    def settings(self) -> Settings:
        overrides = {k: v for k, v in self.model_dump().items() if v is not None}
        return get_settings(**overrides)
