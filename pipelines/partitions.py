"""Partitions shared across domains: behavioural events are loaded a day at a time."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

from dagster import BetaWarning, DailyPartitionsDefinition

from crmlens.settings import get_settings


@contextlib.contextmanager
def single_run_backfills() -> Iterator[None]:
    """Building assets with ``BackfillPolicy.single_run()``: a day range as one run is what
    we want (it is marked beta in Dagster 1.13; the warning is noise on every start)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)
        yield


def events_partitions() -> DailyPartitionsDefinition:
    """Daily partitions from CRMLENS_EVENTS_START_DATE up to yesterday (UTC)."""
    return DailyPartitionsDefinition(start_date=get_settings().events_start_date)
