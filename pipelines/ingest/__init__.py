"""Ingest domain: one asset per canonical table, raw.<table>, group `ingest`."""

from pipelines.ingest.assets import build_ingest_assets

__all__ = ["build_ingest_assets"]
