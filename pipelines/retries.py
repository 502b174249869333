"""The retry policy of crmlens: one layer of retries per step, never two.

- Steps that read the outside world (source files, the source database) retry under
  :data:`TRANSIENT`: a file still being uploaded, a connection reset, a database
  restarting is retried with exponential backoff before the run fails.
- Publishing to PostgreSQL retries in :func:`crmlens.publish.postgres.sync`, per table
  and destination (it knows which rows are still to send, and records each attempt in
  ``ops.sync_log``): ``publish_attempts`` connections (4), ``publish_backoff_seconds``
  apart (2 s, doubled after each). Its Dagster step has no policy of its own — a policy
  around that loop multiplied the attempts (4 × 4 = 16).
- Every PostgreSQL session has a deadline (:mod:`crmlens.sources.pg_session`), so a hung
  network becomes a failure these retries see, not a wait without end.
- When the attempts run out the step fails, the jobs' failure hook raises a
  ``pipeline_failure`` alert, and the CRM keeps its previous scores.

Steps that only compute (dbt, training) are not retried: their failures repeat.
"""

from dagster import Backoff, Jitter, RetryPolicy

TRANSIENT = RetryPolicy(
    max_retries=3, delay=2.0, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
)
