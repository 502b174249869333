"""The promotion floor: no score is published as a model's unless the data shows signal.

A trained challenger clears the floor only if, on its test rows,

1. the bootstrap 95 % interval of its ROC AUC (seeded, ``RESAMPLES`` resamples of the
   test rows) lies wholly above 0.5, and
2. it beats both the rule score and the base rate (the training rows' positive rate,
   the same for every row) on log loss or on Brier score.

Otherwise it replaces nothing and publishes nothing: the family publishes the rule
score when the rule itself is informative (its own interval above 0.5 and better than
the base rate), else the base rate, with the scoring path ``no_reliable_signal`` and
reasons that say so ("no reliable signal in this data: every lead gets the base rate
12 %") instead of per-row reasons that would pretend otherwise.

The rule baseline itself may be empty: a source that has none of the fields the rule
reads scores every row alike. :func:`has_rule_baseline` says so, and the cold-start path
then publishes the base rate rather than a constant that pretends to rank.

The verdict of every training run is kept in ``ml.model_verdicts`` so that the promotion
check and the daily scores read what training found.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

import duckdb
import numpy as np
import polars as pl
from sklearn.metrics import brier_score_loss, log_loss

from models.common.family import Family

RESAMPLES = 1000
SEED = 0
LEVEL = 0.95

MODEL_PATH = "model"
RULE_PATH = "rule_based"
NO_SIGNAL_PATH = "no_reliable_signal"
NO_SIGNAL = "no reliable signal in this data"
NO_RULE = "no rule baseline"


def bootstrap_auc(
    labels: np.ndarray, probability: np.ndarray, resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[float, float, float]:
    """ROC AUC and its percentile bootstrap interval.

    Each resample draws the test rows with replacement (seeded); the AUC of a resample is
    the Mann-Whitney statistic computed from per-value counts, so ties count one half.

    Args:
        labels: 0/1 outcomes.
        probability: the scores.
        resamples: how many resamples.
        seed: the generator's seed.

    Returns:
        The AUC on all rows, and the 2.5 % and 97.5 % quantiles over the resamples (NaN
        when the rows hold one class only).
    """
    y = np.asarray(labels, dtype=int)
    values, code = np.unique(np.asarray(probability, dtype=float), return_inverse=True)
    n, k = len(y), len(values)
    if n == 0 or y.min() == y.max():
        return float("nan"), float("nan"), float("nan")

    def auc(weights: np.ndarray) -> float:
        pos = np.bincount(code, weights=weights * y, minlength=k)
        neg = np.bincount(code, weights=weights * (1 - y), minlength=k)
        p, q = pos.sum(), neg.sum()
        if p == 0 or q == 0:
            return float("nan")
        below = np.cumsum(neg) - neg
        return float((pos * (below + 0.5 * neg)).sum() / (p * q))

    rng = np.random.default_rng(seed)
    draws = np.array([auc(rng.multinomial(n, np.full(n, 1.0 / n))) for _ in range(resamples)])
    draws = draws[~np.isnan(draws)]
    tail = (1 - LEVEL) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return auc(np.ones(n)), float(low), float(high)


def has_rule_baseline(family: Family, frame: pl.DataFrame) -> bool:
    """Whether the rule scores these rows differently at all.

    A part whose points are the same on every row (the source lacks its fields, or they
    are all null or constant) ranks nobody; with no part that varies there is no rule
    baseline, only a constant.

    Args:
        family: the family whose rule it is.
        frame: the feature rows.

    Returns:
        True when some part of the rule varies across the rows.
    """
    if frame.is_empty():
        return False
    parts = family.rule_parts(frame)
    return any(np.ptp(np.nan_to_num(np.asarray(v, dtype=float))) > 0 for v in parts.values())


def no_signal_sentence(family: Family, base_rate: float) -> str:
    """What every row's reason says on the no-signal path."""
    return f"{NO_SIGNAL}: every {family.entity} gets the base rate {base_rate:.0%}"


