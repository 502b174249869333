"""Population stability: has what a model sees today moved away from what it learned on?

The population stability index (PSI) of a variable between a reference sample (the
training set) and a current one (today's scoring population), over bins fixed on the
reference::

    PSI = Σ_bins (current_share − reference_share) × ln(current_share / reference_share)

Numeric variables use the reference's deciles (ties merged), plus a bin for missing
values; categorical ones their categories (the 20 most frequent, the rest pooled).
Empty bins get a share of 1e-4 so a category that appears or vanishes counts heavily
but finitely. The usual reading: below 0.1 stable, 0.1–0.25 a shift worth a look,
above 0.25 a different population.

:func:`assess` turns the figures into a verdict with the thresholds of
:class:`Thresholds`: the score's PSI, a collapsed score distribution, and the
importance-weighted PSI of the features (so a drifting feature the model barely uses
does not block a publication, one it leans on does).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from crmlens.settings import Settings, get_settings

EPSILON = 1e-4
TOP_CATEGORIES = 20


@dataclass(frozen=True)
class Thresholds:
    """When drift warns or blocks.

    The PSI levels and the row minimums are settings (``drift_warn_psi``,
    ``drift_block_psi``, ``drift_min_current_rows``, ``drift_min_reference_rows``): build
    them with :meth:`from_settings`. Below the row minimums drift only warns, because PSI
    over ten bins reads about 9/n too high from sampling alone (0.18 at n = 50).
    """

    warn: float
    block: float
    min_current_rows: int
    min_reference_rows: int
    # A collapsed score: (almost) every row gets the same probability.
    min_score_std: float = 0.005
    max_share_one_score: float = 0.95

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        """The thresholds the settings set.

        Args:
            settings: Where the PSI levels and row minimums come from.

        Returns:
            The thresholds, with this module's collapse limits.
        """
        return cls(
            warn=settings.drift_warn_psi,
            block=settings.drift_block_psi,
            min_current_rows=settings.drift_min_current_rows,
            min_reference_rows=settings.drift_min_reference_rows,
        )


def _psi(reference: np.ndarray, current: np.ndarray) -> float:
    ref = np.clip(reference, EPSILON, None)
    cur = np.clip(current, EPSILON, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def _shares(codes: np.ndarray, n_bins: int) -> np.ndarray:
    counts = np.bincount(codes, minlength=n_bins).astype(float)
    total = counts.sum()
    return counts / total if total else counts


def psi_numeric(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """PSI of a numeric variable over the reference's quantile bins (NaN is its own bin)."""
    reference = np.asarray(reference, dtype=float)
    current = np.asarray(current, dtype=float)
    finite = reference[~np.isnan(reference)]
    if finite.size == 0 or current.size == 0:
        return 0.0
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))

    def codes(x: np.ndarray) -> np.ndarray:
        out = np.searchsorted(edges, x, side="right")
        out[np.isnan(x)] = len(edges) + 1
        return out

    n_bins = len(edges) + 2
    return _psi(_shares(codes(reference), n_bins), _shares(codes(current), n_bins))


def psi_categorical(reference: pl.Series, current: pl.Series, top: int = TOP_CATEGORIES) -> float:
    """PSI of a categorical variable; categories beyond the reference's ``top`` are pooled."""
    ref = reference.cast(pl.String).fill_null("<missing>")
    cur = current.cast(pl.String).fill_null("<missing>")
    if ref.len() == 0 or cur.len() == 0:
        return 0.0
    kept = ref.value_counts(sort=True).head(top)[ref.name].to_list()
    index = {c: i for i, c in enumerate(kept)}
    other = len(kept)

    def codes(s: pl.Series) -> np.ndarray:
        return np.fromiter(
            (index.get(v, other) for v in s.to_list()), dtype=np.int64, count=s.len()
        )

    return _psi(_shares(codes(ref), other + 1), _shares(codes(cur), other + 1))


def feature_psi(
    reference: pl.DataFrame, current: pl.DataFrame, numeric: list[str], categorical: list[str]
) -> dict[str, float]:
    """PSI of every feature present in both frames, highest first."""
    out: dict[str, float] = {}
    for column in numeric:
        if column in reference.columns and column in current.columns:
            out[column] = psi_numeric(
                reference[column].cast(pl.Float64).to_numpy(),
                current[column].cast(pl.Float64).to_numpy(),
            )
    for column in categorical:
        if column in reference.columns and column in current.columns:
            out[column] = psi_categorical(reference[column], current[column])
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


