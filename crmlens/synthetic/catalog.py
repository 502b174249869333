"""Event types, their properties, and the columnar batch events are built in.

Events are generated as integer columns (indices into the CRM's entities, -1 for
none) and turned into strings only when a day's file is written.
"""

from __future__ import annotations

import numpy as np

from crmlens.contracts import EVENT_TYPES
from crmlens.synthetic.vocab import EVENT_PROPERTIES

EVENT_CODE = {name: i for i, name in enumerate(EVENT_TYPES)}
PRODUCT_TYPES = (EVENT_CODE["login"], EVENT_CODE["feature_use"])
PROP_STRINGS: tuple[str, ...] = tuple(s for name in EVENT_TYPES for s in EVENT_PROPERTIES[name])
PROP_COUNT = np.array([len(EVENT_PROPERTIES[name]) for name in EVENT_TYPES])
PROP_OFFSET = np.r_[0, np.cumsum(PROP_COUNT)[:-1]]

# Namespaces of session ids, so lead, product and anonymous sessions never collide.
SESSION_LEAD, SESSION_PRODUCT, SESSION_VISITOR = 1, 2, 3
SESSION_SPAN = 10**12
# Anonymous ids of leads' browsers follow those of the anonymous visitor pool.
LEAD_VISITOR_BASE = 10**9

# A session id is derived when a day is written (from the visitor or the product user
# and the day), so batches need no session column. Narrow integer types keep the
# lead/e-mail stream, held for the whole run, small.
EVENT_COLUMNS = ("t", "etype", "contact", "lead", "account", "anon", "campaign", "prop")


def random_props(rng: np.random.Generator, etype: np.ndarray) -> np.ndarray:
    """A random property string for each event, among those of its type.

    Args:
        rng: the stream to draw from.
        etype: the events' type codes.

    Returns:
        Indices into :data:`PROP_STRINGS`, one per event.
    """
    pick = np.floor(rng.random(len(etype)) * PROP_COUNT[etype]).astype(np.int16)
    return (PROP_OFFSET[etype] + pick).astype(np.int16)


def batch(n: int) -> dict[str, np.ndarray]:
    """An empty-valued event batch of ``n`` rows (all references -1)."""
    return {
        "t": np.zeros(n),
        "etype": np.zeros(n, dtype=np.int8),
        "contact": np.full(n, -1, dtype=np.int32),
        "lead": np.full(n, -1, dtype=np.int32),
        "account": np.full(n, -1, dtype=np.int32),
        "anon": np.full(n, -1, dtype=np.int64),
        "campaign": np.full(n, -1, dtype=np.int32),
        "prop": np.zeros(n, dtype=np.int16),
    }


DTYPES = {c: a.dtype for c, a in batch(0).items()}


def concat(batches: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate event batches column by column, in the narrow column types."""
    if not batches:
        return batch(0)
    return {
        c: np.concatenate([np.asarray(b[c], dtype=DTYPES[c]) for b in batches])
        for c in EVENT_COLUMNS
    }


def take(b: dict[str, np.ndarray], idx: np.ndarray) -> dict[str, np.ndarray]:
    """The rows ``idx`` of an event batch."""
    return {c: b[c][idx] for c in EVENT_COLUMNS}


def sessions(b: dict[str, np.ndarray], day: int) -> np.ndarray:
    """Session ids of a day's events: per visitor (lead or anonymous) or product user and day.

    Args:
        b: the day's events.
        day: the simulation day.

    Returns:
        One id per event; -1 for events outside any session (e-mail).
    """
    product = np.isin(b["etype"], PRODUCT_TYPES)
    lead_visitor = b["anon"] >= LEAD_VISITOR_BASE
    return np.select(
        [product, lead_visitor, b["anon"] >= 0],
        [
            SESSION_PRODUCT * SESSION_SPAN + b["contact"].astype(np.int64) * 1024 + day,
            SESSION_LEAD * SESSION_SPAN + (b["anon"] - LEAD_VISITOR_BASE) * 1024 + day,
            SESSION_VISITOR * SESSION_SPAN + b["anon"] * 1024 + day,
        ],
        -1,
    )
