"""The common currency of the checks: one row per (input row, failure).

Every check (casting, the contract, references, versions) reports its failures
in this shape; quarantine turns them into one row per bad input row.
"""

from __future__ import annotations

import polars as pl

FAILURE_SCHEMA = {
    "_rid": pl.UInt32,
    "column": pl.String,
    "reason_code": pl.String,
    "reason": pl.String,
    "value": pl.String,
}


def no_failures() -> pl.DataFrame:
    """An empty frame of failures (the identity of ``pl.concat``)."""
    return pl.DataFrame(schema=FAILURE_SCHEMA)
