"""Retries for the steps that touch the outside world (source files and databases, the
PostgreSQL publish target): a transient failure — a file still being uploaded, a
connection reset, a database restarting — is retried with exponential backoff before the
run fails. Steps that only compute (dbt, training) are not retried: their failures repeat.
"""

from dagster import Backoff, Jitter, RetryPolicy

TRANSIENT = RetryPolicy(
    max_retries=3, delay=2.0, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
)
