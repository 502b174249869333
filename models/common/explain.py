"""Reasons in words, from the model's own per-row contributions.

LightGBM's ``pred_contrib`` gives, for each row, how much each feature moved the
score (in log-odds). Features are grouped by what they mean to a salesperson
(``pricing_view_7d``, ``_30d``, ``_90d`` and ``days_since_pricing_view`` are all
"pricing views"), the contributions of a group are summed, and the strongest
groups pushing up and pushing down become sentences written by the family's
templates from the row's own values ("Viewed the pricing page 4 times in the
last 30 days"). Everything is vectorised: each row picks its top groups, then
each group's sentence is written at once for the rows that show it.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from models.common.family import Family
from models.common.model import ScoringModel


def feature_groups(family: Family, columns: list[str]) -> tuple[list[str], np.ndarray]:
    """Group names, and a (features x groups) 0/1 matrix assigning each feature to one group."""
    owner: dict[str, str] = {}
    for reason in family.reasons:
        for feature in reason.features:
            owner.setdefault(feature, reason.group)
    groups: list[str] = []
    for column in columns:
        group = owner.get(column, column)
        if group not in groups:
            groups.append(group)
    matrix = np.zeros((len(columns), len(groups)))
    for i, column in enumerate(columns):
        matrix[i, groups.index(owner.get(column, column))] = 1.0
    return groups, matrix


def _generic_sentence(column: str) -> pl.Expr:
    label = column.replace("_", " ")
    value = pl.col(column)
    return (
        pl.when(value.is_null())
        .then(pl.lit(f"{label}: unknown"))
        .otherwise(pl.format(f"{label}: {{}}", value.cast(pl.String)))
    )


# Contributions smaller than this (log-odds) are noise to a salesperson: not shown.
MIN_IMPACT = 0.05


def _template(family: Family, group: str, columns: list[str]) -> pl.Expr:
    """The sentence expression of a group (generic when the family has none that fits)."""
    for reason in family.reasons:
        if reason.group == group and set(reason.text.meta.root_names()) <= set(columns):
            return reason.text
    if group in columns:
        return _generic_sentence(group)
    return pl.lit(None, dtype=pl.String)


def sentences(family: Family, frame: pl.DataFrame, groups: list[str]) -> pl.DataFrame:
    """Every group's sentence for every row (one column per group): for reading and testing
    the templates; scoring writes only the sentences a row shows."""
    return frame.select([_template(family, g, frame.columns).alias(g) for g in groups])


def explain(model: ScoringModel, family: Family, frame: pl.DataFrame, top: int = 3) -> list[str]:
    """A JSON list of reasons per row: the ``top`` strongest up and down, strongest first."""
    contributions = model.contributions(frame)[:, :-1]
    return reasons_from_contributions(
        family, frame, model.layout.columns, contributions, top, MIN_IMPACT
    )


def reasons_from_contributions(
    family: Family,
    frame: pl.DataFrame,
    columns: list[str],
    contributions: np.ndarray,
    top: int = 3,
    min_impact: float = 0.0,
) -> list[str]:
    """Pick each row's strongest groups, then write only the sentences shown.

    A row shows at most ``2 * top`` of some thirty groups, so sentences are written
    group by group for just the rows that show that group, and the JSON is assembled
    by polars, not row by row in Python.
    """
    groups, assign = feature_groups(family, columns)
    silent = [i for i, g in enumerate(groups) if g in family.silent_features]
    grouped = contributions @ assign  # rows x groups
    grouped[:, silent] = 0.0
    n = grouped.shape[0]
    if n == 0:
        return []
    order = np.argsort(-grouped, axis=1, kind="stable")
    picks = np.concatenate([order[:, :top], order[:, ::-1][:, :top]], axis=1)
    rows = np.repeat(np.arange(n), 2 * top)
    slot = np.tile(np.arange(2 * top), n)
    chosen = picks.ravel()
    impact = grouped[rows, chosen]
    up = slot < top
    keep = np.where(up, impact > min_impact, impact < -min_impact)
    rows, slot, chosen, impact, up = rows[keep], slot[keep], chosen[keep], impact[keep], up[keep]

    text = np.empty(len(rows), dtype=object)
    for j in np.unique(chosen):
        at = np.flatnonzero(chosen == j)
        expr = _template(family, groups[j], frame.columns)
        needed = list(dict.fromkeys(c for c in expr.meta.root_names() if c in frame.columns))
        subset = frame.select(needed)[rows[at]] if needed else pl.DataFrame(height=len(at))
        text[at] = subset.select(expr.alias("t"))["t"].to_numpy()
    long = pl.DataFrame(
        {
            "row": rows,
            "slot": slot,
            "group": np.asarray(groups, dtype=object)[chosen],
            "direction": np.where(up, "up", "down"),
            "impact": np.round(impact, 4),
            "text": text,
        },
        schema_overrides={"group": pl.String, "text": pl.String},
    ).filter(pl.col("text").is_not_null())
    encoded = (
        long.sort("row", "slot")
        .group_by("row", maintain_order=True)
        .agg(
            pl.struct("group", "direction", "impact", "text")
            .struct.json_encode()
            .str.join(",")
            .alias("json")
        )
    )
    out = np.full(n, "[]", dtype=object)
    out[encoded["row"].to_numpy()] = ("[" + encoded["json"] + "]").to_numpy()
    return out.tolist()
