"""Train / validation / test splits by time that look like production, without label leakage.

Rows are snapshots taken at ``as_of`` with a label observed over the following
``horizon`` days. The test set is the latest part of the as-of range.

**Censoring-aware, for positives and negatives alike.** A model trained at a cut knows
a label only once the row's whole horizon has elapsed (and its outcome, when the builder
says when it was settled, is known): a row settles at ``max(as_of + horizon,
label_known_at)``. A conversion inside the horizon does not settle a row earlier: if it
did, the rows near a cut would keep their positives (settled at conversion) and lose
their negatives (settled at the horizon's end), and the set just before the cut would be
rich in positives (on a real lead list: train 2.5 % positive, validation 26.8 %). So:

- fitting uses only rows settled by the test period's start (no label from the test
  period);
- the latest quarter of those, by ``as_of`` (by entity: below), validates (early
  stopping, calibration, model choice);
- the earlier rows train. They too are settled by the test period's start, so their
  class balance is as unbiased as the validation's (settling them by the validation's
  start as well would cost a whole horizon of history: 180 days of deals).

An entity (a lead, a deal) has many snapshots and one outcome, so no entity
trains and validates at once: an entity validates when its first fitted snapshot is
in the latest quarter, and trains otherwise, with all its fitted snapshots either way.
Cutting by each snapshot instead would put every entity alive in the window into
validation, long-lived ones more likely (they span the cut more often), and take them
from training: on the small synthetic CRM, where won deals live longer, validation came
out 40 % won and training 25 %, against 30 % over all deals. Its snapshots (at creation and at regular ages) are the decision
points a score is read at; an old lead that never converts is snapshotted at every age,
so each entity's snapshots weigh the same in total within a part (:func:`entity_weights`):
stale snapshots of old leads do not swamp the set.

Each part's class balance is recorded, and the validation's positive rate is checked
against the training rows': far apart, the note says so (real drift, or a biased cut).

When all snapshots share one as-of date (a dataset without time, such as the
telco churn file), no time split exists: the rows are split at random, stratified
and seeded, and the split says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sklearn.model_selection import train_test_split

PARTS = ("train", "valid", "test")
# Validation and training positive rates further apart than this factor (either way, on
# the odds) are flagged: real drift, or a cut that keeps one class and drops the other.
BALANCE_FACTOR = 2.0


@dataclass(frozen=True)
class Split:
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    kind: str  # "time" or "random"
    valid_start: datetime | None = None
    test_start: datetime | None = None
    note: str = ""
    # Per-row weight over the whole set (each entity's rows in a part sum to 1 when the
    # family has one outcome per entity; else 1).
    weights: np.ndarray | None = None
    # Per part: rows, positive rate, and the positive rate under the weights.
    balance: dict[str, dict[str, float]] = field(default_factory=dict)

    def part(self, name: str) -> np.ndarray:
        """The row indices of ``train``, ``valid`` or ``test``."""
        return {"train": self.train, "valid": self.valid, "test": self.test}[name]

    def weight(self, name: str) -> np.ndarray:
        """The rows' weights in part ``name`` (ones without weights)."""
        idx = self.part(name)
        return np.ones(len(idx)) if self.weights is None else self.weights[idx]

    @property
    def balance_ok(self) -> bool:
        """Whether validation's positive rate is within :data:`BALANCE_FACTOR` of train's."""
        if not self.balance:
            return True
        return _odds_ratio(self.balance["train"], self.balance["valid"]) <= BALANCE_FACTOR

    def describe(self) -> dict[str, object]:
        """The split as a training run records it, with each part's class balance."""
        out: dict[str, object] = {
            "split": self.kind,
            "train_rows": len(self.train),
            "valid_rows": len(self.valid),
            "test_rows": len(self.test),
            "valid_start": str(self.valid_start) if self.valid_start else None,
            "test_start": str(self.test_start) if self.test_start else None,
            "split_note": self.note,
        }
        for name, stats in self.balance.items():
            out[f"{name}_positive_rate"] = round(stats["positive_rate"], 4)
            out[f"{name}_weighted_positive_rate"] = round(stats["weighted_positive_rate"], 4)
        if self.balance:
            out["class_balance_ok"] = self.balance_ok
        return out


def entity_weights(groups: np.ndarray | None, idx: np.ndarray) -> np.ndarray:
    """Weights of the rows ``idx`` such that each entity's rows among them weigh the same
    in total, scaled to a mean of 1 (so regularisation keeps its strength).

    Args:
        groups: Each row's entity (None: every row weighs 1).
        idx: The rows of one part.

    Returns:
        One weight per row of ``idx``.
    """
    if groups is None or len(idx) == 0:
        return np.ones(len(idx))
    _, inverse, counts = np.unique(np.asarray(groups)[idx], return_inverse=True, return_counts=True)
    weights = 1.0 / counts[inverse]
    return weights * len(idx) / weights.sum()


