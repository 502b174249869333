"""Partitions shared across domains: behavioural events are loaded a day at a time.

The daily partitions start on the first day the source has event files for (or
``CRMLENS_EVENTS_START_DATE``), so events from 2014 or from last month are both inside
them, and end yesterday (UTC). A source without event files still has them: its runs
cover the last partition, whose event load is empty.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from datetime import date, timedelta

from dagster import BetaWarning, DailyPartitionsDefinition

from crmlens.clock import utc_now
from crmlens.settings import Settings
from crmlens.sources import SpecError, load_source

# The partitions' first day when neither the settings nor the source's files say.
DEFAULT_START = date(2024, 11, 1)


class OutsidePartitions(ValueError):
    """Days asked for lie outside the daily partitions (a usage error, not a failure)."""


@contextlib.contextmanager
def single_run_backfills() -> Iterator[None]:
    """Building assets with ``BackfillPolicy.single_run()``: a day range as one run is what
    we want (it is marked beta in Dagster 1.13; the warning is noise on every start)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)
        yield


def last_partition() -> date:
    """Yesterday (UTC): the newest day the partitions hold."""
    return utc_now().date() - timedelta(days=1)


def source_event_days(settings: Settings) -> list[date]:
    """The days the source has event files for (none for a spec without day files)."""
    try:
        spec = load_source(settings)
    except (SpecError, OSError):  # the command that reads the spec says what is wrong
        return []
    if not spec.provides("events") or spec.partition_alias("events") is None:
        return []
    return spec.available_days("events")


def partitions_start(settings: Settings) -> date:
    """The first day of the partitions: the setting, else the source's first event day."""
    if settings.events_start_date:
        return date.fromisoformat(settings.events_start_date)
    days = source_event_days(settings)
    return min(days[0] if days else DEFAULT_START, last_partition())


def events_partitions(start: date) -> DailyPartitionsDefinition:
    """Daily partitions from ``start`` up to yesterday (UTC)."""
    return DailyPartitionsDefinition(start_date=start.isoformat())


def run_window(settings: Settings, days: tuple[date, date] | None) -> tuple[date, date]:
    """The first and last day a run covers.

    Args:
        settings: the source and the partitions' start.
        days: the days asked for (``--days``); default: every day with event files inside
            the partitions, else the last partition alone (a source without events).

    Raises:
        OutsidePartitions: asked-for days outside the partitions, in one line.
    """
    start, end = partitions_start(settings), last_partition()
    if days:
        if days[0] < start or days[1] > end:
            raise OutsidePartitions(
                f"{days[0]}:{days[1]} is outside the event days {start}:{end} (the first event "
                "file's day to yesterday; CRMLENS_EVENTS_START_DATE moves the start)"
            )
        return days
    inside = [d for d in source_event_days(settings) if start <= d <= end]
    return (inside[0], inside[-1]) if inside else (end, end)
