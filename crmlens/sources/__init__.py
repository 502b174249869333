"""Where CRM data comes from: source specs over export files, and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from crmlens.settings import Settings
from crmlens.sources.spec import SourceSpec, SpecError, load_spec

SPECS_DIR = Path(__file__).resolve().parent.parent / "specs"


def shipped_spec(name: str) -> Path:
    """Path of a spec that ships with crmlens (synthetic, bank_marketing, telco_churn, ...)."""
    path = SPECS_DIR / f"{name}.yml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in SPECS_DIR.glob("*.yml")))
        raise SpecError(f"no shipped spec named {name!r} (shipped: {known})")
    return path


def write_synthetic_spec(out_dir: Path, events_format: str = "parquet") -> Path:
    """Put the synthetic CRM's spec next to its files, as ``source_spec.yml``.

    Args:
        out_dir: the synthetic CRM's folder.
        events_format: ``parquet`` or ``jsonl``, as the day files were written.

    Returns:
        The spec's path.
    """
    text = shipped_spec("synthetic").read_text()
    if events_format != "parquet":
        text = text.replace("events/{day}.parquet", f"events/{{day}}.{events_format}")
    path = Path(out_dir) / "source_spec.yml"
    path.write_text(text)
    return path


def load_source(settings: Settings) -> SourceSpec:
    """The spec the settings point at, with its DSN filled from settings for postgres specs."""
    spec = load_spec(settings.source_spec, settings.source_root)
    if spec.kind == "postgres" and not spec.dsn and settings.source_postgres_dsn:
        spec.dsn = settings.source_postgres_dsn
    if spec.kind == "postgres" and spec.dsn and "${" in spec.dsn:
        spec.dsn = settings.source_postgres_dsn
    return spec


__all__ = [
    "SPECS_DIR",
    "SourceSpec",
    "SpecError",
    "load_source",
    "load_spec",
    "shipped_spec",
    "write_synthetic_spec",
]
