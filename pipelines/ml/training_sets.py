"""The stored training sets, and the holdout a challenger was tested on.

Training stores each family's training set in ``features.<entity>_training_set``; the
promotion check and the calibration check read it back here, so that both judge a model
on exactly the rows its training run held out.
"""

from __future__ import annotations

import json
from datetime import datetime

import duckdb
import numpy as np
import polars as pl

from crmlens.settings import Settings
from crmlens.warehouse import session, table_comment
from features.common import FeatureSet
from features.labels import label_config
from models.common.family import GateContext
from models.common.splits import split_by_time
from models.families import FamilySpec


def read_training_set(con: duckdb.DuckDBPyConnection, spec: FamilySpec) -> FeatureSet:
    """The stored training set, with the column roles saved in the table's comment.

    Args:
        con: a connection to the warehouse.
        spec: the model family.

    Returns:
        The features, with their numeric and categorical roles as training used them.
    """
    roles = json.loads(table_comment(con, "features", spec.training_table) or "{}")
    frame = con.sql(f"select * from features.{spec.training_table}").pl()
    return FeatureSet(
        frame,
        spec.family.id_column,
        roles.get("numeric", []),
        roles.get("categorical", []),
        roles.get("time_exempt", []),
    )


def stored_definition(
    con: duckdb.DuckDBPyConnection, spec: FamilySpec
) -> tuple[FamilySpec, GateContext | None]:
    """The family as its stored training set was built: the horizon and label mode saved
    in the table's comment, and what the gate needs to explain itself.

    Args:
        con: a connection to the warehouse.
        spec: the model family.

    Returns:
        The family configured with the set's label definition (the defaults for a set
        stored before definitions were recorded), and the gate's context when recorded.
    """
    roles = json.loads(table_comment(con, "features", spec.training_table) or "{}")
    said = {k: roles[k] for k in ("horizon_days",) if k in roles}
    if "label_mode" in roles:
        said["mode"] = roles["label_mode"]
    label = label_config(spec.name, said)
    configured = spec.configured(label)
    context = None
    if "population" in roles and "today" in roles:
        today = datetime.fromisoformat(roles["today"])
        context = configured.gate_context(label, int(roles["population"]), today)
    return configured, context


def latest_holdout(
    settings: Settings, spec: FamilySpec, model: object | None
) -> tuple[pl.DataFrame, np.ndarray]:
    """The challenger's test rows and labels, recomputed from the stored training set.

    The split is a deterministic function of the stored set (the latest snapshots, or the
    seeded random test rows), so recomputing it gives the rows training held out.

    Args:
        settings: where the warehouse is.
        spec: the model family.
        model: the model to be judged; without one there is nothing to hold out.

    Returns:
        The test rows and their labels (empty when there is no model or no training set).
    """
    with session(settings.warehouse_path) as con:
        frame = read_training_set(con, spec).frame
        spec, _ = stored_definition(con, spec)
    if model is None or frame.is_empty():
        return frame.head(0), np.array([], dtype=int)
    labels = frame["label"].to_numpy()
    known = frame["label_known_at"].to_numpy() if "label_known_at" in frame.columns else None
    split = split_by_time(
        frame["as_of"].to_numpy(),
        labels,
        spec.family.horizon_days,
        label_known_at=known,
        groups=frame[spec.family.id_column].to_numpy()
        if spec.family.one_outcome_per_entity
        else None,
    )
    return frame[split.test], labels[split.test]


def newest_labelled(settings: Settings, spec: FamilySpec) -> tuple[pl.DataFrame, np.ndarray]:
    """The rule path has no holdout of its own: the newest tenth of the labelled snapshots.

    Args:
        settings: where the warehouse is.
        spec: the model family.

    Returns:
        The newest tenth of the training set's rows (by ``as_of``) and their labels.
    """
    with session(settings.warehouse_path) as con:
        frame = read_training_set(con, spec).frame
    if frame.is_empty():
        return frame, np.array([], dtype=int)
    cutoff = frame["as_of"].quantile(0.9)
    newest = frame.filter(pl.col("as_of") >= cutoff)
    return newest, newest["label"].to_numpy()