@dataclass
class DriftReport:
    """The verdict on one family's scoring run; ``metadata()`` is what the check shows."""

    status: str  # ok | warn | block
    score_psi: float
    weighted_feature_psi: float
    feature_psi: dict[str, float]
    score_std: float
    top_score_share: float
    reasons: list[str] = field(default_factory=list)
    reference_rows: int = 0
    current_rows: int = 0

    @property
    def blocked(self) -> bool:
        return self.status == "block"

    def metadata(self, thresholds: Thresholds) -> dict:
        return {
            "status": self.status,
            "reasons": "; ".join(self.reasons) or "stable",
            "score_psi": round(self.score_psi, 4),
            "weighted_feature_psi": round(self.weighted_feature_psi, 4),
            "top_feature_psi": {k: round(v, 4) for k, v in list(self.feature_psi.items())[:10]},
            "score_std": round(self.score_std, 4),
            "top_score_share": round(self.top_score_share, 4),
            "warn_threshold": thresholds.warn,
            "block_threshold": thresholds.block,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
        }


def assess(
    reference_scores: np.ndarray,
    current_scores: np.ndarray,
    features: dict[str, float],
    importance: dict[str, float] | None = None,
    thresholds: Thresholds | None = None,
) -> DriftReport:
    """Judge a scoring run against its reference.

    Args:
        reference_scores: Probabilities the model gives the training set.
        current_scores: Probabilities of today's scoring run.
        features: Feature -> PSI (see :func:`feature_psi`).
        importance: Feature -> importance in the model (uniform when None: the rule path).
        thresholds: Warn and block levels (the settings' when None).

    Returns:
        The verdict, with the figures it rests on.
    """
    t = thresholds or Thresholds.from_settings(get_settings())
    reference_scores = np.asarray(reference_scores, dtype=float)
    current_scores = np.asarray(current_scores, dtype=float)
    score_psi = psi_numeric(reference_scores, current_scores)
    weights = {f: max((importance or {}).get(f, 0.0 if importance else 1.0), 0.0) for f in features}
    total = sum(weights.values())
    weighted = sum(features[f] * w for f, w in weights.items()) / total if total else 0.0
    std = float(current_scores.std()) if current_scores.size else 0.0
    top_share = 0.0
    if current_scores.size:
        _, counts = np.unique(np.round(current_scores, 2), return_counts=True)
        top_share = float(counts.max() / current_scores.size)
    reasons, status = [], "ok"
    if current_scores.size and (std < t.min_score_std or top_share > t.max_share_one_score):
        reasons.append(
            f"score distribution collapsed (std {std:.4f}, {top_share:.0%} of rows on one score)"
        )
        status = "block"
    if score_psi >= t.block:
        reasons.append(f"score PSI {score_psi:.3f} ≥ {t.block}")
        status = "block"
    if weighted >= t.block:
        reasons.append(f"importance-weighted feature PSI {weighted:.3f} ≥ {t.block}")
        status = "block"
    too_few = (
        current_scores.size < t.min_current_rows or reference_scores.size < t.min_reference_rows
    )
    if status == "block" and too_few and not any("collapsed" in r for r in reasons):
        reasons.append(
            f"too few rows to block ({current_scores.size} scored, "
            f"{reference_scores.size} in the reference)"
        )
        status = "warn"
    if status == "ok":
        drifting = [f for f, v in features.items() if v >= t.block]
        if score_psi >= t.warn:
            reasons.append(f"score PSI {score_psi:.3f} ≥ {t.warn}")
        if weighted >= t.warn:
            reasons.append(f"importance-weighted feature PSI {weighted:.3f} ≥ {t.warn}")
        if drifting:
            reasons.append(f"features past {t.block}: {', '.join(drifting[:5])}")
        status = "warn" if reasons else "ok"
    return DriftReport(
        status=status,
        score_psi=score_psi,
        weighted_feature_psi=weighted,
        feature_psi=features,
        score_std=std,
        top_score_share=top_share,
        reasons=reasons,
        reference_rows=int(reference_scores.size),
        current_rows=int(current_scores.size),
    )
