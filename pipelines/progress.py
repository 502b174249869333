"""One line per finished asset on the terminal, while Dagster and dbt logs go to a file.

`make demo` shows progress without a wall of dbt output: this logger reacts to the
structured events of a run (asset materialized, step failed) and writes short lines
to the real terminal.
"""

from __future__ import annotations

import logging
import sys
import time

from dagster import logger


class _ProgressHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.started = time.perf_counter()

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_meta", {}).get("dagster_event")
        if event is None:
            return
        out = sys.__stdout__
        elapsed = time.perf_counter() - self.started
        if event.event_type_value == "ASSET_MATERIALIZATION":
            key = event.asset_key.to_user_string() if event.asset_key else "?"
            partition = event.partition
            if partition and not partition.endswith(("-01",)):
                return  # a backfill reports every day; one line per month is enough
            suffix = f" [{partition[:7]}]" if partition else ""
            out.write(f"  {elapsed:6.0f} s  ✓ {key}{suffix}\n")
        elif event.event_type_value == "STEP_FAILURE":
            out.write(f"  {elapsed:6.0f} s  ✗ {event.step_key} failed\n")
        out.flush()


@logger(description="Prints one line per materialized asset to the terminal.")
def progress_logger(init_context) -> logging.Logger:
    log = logging.Logger("crmlens.progress", level=logging.DEBUG)
    log.addHandler(_ProgressHandler())
    return log