@dataclass(frozen=True)
class Floor:
    """A training run's verdict: may the challenger publish, and if not, what does.

    ``path`` is what the family publishes when no champion stands (``model`` when the
    challenger cleared the floor); ``reason`` says why in one line.
    """

    passed: bool
    path: str
    reason: str
    base_rate: float
    rule_baseline: bool
    auc: float | None = None
    auc_low: float | None = None
    auc_high: float | None = None
    rule_auc: float | None = None
    rule_auc_low: float | None = None
    rule_auc_high: float | None = None
    beats_rule: bool | None = None
    beats_base_rate: bool | None = None
    resamples: int = RESAMPLES

    @property
    def no_signal(self) -> bool:
        return self.path == NO_SIGNAL_PATH

    def metadata(self) -> dict[str, object]:
        """The verdict as flat metadata (Dagster, MLflow, the warehouse)."""
        return {
            "floor_passed": self.passed,
            "verdict_path": self.path,
            "verdict": self.reason,
            "base_rate": round(self.base_rate, 4),
            "rule_baseline": "yes" if self.rule_baseline else NO_RULE,
            "test_roc_auc_ci": _interval(self.auc, self.auc_low, self.auc_high),
            "rule_roc_auc_ci": _interval(self.rule_auc, self.rule_auc_low, self.rule_auc_high),
            "beats_rule": self.beats_rule,
            "beats_base_rate": self.beats_base_rate,
            "bootstrap_resamples": self.resamples,
        }


def _interval(auc: float | None, low: float | None, high: float | None) -> str | None:
    return None if auc is None else f"{auc:.3f} [{low:.3f}, {high:.3f}]"


def cold_start(family: Family, frame: pl.DataFrame, labels: np.ndarray, gate: str) -> Floor:
    """The verdict when the gate kept the model from training: the rule, if it has inputs.

    Args:
        family: the family.
        frame: the training rows (what the rule would score).
        labels: their outcomes (the base rate).
        gate: the gate's reason.

    Returns:
        ``rule_based`` when the rule varies across the rows, else ``no_reliable_signal``
        with the base rate.
    """
    base = float(np.mean(labels)) if len(labels) else float("nan")
    if has_rule_baseline(family, frame):
        return Floor(False, RULE_PATH, f"cold start, the rule-based score: {gate}", base, True)
    reason = f"{NO_SIGNAL} ({gate}; {NO_RULE}: the source has none of the rule's fields)"
    return Floor(False, NO_SIGNAL_PATH, reason, base, False)


