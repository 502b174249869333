"""``ops.source_settings``: the spec's export date and label definitions, in the warehouse.

Every load records them (the same row again changes nothing), so the clock, the feature
builders and the models read them from the warehouse they work on, never from a spec
file that may have changed since (:mod:`crmlens.sources.labels`).
"""

from __future__ import annotations

import json

import duckdb

from crmlens import sql
from crmlens.clock import utc_now
from crmlens.sources.labels import as_of_moment, labels_record
from crmlens.sources.spec import SourceSpec
from crmlens.warehouse import ensure_schemas, transaction


def record(con: duckdb.DuckDBPyConnection, spec: SourceSpec) -> None:
    """Record the spec's ``as_of`` and ``labels`` as the warehouse's source settings.

    Args:
        con: a read-write connection to the warehouse (not inside a transaction).
        spec: the source spec being loaded.
    """
    ensure_schemas(con)
    con.execute(sql.load("crmlens.ingest", "source_settings_table"))
    as_of = as_of_moment(spec.as_of)
    labels = json.dumps(labels_record(spec.labels), sort_keys=True)
    current = con.execute(sql.load("crmlens.ingest", "source_settings_current")).fetchall()
    if current == [(spec.name, as_of, labels)]:
        return  # unchanged: the loads of a source's many tables do not rewrite it
    with transaction(con):
        con.execute(sql.load("crmlens.ingest", "source_settings_clear"))
        con.execute(
            sql.load("crmlens.ingest", "source_settings_insert"),
            {"source": spec.name, "as_of": as_of, "labels": labels, "recorded_at": utc_now()},
        )