def split_by_time(
    as_of: np.ndarray,
    labels: np.ndarray,
    horizon_days: int,
    valid_share: float = 0.2,
    test_share: float = 0.2,
    seed: int = 42,
    label_known_at: np.ndarray | None = None,
    groups: np.ndarray | None = None,
) -> Split:
    """Split snapshot rows by their ``as_of`` (datetime64 array); see the module docstring.

    Args:
        as_of: Each row's snapshot time.
        labels: Each row's label.
        horizon_days: The label horizon: a row settles ``as_of`` + horizon at the earliest.
        valid_share: Share of rows for validation.
        test_share: Share of the newest rows for the test.
        seed: Seeds the random split.
        label_known_at: When each label's outcome was known, where the builder says.
        groups: Entity ids, for families with one outcome per entity (no entity both
            trains and validates; each entity's rows in a part weigh 1 in total).

    Returns:
        The train, validation and test row indices, their weights and class balance, and
        how they were chosen.
    """
    as_of = np.asarray(as_of).astype("datetime64[us]")
    labels = np.asarray(labels, dtype=int)
    if len(np.unique(as_of)) < 3:
        return _finish(_random_split(labels, valid_share, test_share, seed), labels, groups)
    settled = as_of + np.timedelta64(timedelta(days=horizon_days))
    if label_known_at is not None:
        settled = np.maximum(settled, np.asarray(label_known_at).astype("datetime64[us]"))
    ordered = np.sort(as_of)
    test_start = ordered[int(len(ordered) * (1 - test_share))]
    test = np.flatnonzero(as_of >= test_start)
    fit = np.flatnonzero((as_of < test_start) & (settled <= test_start))
    if len(fit) == 0:
        raise ValueError("no label settled before the test period: need more history")
    # Each fitted row's time for the validation cut: its as_of, or, with entities, the
    # entity's first fitted snapshot (see _entry_times).
    groups = None if groups is None else np.asarray(groups)
    entry = as_of[fit] if groups is None else _entry_times(as_of[fit], groups[fit])
    fit_ordered = np.sort(entry)
    valid_start = fit_ordered[int(len(fit_ordered) * (1 - valid_share / (1 - test_share)))]
    valid = fit[entry >= valid_start]
    train = fit[entry < valid_start]
    split = Split(
        train=train,
        valid=valid,
        test=test,
        kind="time",
        valid_start=valid_start.astype(datetime),
        test_start=test_start.astype(datetime),
        note=f"censoring-aware: a row fits only once its {horizon_days}-day horizon"
        + (" and its outcome" if label_known_at is not None else "")
        + " settled before the test period, positives and negatives alike",
    )
    return _finish(split, labels, groups)


def _entry_times(as_of: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Per row, the earliest ``as_of`` of its entity among these rows.

    An entity's snapshots share one outcome, so the entity validates or trains as a whole
    (were its earlier snapshots to train the model, its later ones would flatter early
    stopping, calibration and model selection). It goes by when it entered, not by whether
    any of its snapshots falls in the validation window: that would pick the long-lived
    entities (a long life spans the cut more often) and take them from training, and an
    outcome that goes with a long life (a deal won after a long negotiation) would then be
    over-represented in validation and under-represented in training (on the small
    synthetic CRM: 40 % won in validation, 25 % in training, 30 % over all deals).
    """
    _, code = np.unique(groups, return_inverse=True)
    times = as_of.astype("datetime64[us]").astype(np.int64)
    first = np.full(code.max() + 1 if len(code) else 0, np.iinfo(np.int64).max)
    np.minimum.at(first, code, times)
    return first[code].astype("datetime64[us]").astype(as_of.dtype)


def _finish(split: Split, labels: np.ndarray, groups: np.ndarray | None) -> Split:
    """The split with its weights and each part's class balance (and a note when off)."""
    weights = np.ones(len(labels))
    balance = {}
    for name in PARTS:
        idx = split.part(name)
        weights[idx] = entity_weights(groups, idx)
        w = weights[idx]
        balance[name] = {
            "rows": float(len(idx)),
            "positive_rate": float(labels[idx].mean()) if len(idx) else float("nan"),
            "weighted_positive_rate": float(np.average(labels[idx], weights=w))
            if len(idx)
            else float("nan"),
        }
    out = Split(**{**split.__dict__, "weights": weights, "balance": balance})
    if not out.balance_ok:
        rates = ", ".join(f"{n} {balance[n]['positive_rate']:.1%}" for n in PARTS)
        note = f"{out.note}; class balance differs beyond {BALANCE_FACTOR:g}x ({rates})"
        out = Split(**{**out.__dict__, "note": note})
    return out


def _odds_ratio(a: dict[str, float], b: dict[str, float]) -> float:
    """How many times apart two parts' positive odds are (≥ 1; inf when one is pure)."""
    pa, pb = a["positive_rate"], b["positive_rate"]
    if not (0 < pa < 1 and 0 < pb < 1):
        return float("inf")
    ratio = (pa / (1 - pa)) / (pb / (1 - pb))
    return float(max(ratio, 1 / ratio))


def _random_split(labels: np.ndarray, valid_share: float, test_share: float, seed: int) -> Split:
    idx = np.arange(len(labels))
    rest, test = train_test_split(idx, test_size=test_share, stratify=labels, random_state=seed)
    train, valid = train_test_split(
        rest,
        test_size=valid_share / (1 - test_share),
        stratify=labels[rest],
        random_state=seed,
    )
    return Split(
        train=np.sort(train),
        valid=np.sort(valid),
        test=np.sort(test),
        kind="random",
        note="all snapshots share one as-of date: stratified random split (seeded)",
    )
