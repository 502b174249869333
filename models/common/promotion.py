"""Champion / challenger: a challenger is promoted only if it beats the champion.

Both are evaluated on the same rows: the challenger's test set, which is the
latest holdout (snapshots from the challenger's ``test_start`` on). The
challenger must raise ROC AUC by at least ``AUC_MARGIN`` and must not be worse
calibrated: its ECE at most ``ECE_TOLERANCE`` above the champion's, or under
``ECE_ACCEPTABLE`` (a base-rate model is perfectly calibrated and useless; it must
not block a good one on calibration alone). With no champion
yet, the first challenger is promoted.

Before any of that, the promotion floor (:mod:`models.common.floor`): a challenger
whose test AUC interval includes 0.5, or that beats neither the rule nor the base rate
on log loss or Brier, replaces nothing and publishes nothing, champion or not; the
decision then says "no reliable signal in this data".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from models.common.floor import Floor
from models.common.metrics import evaluate
from models.common.model import ScoringModel

AUC_MARGIN = 0.005
ECE_TOLERANCE = 0.005
# Calibration this good counts as calibrated whatever the champion's: a useless model that
# predicts the base rate is perfectly calibrated, and must not block a real one.
ECE_ACCEPTABLE = 0.03


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str
    challenger_version: str | None
    champion_version: str | None
    challenger_auc: float | None = None
    champion_auc: float | None = None
    challenger_ece: float | None = None
    champion_ece: float | None = None
    holdout_rows: int = 0
    floor: Floor | None = None

    def metadata(self) -> dict[str, object]:
        floor = self.floor.metadata() if self.floor is not None else {}
        return floor | {
            "promote": self.promote,
            "reason": self.reason,
            "challenger_version": self.challenger_version,
            "champion_version": self.champion_version,
            "challenger_auc": self.challenger_auc,
            "champion_auc": self.champion_auc,
            "challenger_ece": self.challenger_ece,
            "champion_ece": self.champion_ece,
            "auc_margin_required": AUC_MARGIN,
            "ece_tolerance": ECE_TOLERANCE,
            "ece_acceptable": ECE_ACCEPTABLE,
            "holdout_rows": self.holdout_rows,
        }


def decide(
    challenger: tuple[ScoringModel, str] | None,
    champion: tuple[ScoringModel, str] | None,
    holdout: pl.DataFrame,
    labels: np.ndarray,
    floor: Floor | None = None,
) -> Decision:
    """Compare on the same holdout rows; see the module docstring for the rule.

    Args:
        challenger: The challenger model and its version (None on the rule path).
        champion: The champion model and its version (None before the first promotion).
        holdout: The feature rows both are judged on.
        labels: Their outcomes.
        floor: The challenger's verdict from training (:func:`models.common.floor.assess`):
            one that did not pass blocks the promotion whatever the champion.

    Returns:
        Whether to promote, why, and the figures the decision rests on.
    """
    if challenger is None or (floor is not None and not floor.passed):
        return _floored(challenger, champion, floor, len(labels))
    challenger_model, challenger_version = challenger
    if champion is None:
        said = f" ({floor.reason})" if floor is not None else ""
        return Decision(
            True,
            f"no champion yet: the first model is promoted{said}",
            challenger_version,
            None,
            floor=floor,
        )
    champion_model, champion_version = champion
    if champion_version == challenger_version:
        return Decision(
            True,
            "the challenger already is the champion",
            challenger_version,
            champion_version,
            floor=floor,
        )
    new = evaluate(labels, challenger_model.predict_proba(holdout))
    old = evaluate(labels, champion_model.predict_proba(holdout))
    better_auc = new["roc_auc"] >= old["roc_auc"] + AUC_MARGIN
    calibrated = new["ece"] <= max(old["ece"] + ECE_TOLERANCE, ECE_ACCEPTABLE)
    if better_auc and calibrated:
        reason = (
            f"AUC {new['roc_auc']:.4f} >= {old['roc_auc']:.4f} + {AUC_MARGIN} and "
            f"ECE {new['ece']:.4f} <= {old['ece']:.4f} + {ECE_TOLERANCE}"
        )
    elif not better_auc:
        reason = f"AUC {new['roc_auc']:.4f} does not beat {old['roc_auc']:.4f} by {AUC_MARGIN}"
    else:
        reason = (
            f"ECE {new['ece']:.4f} is worse than {old['ece']:.4f} + {ECE_TOLERANCE} "
            f"and above {ECE_ACCEPTABLE}"
        )
    return Decision(
        better_auc and calibrated,
        reason,
        challenger_version,
        champion_version,
        new["roc_auc"],
        old["roc_auc"],
        new["ece"],
        old["ece"],
        len(labels),
        floor,
    )


def _floored(
    challenger: tuple[ScoringModel, str] | None,
    champion: tuple[ScoringModel, str] | None,
    floor: Floor | None,
    rows: int,
) -> Decision:
    """No challenger (the rule-based path: nothing to promote), or one below the floor."""
    old = champion[1] if champion else None
    if challenger is None:
        said = floor.reason if floor is not None else "rule-based path"
        return Decision(True, f"no challenger ({said}): nothing to promote", None, old, floor=floor)
    auc = floor.auc if floor is not None else None
    reason = floor.reason if floor is not None else ""
    return Decision(
        False, reason, challenger[1], old, challenger_auc=auc, holdout_rows=rows, floor=floor
    )
