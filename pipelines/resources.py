"""Dagster resources: one object that hands every asset the crmlens settings.

Fields left empty fall back to the ``CRMLENS_*`` environment (read when an asset
runs, not when the code is imported), so the same definitions run the demo, a
schedule, and a test against a warehouse in ``tmp_path``.

Secrets have no field here, on purpose: a resource's values are stored with every run
in Dagster's run storage (the job snapshot) and shown in its UI. The source DSN, the
publish DSN and the alert webhook URL (:data:`crmlens.settings.SECRETS`) are read from
the environment when an asset runs; :func:`pipelines.run.run_job` puts the ones its
settings carry into the environment for the run only.
"""

from __future__ import annotations

from dagster import ConfigurableResource

from crmlens.settings import Settings, get_settings


class CrmlensResource(ConfigurableResource):
    """Paths for assets; set a field to override the environment (never a secret)."""

    home: str | None = None
    warehouse_path: str | None = None
    source_spec: str | None = None
    source_root: str | None = None

    def settings(self) -> Settings:
        """The settings the assets of a run use: these fields, then ``CRMLENS_*``."""
        overrides = {k: v for k, v in self.model_dump().items() if v is not None}
        return get_settings(**overrides)
