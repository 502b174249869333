"""Where the dbt project, its profile and its artifacts are, and how dbt is run.

The manifest dagster-dbt builds assets from is a generated artifact under the
settings' ``dbt_target_dir`` (not in git). :func:`ensure_manifest` parses the
project when the manifest is missing or older than a project file, in process
(dbtRunner, ~1 s after the first call) rather than through a subprocess.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from crmlens.settings import Settings


def dbt_executable() -> str:
    """The venv's dbt, so it runs without the venv being activated (STACK_NOTES)."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def dbt_env(settings: Settings) -> dict[str, str]:
    """Environment dbt reads its profile from: absolute paths, telemetry off."""
    return {
        "CRMLENS_WAREHOUSE_PATH": str(Path(settings.warehouse_path).resolve()),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


@contextlib.contextmanager
def scoped_env(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a block, then restore them.

    dbt reads its profile (the warehouse path) from the environment; a process that runs
    dbt for several warehouses (tests, a long-lived code server) must not keep the last
    one's path in ``os.environ``, where the settings would pick it up later.
    """
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def manifest_path(settings: Settings) -> Path:
    return Path(settings.dbt_target_dir).resolve() / "manifest.json"


def _newest_project_file(project_dir: Path) -> float:
    newest = 0.0
    for folder in ("models", "macros", "tests", "seeds"):
        for path in (project_dir / folder).rglob("*"):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    for name in ("dbt_project.yml", "profiles.yml"):
        newest = max(newest, (project_dir / name).stat().st_mtime)
    return newest


def ensure_manifest(settings: Settings) -> Path:
    """Parse the dbt project if its manifest is missing or stale; return the manifest path."""
    project_dir = Path(settings.dbt_project_dir)
    manifest = manifest_path(settings)
    if manifest.exists() and manifest.stat().st_mtime >= _newest_project_file(project_dir):
        return manifest
    from dbt.cli.main import dbtRunner

    with scoped_env(dbt_env(settings)):
        result = dbtRunner().invoke(
            [
                "parse",
                "--project-dir",
                str(project_dir),
                "--profiles-dir",
                str(project_dir),
                "--target-path",
                str(manifest.parent),
                "--quiet",
            ]
        )
    if not result.success:
        raise RuntimeError(f"dbt parse failed: {result.exception}")
    return manifest
