"""What every canonical table of the simulated world is built with (typed polars frames).

Keys are given here, in order of creation. Columns follow the contract's order
(:data:`crmlens.contracts.CONTRACTS`), then the custom attributes. The tables
themselves are built by :mod:`.tables_org`, :mod:`.tables_sales` and
:mod:`.tables_customers`, from a :class:`Tables`.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crmlens.contracts import CONTRACTS
from crmlens.synthetic.common import key_strings, stream
from crmlens.synthetic.naming import spell_names
from crmlens.synthetic.world import World

CUSTOM_COLUMNS = {
    "accounts": ("nps_score", "uses_competitor", "crm_import_batch"),
    "leads": (
        "budget_confirmed",
        "timeline",
        "decision_maker",
        "form_variant",
        "preferred_language",
        "title",
        "industry",
        "employee_count",
    ),
}


def key_width(prefix_min: int, n: int) -> int:
    """Digits of the keys of ``n`` entities: at least ``prefix_min``."""
    return max(prefix_min, len(str(n)))


def in_order(rows: dict[str, np.ndarray], column: str) -> dict[str, np.ndarray]:
    """Rows (columns of equal length) sorted by one column, ties kept in their order.

    Args:
        rows: the columns.
        column: the column to sort by (a time).

    Returns:
        The same columns, reordered.
    """
    order = np.argsort(rows[column], kind="stable")
    return {c: v[order] for c, v in rows.items()}


def _keys_for(prefix: str, width: int, order: np.ndarray, size: int) -> np.ndarray:
    """Keys by creation rank for entity indices ``order``; other indices get None."""
    keys = np.full(size, None, dtype=object)
    keys[order] = key_strings(prefix, len(order), key_width(width, len(order)))
    return keys


def nullable_int(x: np.ndarray) -> pl.Series:
    """Float array with nan for missing → Int64 series with nulls."""
    x = np.asarray(x, dtype=float)
    s = pl.Series(np.nan_to_num(x, nan=0.0).astype(np.int64))
    missing = np.flatnonzero(np.isnan(x))
    return s.scatter(missing, None) if len(missing) else s


def nullable_float(x: np.ndarray) -> pl.Series:
    """Float array with nan for missing → Float64 series with nulls."""
    x = np.asarray(x, dtype=float)
    s = pl.Series(np.nan_to_num(x, nan=0.0))
    missing = np.flatnonzero(np.isnan(x))
    return s.scatter(missing, None) if len(missing) else s


def keys_of(keys: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Keys of indices, None where the index is -1.

    Args:
        keys: the keys of every entity.
        idx: entity indices, -1 for none.

    Returns:
        One key (or None) per index.
    """
    idx = np.asarray(idx, dtype=np.int64)
    out = keys[np.maximum(idx, 0)]
    return np.where(idx >= 0, out, None)


class Tables:
    """A finished :class:`World` with its keys, names and one random stream for the tables.

    The table builders share the stream ``tables``: they must run in the order of
    ``generator.CRM_TABLES`` for the same seed to give the same bytes.
    """

    def __init__(self, world: World) -> None:
        self.w = world
        self.clock = world.clock
        self.rng = stream(world.seed, "tables")
        w = world
        comp, ppl = w.companies, w.people
        self.account_order = np.flatnonzero(~np.isnan(comp["created"]))
        self.account_order = self.account_order[
            np.argsort(comp["created"][self.account_order], kind="stable")
        ]
        self.contact_order = np.flatnonzero(~np.isnan(ppl["created"]))
        self.contact_order = self.contact_order[
            np.argsort(ppl["created"][self.contact_order], kind="stable")
        ]
        self.keys = {
            "teams": key_strings("T", len(w.teams["name"]), 3),
            "users": key_strings("U", len(w.users["role"]), 4),
            "accounts": _keys_for("A", 6, self.account_order, len(comp["created"])),
            "contacts": _keys_for("C", 7, self.contact_order, len(ppl["created"])),
            "leads": key_strings("L", len(w.leads["t0"]), 7),
            "opportunities": key_strings("O", len(w.opps["created"]), 6),
            "campaigns": key_strings("CMP", len(w.campaigns["start"]), 4),
            "subscriptions": key_strings("SUB", len(w.subscriptions["start"]), 6),
        }
        self.names = spell_names(world)
        self._acts: dict[str, np.ndarray] | None = None

    def ts(self, t: np.ndarray) -> pl.Series:
        """Simulation days → naive datetime (seconds); nan → null."""
        t = np.asarray(t, dtype=float)
        secs = self.clock.to_seconds(np.nan_to_num(t, nan=0.0))
        s = pl.from_epoch(pl.Series(secs), time_unit="s")
        missing = np.flatnonzero(np.isnan(t))
        return s.scatter(missing, None) if len(missing) else s

    def dt(self, t: np.ndarray) -> pl.Series:
        """Simulation days → dates; nan → null."""
        return self.ts(t).dt.date()

    def frame(self, table: str, cols: dict[str, object]) -> pl.DataFrame:
        """A canonical table from its columns.

        Args:
            table: the canonical table.
            cols: column -> values (numpy or polars); every canonical column and exactly
                the table's custom columns.

        Returns:
            The frame, columns in contract order, then the custom attributes.
        """
        canonical = list(CONTRACTS[table].columns)
        missing = set(canonical) - set(cols)
        extra = [c for c in cols if c not in canonical]
        assert not missing, f"{table}: missing {missing}"
        assert extra == list(CUSTOM_COLUMNS.get(table, ())), f"{table}: extra {extra}"
        out = {}
        for c in canonical + extra:
            v = cols[c]
            if isinstance(v, np.ndarray) and v.dtype == object:
                v = pl.Series(c, v.tolist(), dtype=pl.Utf8)
            out[c] = v
        return pl.DataFrame(out)

    def activity_columns(self) -> dict[str, np.ndarray]:
        """All activities, sorted by time (computed once)."""
        if self._acts is None:
            parts = self.w.activities
            acts = {c: np.concatenate([p[c] for p in parts]) for c in parts[0]}
            self._acts = in_order(acts, "t")
        return self._acts
