"""A sensor that starts the daily job when new or changed export files land.

It fingerprints the files of the source spec (size and modification time) and
keeps the fingerprints in its cursor. New or changed day files of the events
become one run over the range of those days (a single-run backfill); a changed
CRM export (accounts.csv…) alone becomes a run for the newest day, which reloads
every CRM table. Database sources are read by the schedule instead.
"""

# No `from __future__ import annotations`: Dagster inspects the context annotation at runtime.
import hashlib
import json
from datetime import date
from pathlib import Path

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from crmlens.sources import load_source
from crmlens.sources.spec import SourceSpec, SpecError, day_of_file, glob_files
from pipelines.resources import CrmlensResource


def fingerprint_files(spec: SourceSpec) -> dict[str, str]:
    """File name (:meth:`SourceSpec.file_name`) -> "size:mtime_ns" of every file the spec reads."""
    prints = {}
    root = Path(spec.root or ".")
    for source in spec.files.values():
        for path in glob_files(source.path, root):
            stat = path.stat()
            prints[spec.file_name(path)] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return prints


def plan_runs(spec: SourceSpec, before: dict[str, str], now: dict[str, str]) -> list[RunRequest]:
    """The runs the changed files call for (pure: tested without Dagster)."""
    changed = sorted(p for p, f in now.items() if before.get(p) != f)
    if not changed:
        return []
    changed_days = [d for p in changed if (d := _day(spec, p)) is not None]
    all_days = [d for p in now if (d := _day(spec, p)) is not None]
    days = changed_days or (all_days[-1:] and [max(all_days)])
    if not days:
        return []
    key = hashlib.sha1(json.dumps([(p, now[p]) for p in changed]).encode()).hexdigest()[:16]
    return [
        RunRequest(
            run_key=f"files:{key}",
            tags={
                "dagster/asset_partition_range_start": min(days).isoformat(),
                "dagster/asset_partition_range_end": max(days).isoformat(),
                "crmlens/trigger": f"{len(changed)} changed file(s)",
            },
        )
    ]


def _day(spec: SourceSpec, relative: str) -> date | None:
    """The day a file belongs to, if it is a day file of a partitioned alias."""
    root = Path(spec.root or ".")
    for source in spec.files.values():
        if source.partitioned:
            try:
                return day_of_file(root / relative, source.path, root)
            except SpecError:
                continue
    return None


@sensor(
    job_name="daily",
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    description="Starts the daily job when export files of the source spec are added or change.",
)
def landing_files_sensor(context: SensorEvaluationContext, crmlens: CrmlensResource):
    spec = load_source(crmlens.settings())
    if spec.kind != "files":
        return SkipReason(f"source {spec.name!r} is a database; the schedule reads it")
    now = fingerprint_files(spec)
    before = json.loads(context.cursor) if context.cursor else {}
    runs = plan_runs(spec, before, now)
    return SensorResult(run_requests=runs, cursor=json.dumps(now, sort_keys=True))