def assess(family: Family, outcome: object, test_frame: pl.DataFrame | None = None) -> Floor:
    """Whether a trained challenger clears the floor (module docstring), on its test rows.

    Args:
        family: the family.
        outcome: a trained :class:`~models.common.training.Outcome`.
        test_frame: the test rows' features, to tell whether the rule has inputs (when
            omitted, the rule's test predictions are read instead).

    Returns:
        The verdict.
    """
    y = np.asarray(outcome.test_labels, dtype=int)
    chosen = outcome.test_predictions[outcome.model.kind]
    rule = outcome.test_predictions["rule_based"]
    base_rate = float(outcome.model.base_rate)
    constant = np.full(len(y), np.clip(base_rate, 1e-6, 1 - 1e-6))
    auc, low, high = bootstrap_auc(y, chosen)
    if test_frame is not None:
        rule_baseline = has_rule_baseline(family, test_frame)
    else:
        rule_baseline = bool(np.ptp(rule) > 0)
    rule_auc, rule_low, rule_high = bootstrap_auc(y, rule) if rule_baseline else (None,) * 3
    losses = {name: _losses(y, p) for name, p in (("model", chosen), ("rule", rule))}
    losses["base"] = _losses(y, constant)
    beats_rule = _beats(losses["model"], losses["rule"])
    beats_base = _beats(losses["model"], losses["base"])
    signal = bool(low > 0.5)
    passed = signal and beats_rule and beats_base
    rule_informative = bool(
        rule_baseline
        and rule_low is not None
        and rule_low > 0.5
        and _beats(losses["rule"], losses["base"])
    )
    figures = f"test AUC {auc:.3f} [95 % CI {low:.3f}–{high:.3f}]"
    if passed:
        path = MODEL_PATH
        reason = f"signal: {figures}, beats the rule and the base rate on log loss or Brier"
    else:
        why = [] if signal else ["the AUC interval includes 0.5"]
        why += [] if beats_rule else ["not better than the rule on log loss or Brier"]
        why += [] if beats_base else ["not better than the base rate on log loss or Brier"]
        path = RULE_PATH if rule_informative else NO_SIGNAL_PATH
        fallback = (
            "the rule score is published"
            if rule_informative
            else (f"the base rate {base_rate:.1%} is published")
        )
        reason = f"{NO_SIGNAL}: {figures}; {', '.join(why)}; {fallback}"
    if not rule_baseline:
        reason += f"; {NO_RULE}"
    return Floor(
        passed, path, reason, base_rate, rule_baseline, auc, low, high,
        rule_auc, rule_low, rule_high, beats_rule, beats_base,
    )  # fmt: skip


def _losses(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return float(log_loss(y, p, labels=[0, 1])), float(brier_score_loss(y, p))


def _beats(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Lower log loss or lower Brier score."""
    return bool(a[0] < b[0] or a[1] < b[1])


# --- the verdicts kept in the warehouse ---------------------------------------------------

VERDICTS = "model_verdicts"
_COLUMNS = {
    "family": "varchar",
    "decided_at": "timestamp",
    "mlflow_run_id": "varchar",
    "registered_version": "varchar",
    "passed": "boolean",
    "path": "varchar",
    "reason": "varchar",
    "base_rate": "double",
    "rule_baseline": "boolean",
    "detail": "varchar",
}


def record(
    con: duckdb.DuckDBPyConnection,
    family: str,
    floor: Floor,
    *,
    mlflow_run_id: str | None,
    version: str | None,
    decided_at: datetime,
) -> None:
    """Append a training run's verdict to ``ml.model_verdicts``."""
    con.execute("create schema if not exists ml")
    columns = ", ".join(f"{c} {t}" for c, t in _COLUMNS.items())
    con.execute(f"create table if not exists ml.{VERDICTS} ({columns})")
    row = (
        family, decided_at, mlflow_run_id, version, floor.passed, floor.path, floor.reason,
        floor.base_rate, floor.rule_baseline, json.dumps(asdict(floor)),
    )  # fmt: skip
    con.execute(f"insert into ml.{VERDICTS} values ({', '.join('?' * len(row))})", list(row))


def latest(con: duckdb.DuckDBPyConnection, family: str) -> Floor | None:
    """The newest verdict of a family; None before its first training run."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'ml' and table_name = ?",
        [VERDICTS],
    ).fetchone()[0]
    if not exists:
        return None
    row = con.execute(
        f"select detail from ml.{VERDICTS} where family = ? order by decided_at desc limit 1",
        [family],
    ).fetchone()
    return Floor(**json.loads(row[0])) if row else None


def verdict(family: Family, outcome: object, frame: pl.DataFrame, labels: np.ndarray) -> Floor:
    """A training run's verdict: :func:`assess` when a model was trained, else
    :func:`cold_start`.

    Args:
        family: the family (as configured for the source).
        outcome: what :func:`models.common.training.train` returned.
        frame: every training row's features.
        labels: their labels.

    Returns:
        The verdict.
    """
    if outcome.trained:
        return assess(family, outcome, frame[outcome.split.test])
    return cold_start(family, frame, labels, outcome.gate.reason)
