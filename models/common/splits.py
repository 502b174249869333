"""Train / validation / test splits by time, without label leakage.

Rows are snapshots taken at ``as_of`` with a label observed over the following
``horizon`` days. The test set is the latest part of the as-of range. Only rows
whose label had been observed before the test period began are used to fit (the
label is settled at ``label_known_at`` when the builder knows it — a lead that
converts or is disqualified settles its label then — else at ``as_of + horizon``): the latest quarter of those validates (early
stopping, calibration), the rest trains. So no label used in fitting comes from
the test period: otherwise the training label of a lead would reveal what the
same lead did during the test period.

An entity (a lead, a deal) has many snapshots and one outcome, so no entity
trains and validates at once: training drops the snapshots of the entities in
the validation set.

When all snapshots share one as-of date (a dataset without time, such as the
telco churn file), no time split exists: the rows are split at random, stratified
and seeded, and the split says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sklearn.model_selection import train_test_split


@dataclass(frozen=True)
class Split:
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    kind: str  # "time" or "random"
    valid_start: datetime | None = None
    test_start: datetime | None = None
    note: str = ""

    def describe(self) -> dict[str, object]:
        return {
            "split": self.kind,
            "train_rows": len(self.train),
            "valid_rows": len(self.valid),
            "test_rows": len(self.test),
            "valid_start": str(self.valid_start) if self.valid_start else None,
            "test_start": str(self.test_start) if self.test_start else None,
            "split_note": self.note,
        }


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
        labels: Each row's label (for the random split when there are too few dates).
        horizon_days: The label horizon (a label is known ``as_of`` + horizon by default).
        valid_share: Share of rows for validation.
        test_share: Share of the newest rows for the test.
        seed: Seeds the random split.
        label_known_at: When each label was settled, where it is earlier than the horizon.
        groups: Entity ids, for families with one outcome per entity.

    Returns:
        The train, validation and test row indices and how they were chosen.
    """
    as_of = np.asarray(as_of).astype("datetime64[us]")
    distinct = np.unique(as_of)
    if len(distinct) < 3:
        return _random_split(labels, valid_share, test_share, seed)
    ordered = np.sort(as_of)
    test_start = ordered[int(len(ordered) * (1 - test_share))]
    horizon = np.timedelta64(timedelta(days=horizon_days))
    known = (
        np.asarray(label_known_at).astype("datetime64[us]")
        if label_known_at is not None
        else as_of + horizon
    )
    test = np.flatnonzero(as_of >= test_start)
    fit = np.flatnonzero((as_of < test_start) & (known <= test_start))
    fit_ordered = np.sort(as_of[fit])
    valid_start = fit_ordered[int(len(fit_ordered) * (1 - valid_share / (1 - test_share)))]
    valid = fit[as_of[fit] >= valid_start]
    train = fit[as_of[fit] < valid_start]
    if groups is not None:
        # An entity's snapshots share one outcome: if its earlier snapshots trained the model,
        # its later ones would flatter early stopping, calibration and model selection.
        groups = np.asarray(groups)
        train = train[~np.isin(groups[train], groups[valid])]
    return Split(
        train=train,
        valid=valid,
        test=test,
        kind="time",
        valid_start=valid_start.astype(datetime),
        test_start=test_start.astype(datetime),
        note="fit only on labels settled before the test period "
        + (
            "(settling times given)"
            if label_known_at is not None
            else f"({horizon_days}-day horizon)"
        ),
    )


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
