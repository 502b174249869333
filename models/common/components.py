"""Component scores beside the combined one: a lead's fit, engagement and intent.

A family declares its components as sets of reason groups (:class:`Family.components`):
for leads, *fit* is who they are (company, role, decision maker), *engagement* how
they interact (e-mails, visits, webinars, the team's touches) and *intent* their
buying signals (demo requests, pricing views, forms, budget, timeline). Each is a
0–100 score of its own, per row:

- **model path**: ``100 · σ(c)``, where ``c`` is the sum of the model's log-odds
  contributions of the component's features (the same contributions the reasons
  read). 50 means the component neither raises nor lowers this row's score; 80 means
  it raises the odds fourfold; 20 that it lowers them fourfold.
- **rule path**: the share of the component's maximum rule points this row earned
  (:class:`Family.component_points`), as CRMs' points scores show them.
- **no-signal path**: null (the base rate explains nothing).

Each row's components depend only on that row, so a change to one lead changes only
its own components.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from models.common.family import Family


def component_columns(family: Family) -> list[str]:
    """The score table's component columns: ``<component>_score``."""
    return [f"{name}_score" for name in family.components]


def from_contributions(
    family: Family, groups: list[str], grouped: np.ndarray
) -> dict[str, np.ndarray]:
    """Components on the model path, from log-odds contributions summed per reason group.

    Args:
        family: the family (its components).
        groups: the reason groups, one per column of ``grouped``.
        grouped: rows × groups log-odds contributions.

    Returns:
        ``<component>_score`` -> 0–100 floats per row.
    """
    out = {}
    for name, members in family.components.items():
        at = [i for i, g in enumerate(groups) if g in members]
        total = grouped[:, at].sum(axis=1) if at else np.zeros(grouped.shape[0])
        out[f"{name}_score"] = 100.0 / (1.0 + np.exp(-total))
    return out


def from_rule_parts(
    family: Family, parts: dict[str, np.ndarray], rows: int
) -> dict[str, np.ndarray]:
    """Components on the rule path: points earned over the component's maximum.

    Args:
        family: the family (its components and their maximum points).
        parts: the rule's points per reason group.
        rows: rows scored.

    Returns:
        ``<component>_score`` -> 0–100 floats per row.
    """
    out = {}
    for name, members in family.components.items():
        earned = sum((parts[g] for g in members if g in parts), np.zeros(rows))
        most = family.component_points.get(name) or 100.0
        out[f"{name}_score"] = np.clip(100.0 * earned / most, 0.0, 100.0)
    return out


def as_columns(family: Family, values: dict[str, np.ndarray] | None, rows: int) -> list[pl.Series]:
    """The component columns as integer series (null when ``values`` is None)."""
    out = []
    for column in component_columns(family):
        if values is None:
            out.append(pl.Series(column, [None] * rows, dtype=pl.Int64))
        else:
            out.append(pl.Series(column, np.rint(values[column]), dtype=pl.Float64).cast(pl.Int64))
    return out
