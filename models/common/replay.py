"""A replay of the schedule: how would the scores have done, window by window?

The held-out test of one training run answers "how good is this model on the newest
rows"; a user asks something else: "had we run crmlens for the last year, how good would
the scores we published have been?". The replay answers that by doing what the scheduled
jobs would have done at each step, on exactly what was known then:

1. at each cut (the start of a week or a month), keep the training rows whose label was
   settled before the cut (as-of + horizon, and the outcome's own date where the builder
   records it: the censoring rule of :mod:`models.common.splits`);
2. train on them as the weekly job does (:func:`models.common.training.train`: gate,
   censoring-aware split, three models, calibration, selection on validation), judge the
   challenger by the promotion floor (:mod:`models.common.floor`) and against the champion
   the replay carries from the earlier cuts (:func:`models.common.promotion.decide`);
3. score the rows of the next window with whatever the schedule would have published:
   the champion, else the rule score, else the base rate when there was no reliable
   signal (:func:`models.common.scoring._by_path`'s order);
4. once the window's labels are in, measure those scores: ROC AUC, PR AUC, Brier, ECE,
   lift in the top decile, per window and pooled over every window, beside the rule
   score's ROC AUC on the same rows.

Features are point in time (each row's are computed as of its own snapshot), so a row
scored in a window saw only what was known at its snapshot. Rows are weighed as in
training: each entity's snapshots in a window weigh one in total.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from features.common import FeatureSet
from models.common import floor
from models.common.family import Family
from models.common.metrics import calibration_by_decile, evaluate
from models.common.model import ScoringModel
from models.common.promotion import decide
from models.common.splits import entity_weights
from models.common.training import train

STEPS = ("week", "month")
METRICS = ("roc_auc", "pr_auc", "brier", "ece", "lift_top_decile")


@dataclass(frozen=True)
class Window:
    """One step of the replay: what was trained at its start and how its scores did."""

    start: datetime
    end: datetime
    known_rows: int  # training rows whose label was settled at the cut
    rows: int  # rows scored in the window
    positives: int
    path: str  # model, rule_based or no_reliable_signal
    model: str  # lightgbm, logistic_regression, rule_based or base_rate
    champion_from: datetime | None  # the cut whose training produced the champion in use
    promoted: bool  # whether this cut's challenger became the champion
    verdict: str  # the floor's, or the gate's, one line
    metrics: dict[str, float] = field(default_factory=dict)
    rule_roc_auc: float | None = None

    def row(self) -> dict[str, object]:
        """The window as one row of ``ml.backtest_windows``."""
        out = {k: v for k, v in dataclasses.asdict(self).items() if k != "metrics"}
        return out | {m: self.metrics.get(m) for m in METRICS}


@dataclass
class Replay:
    """Every window, the pooled figures, and the scored rows behind them."""

    family: str
    step: str
    windows: list[Window]
    overall: dict[str, float]
    calibration: pl.DataFrame
    scored: pl.DataFrame  # as_of, id, window start, label, probability, rule points, weight

    def table(self) -> pl.DataFrame:
        """One row per window (``ml.backtest_windows`` without the run's columns)."""
        return pl.DataFrame([w.row() for w in self.windows], infer_schema_length=None)


def cuts(as_of: np.ndarray, step: str, windows: int) -> list[tuple[datetime, datetime]]:
    """The last ``windows`` week or month windows that hold rows, after the first row's.

    Args:
        as_of: each row's snapshot time.
        step: ``week`` (Mondays) or ``month`` (the 1st).
        windows: how many windows at most, newest kept.

    Returns:
        (start, end) of each window, oldest first; a window starts after the first
        snapshot, so the cut before it has something to be known.
    """
    if step not in STEPS:
        raise ValueError(f"step must be one of {', '.join(STEPS)}, not {step!r}")
    when = pl.Series("as_of", np.asarray(as_of).astype("datetime64[us]"))
    first = when.min()
    starts = when.dt.truncate("1w" if step == "week" else "1mo").unique().sort()
    pairs = []
    for start in starts.to_list():
        if start <= first:
            continue
        pairs.append((start, _next(start, step)))
    return pairs[-windows:] if windows > 0 else pairs


def _next(start: datetime, step: str) -> datetime:
    if step == "week":
        return start + timedelta(days=7)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return start.replace(year=year, month=month)


def settled_at(frame: pl.DataFrame, horizon_days: int) -> np.ndarray:
    """When each row's label became known: as-of + horizon, or its outcome's date if later."""
    as_of = frame["as_of"].to_numpy().astype("datetime64[us]")
    settled = as_of + np.timedelta64(timedelta(days=horizon_days))
    if "label_known_at" in frame.columns:
        known = frame["label_known_at"].to_numpy().astype("datetime64[us]")
        settled = np.where(np.isnat(known), settled, np.maximum(settled, known))
    return settled


def replay(
    family: Family,
    features: FeatureSet,
    *,
    step: str = "month",
    windows: int = 12,
    seed: int = 42,
) -> Replay:
    """Replay the schedule over the stored training set (module docstring).

    Args:
        family: the family, configured for the source (horizon, one outcome per entity).
        features: the training set (with ``as_of``, ``label``, maybe ``label_known_at``).
        step: retrain every ``week`` or every ``month``.
        windows: how many of the newest windows to replay.
        seed: seeds every training run.

    Returns:
        The replay.

    Raises:
        ValueError: no window to replay (the set spans a single step).
    """
    frame = features.frame
    as_of = frame["as_of"].to_numpy().astype("datetime64[us]")
    settled = settled_at(frame, family.horizon_days)
    pairs = cuts(as_of, step, windows)
    if not pairs:
        raise ValueError(f"the training set spans one {step}: nothing to replay")
    champion: tuple[ScoringModel, datetime] | None = None
    done, scored = [], []
    for start, end in pairs:
        cut = np.datetime64(start, "us")
        known = (as_of < cut) & (settled <= cut)
        now = _train_at(family, features, known, champion, start, seed)
        champion = now.champion
        in_window = np.flatnonzero((as_of >= cut) & (as_of < np.datetime64(end, "us")))
        window, rows = _score_window(family, frame[in_window], now, start, end, int(known.sum()))
        done.append(window)
        scored.append(rows)
    pooled = pl.concat(scored)
    overall, calibration = _pooled(pooled, done)
    return Replay(family.name, step, done, overall, calibration, pooled)


@dataclass
class _AtCut:
    """What the schedule held at a cut: the champion, else the path the floor chose."""

    champion: tuple[ScoringModel, datetime] | None
    path: str
    base_rate: float
    promoted: bool
    verdict: str


def _train_at(
    family: Family,
    features: FeatureSet,
    known: np.ndarray,
    champion: tuple[ScoringModel, datetime] | None,
    cut: datetime,
    seed: int,
) -> _AtCut:
    """The weekly job at ``cut``: train on the known rows, floor, champion or not."""
    frame = features.frame.filter(pl.Series(known))
    labels = frame["label"].to_numpy().astype(int)
    if frame.is_empty():
        return _AtCut(champion, floor.RULE_PATH, float("nan"), False, "no settled label yet")
    subset = dataclasses.replace(features, frame=frame)
    try:
        outcome = train(family, subset, labels, frame["as_of"].to_numpy(), seed=seed)
    except ValueError as one_class:  # a part of the split with one class: not enough history
        verdict = floor.cold_start(family, frame, labels, str(one_class))
        return _AtCut(champion, verdict.path, verdict.base_rate, False, verdict.reason)
    verdict = floor.verdict(family, outcome, frame, labels)
    if not outcome.trained:
        return _AtCut(champion, verdict.path, verdict.base_rate, False, verdict.reason)
    test = outcome.split.test
    previous = (champion[0], champion[1].isoformat()) if champion else None
    decision = decide(
        (outcome.model, cut.isoformat()), previous, frame[test], labels[test], verdict
    )
    if decision.promote:
        champion = (outcome.model, cut)
    return _AtCut(champion, verdict.path, verdict.base_rate, decision.promote, decision.reason)


def _score_window(
    family: Family,
    rows: pl.DataFrame,
    now: _AtCut,
    start: datetime,
    end: datetime,
    known_rows: int,
) -> tuple[Window, pl.DataFrame]:
    """Score a window's rows as the schedule would have, and measure the scores."""
    labels = rows["label"].to_numpy().astype(int)
    points = family.rule_points(rows) if rows.height else np.array([])
    if now.champion is not None:
        probability, path, model = (
            now.champion[0].predict_proba(rows),
            "model",
            now.champion[0].kind,
        )
    elif now.path == floor.NO_SIGNAL_PATH and now.base_rate == now.base_rate:
        probability, path, model = np.full(rows.height, now.base_rate), now.path, "base_rate"
    else:
        probability, path, model = np.clip(points / 100.0, 0, 1), floor.RULE_PATH, "rule_based"
    groups = rows[family.id_column].to_numpy() if family.one_outcome_per_entity else None
    weight = entity_weights(groups, np.arange(rows.height))
    both = rows.height > 0 and labels.min() != labels.max()
    metrics = evaluate(labels, probability, weight) if both else {}
    rule_auc = None
    if both and floor.has_rule_baseline(family, rows):
        rule_auc = float(roc_auc_score(labels, points, sample_weight=weight))
    window = Window(
        start=start,
        end=end,
        known_rows=known_rows,
        rows=rows.height,
        positives=int(labels.sum()),
        path=path,
        model=model,
        champion_from=now.champion[1] if now.champion else None,
        promoted=now.promoted,
        verdict=now.verdict,
        metrics={m: float(metrics[m]) for m in METRICS if m in metrics},
        rule_roc_auc=rule_auc,
    )
    scored = pl.DataFrame(
        {
            "window_start": [start] * rows.height,
            "label": labels,
            "probability": probability.astype(float),
            "rule_points": np.asarray(points, dtype=float),
            "weight": weight,
        },
        schema_overrides={"window_start": pl.Datetime("us")},
    )
    return window, pl.concat([rows.select(family.id_column, "as_of"), scored], how="horizontal")


def _pooled(scored: pl.DataFrame, windows: list[Window]) -> tuple[dict[str, float], pl.DataFrame]:
    """Figures over every window's scores at once, and the mean of the windows' AUCs."""
    y = scored["label"].to_numpy()
    p = scored["probability"].to_numpy()
    w = scored["weight"].to_numpy()
    out: dict[str, float] = {"windows": float(len(windows)), "rows": float(len(y))}
    if len(y) and y.min() != y.max():
        out |= {k: v for k, v in evaluate(y, p, w).items() if k in (*METRICS, "positive_rate")}
        points = scored["rule_points"].to_numpy()
        if np.ptp(points) > 0:
            out["rule_roc_auc"] = float(roc_auc_score(y, points, sample_weight=w))
        calibration = calibration_by_decile(p, y, weight=w)
    else:
        calibration = calibration_by_decile(p[:0], y[:0])
    aucs = [window.metrics["roc_auc"] for window in windows if "roc_auc" in window.metrics]
    if aucs:
        out["mean_window_roc_auc"] = float(np.mean(aucs))
    out["model_windows"] = float(sum(window.path == "model" for window in windows))
    return out, calibration
