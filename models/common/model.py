"""The model a family publishes: features → LightGBM (or a logistic regression) → calibrated probability.

:class:`ScoringModel` holds everything scoring needs and nothing else: the
feature layout (with the categories seen in training, so a new category at
scoring time is treated as missing rather than misread), the booster, and the
calibrator fitted on out-of-sample scores of the fitted rows (cross-fitted training
scores and the validation scores, :mod:`models.common.training`). Its ``contributions`` are LightGBM's
own per-row SHAP values (``pred_contrib``), which the reasons are built from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd
import polars as pl
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

MAX_CATEGORIES = 50
# Small trees, slow learning: once the training rows weigh each entity once (fewer
# effective rows) and the logistic regression is a careful one, 7 leaves at rate 0.03 with
# half the features per tree rank clearly better on the synthetic CRM than 15 leaves at
# 0.1 (test ROC AUC, leads 0.870 -> 0.885, churn 0.944 -> 0.955). Per-row explanations
# (TreeSHAP) cost grows with trees x leaves; shallower trees keep that in hand.
LGBM_PARAMS = {
    "objective": "binary",
    "learning_rate": 0.03,
    "num_leaves": 7,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.5,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_cat_to_onehot": 8,
    "cat_smooth": 20,
    "num_threads": 2,
    "seed": 42,
    "deterministic": True,
    "force_col_wise": True,
    "verbose": -1,
}
MAX_ROUNDS = 3000
EARLY_STOPPING = 100
# Folds of the calibration method's cross-validated comparison, and of the cross-fitted
# scores of the training rows the calibrator is fitted on (models.common.training).
CALIBRATION_FOLDS = 5


@dataclass
class FeatureLayout:
    """Which columns a model reads, and how: numbers as floats, text as fixed categories."""

    numeric: list[str]
    categorical: list[str]
    categories: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def fit(cls, frame: pl.DataFrame, numeric: list[str], categorical: list[str]) -> FeatureLayout:
        """Keep the most frequent categories of each text column (rarer ones read as missing)."""
        numeric = [c for c in numeric if c in frame.columns]
        categorical = [c for c in categorical if c in frame.columns]
        categories = {}
        for column in categorical:
            counts = frame[column].cast(pl.String).drop_nulls().value_counts(sort=True)
            categories[column] = sorted(counts[column].head(MAX_CATEGORIES).to_list())
        return cls(numeric, categorical, categories)

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def matrix(self, frame: pl.DataFrame) -> pd.DataFrame:
        """The model's input: floats and pandas categoricals, in a fixed column order.

        A column the frame lacks (a custom attribute dropped since training) is missing.
        """
        data = {}
        for column in self.numeric:
            if column in frame.columns:
                data[column] = frame[column].cast(pl.Float64).to_numpy()
            else:
                data[column] = np.full(frame.height, np.nan)
        for column in self.categorical:
            values = (
                frame[column].cast(pl.String).to_list()
                if column in frame.columns
                else [None] * frame.height
            )
            data[column] = pd.Categorical(values, categories=self.categories[column])
        return pd.DataFrame(data, columns=self.columns)


@dataclass
class Calibrator:
    """Maps LightGBM's raw probability onto observed rates (isotonic, or Platt when data is thin)."""

    method: str
    isotonic: IsotonicRegression | None = None
    platt: LogisticRegression | None = None

    @classmethod
    def fit(
        cls,
        raw: np.ndarray,
        y: np.ndarray,
        weight: np.ndarray | None = None,
        method: str | None = None,
    ) -> Calibrator:
        """Fit ``method`` ("isotonic" or "platt"); by default isotonic with enough of each
        class (:func:`isotonic_allowed`), else Platt. ``weight`` per row (default 1)."""
        method = method or ("isotonic" if isotonic_allowed(y) else "platt")
        if method == "isotonic":
            iso = IsotonicRegression(out_of_bounds="clip", y_min=1e-4, y_max=1 - 1e-4)
            iso.fit(raw, y, sample_weight=weight)
            return cls("isotonic", isotonic=iso)
        platt = LogisticRegression()
        platt.fit(_logit(raw).reshape(-1, 1), y, sample_weight=weight)
        return cls("platt", platt=platt)

    @classmethod
    def choose(
        cls, raw: np.ndarray, y: np.ndarray, weight: np.ndarray, groups: np.ndarray
    ) -> Calibrator:
        """The calibrator of the lower cross-validated log loss, Platt or isotonic, fitted
        on all the rows (isotonic only where :func:`isotonic_allowed`; a step function on
        few positives fits their noise, which the held-out folds show).

        Args:
            raw: Out-of-sample raw scores (each row scored by a model that did not fit it).
            y: Their labels.
            weight: Their weights.
            groups: Their entities: the folds keep an entity's rows together.
        """
        if not isotonic_allowed(y):
            return cls.fit(raw, y, weight, "platt")
        folds = GroupKFold(min(CALIBRATION_FOLDS, len(np.unique(groups))))
        loss = {"platt": 0.0, "isotonic": 0.0}
        for fit, held in folds.split(raw, y, groups):
            if len(np.unique(y[fit])) < 2:
                return cls.fit(raw, y, weight, "platt")
            for method in loss:
                p = cls.fit(raw[fit], y[fit], weight[fit], method)(raw[held])
                p = np.clip(p, 1e-6, 1 - 1e-6)
                loss[method] -= np.sum(
                    weight[held] * (y[held] * np.log(p) + (1 - y[held]) * np.log(1 - p))
                )
        return cls.fit(raw, y, weight, min(loss, key=loss.get))

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        if self.isotonic is not None:
            return self.isotonic.predict(raw)
        return self.platt.predict_proba(_logit(raw).reshape(-1, 1))[:, 1]


def isotonic_allowed(y: np.ndarray) -> bool:
    """Whether there are rows enough, and of each class, for an isotonic calibration."""
    positives = int(np.sum(y))
    return len(y) >= 1000 and positives >= 50 and len(y) - positives >= 50


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


@dataclass
class LinearModel:
    """A fitted logistic-regression pipeline, with what exact per-row contributions need.

    For a linear model in log-odds, the contribution of a transformed column is
    ``coef × (x − mean over the training rows)``; the columns a feature expands into
    (its one-hot columns, its missing-value indicator) are summed back onto it.
    """

    pipeline: Pipeline
    background: np.ndarray  # mean of each transformed column over the training rows
    owners: np.ndarray  # index into layout.columns of each transformed column

    @classmethod
    def fit(
        cls,
        layout: FeatureLayout,
        frame: pl.DataFrame,
        y: np.ndarray,
        weight: np.ndarray | None = None,
    ) -> LinearModel:
        pipeline = logistic_regression(layout)
        pipeline.fit(linear_input(layout, frame), y, model__sample_weight=weight)
        transformed = pipeline[:-1].transform(linear_input(layout, frame))
        names = pipeline[:-1].get_feature_names_out()
        owners = np.array([_owner(name, layout) for name in names])
        return cls(pipeline, np.asarray(transformed.mean(axis=0)).ravel(), owners)

    def probability(self, layout: FeatureLayout, frame: pl.DataFrame) -> np.ndarray:
        return self.pipeline.predict_proba(linear_input(layout, frame))[:, 1]

    def contributions(self, layout: FeatureLayout, frame: pl.DataFrame) -> np.ndarray:
        transformed = np.asarray(self.pipeline[:-1].transform(linear_input(layout, frame)))
        coef = self.pipeline[-1].coef_[0]
        per_column = (transformed - self.background) * coef
        out = np.zeros((frame.height, len(layout.columns) + 1))
        np.add.at(out.T, self.owners, per_column.T)
        out[:, -1] = self.pipeline[-1].intercept_[0] + self.background @ coef
        return out


def _owner(transformed_name: str, layout: FeatureLayout) -> int:
    """The feature a transformed column comes from (``num__x``, ``num__missingindicator_x``,
    ``cat__x_value``)."""
    block, _, rest = transformed_name.partition("__")
    if block == "num":
        feature = rest.removeprefix("missingindicator_")
        return layout.columns.index(feature)
    matches = [c for c in layout.categorical if rest.startswith(c + "_")]
    return layout.columns.index(max(matches, key=len))


def logistic_regression(layout: FeatureLayout) -> Pipeline:
    """The linear baseline, as a careful analyst builds one: median imputation with a
    missing-value indicator, a signed log only for the heavy-tailed columns (counts and
    amounts; a tenure or a price stays linear), standardisation, and a one-hot of each
    category with the rare ones grouped into one "other" column."""
    numeric = Pipeline(
        [
            (
                "impute",
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            ),
            ("log", HeavyTailLog()),
            ("scale", StandardScaler()),
        ]
    )
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            ("onehot", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20)),
        ]
    )
    columns = ColumnTransformer(
        [("num", numeric, layout.numeric), ("cat", categorical, layout.categorical)],
        sparse_threshold=0.0,
    )
    return Pipeline([("features", columns), ("model", LogisticRegression(max_iter=3000, C=0.5))])


class HeavyTailLog(TransformerMixin, BaseEstimator):
    """A signed log of the columns whose training values are skewed (|skewness| above
    :attr:`skew`): counts and amounts, where a few huge values would dominate a linear
    model; the other columns pass unchanged."""

    def __init__(self, skew: float = 0.5) -> None:
        self.skew = skew

    def fit(self, x: np.ndarray, y: object = None) -> HeavyTailLog:
        x = np.asarray(x, dtype=float)
        centred = x - x.mean(axis=0)
        sd = centred.std(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            skewness = np.where(sd > 0, (centred**3).mean(axis=0) / sd**3, 0.0)
        self.heavy_ = np.abs(skewness) > self.skew
        self.n_features_in_ = x.shape[1]
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        x = np.array(x, dtype=float)
        x[:, self.heavy_] = _signed_log(x[:, self.heavy_])
        return x

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(input_features, dtype=object)


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def linear_input(layout: FeatureLayout, frame: pl.DataFrame) -> pd.DataFrame:
    """The layout's matrix with categoricals as plain objects (what scikit-learn expects)."""
    matrix = layout.matrix(frame)
    for column in layout.categorical:
        matrix[column] = matrix[column].astype(object).where(matrix[column].notna(), None)
    return matrix


@dataclass
class ScoringModel:
    """A trained, calibrated model of one family: LightGBM, or the logistic regression when
    it validated better (see :func:`models.common.training.train`)."""

    family: str
    layout: FeatureLayout
    calibrator: Calibrator
    base_rate: float
    booster: lgb.Booster | None = None
    linear: LinearModel | None = None
    # Effective calibration rows per bin of the calibrated probability: the evidence behind
    # a row's probability (models.common.routing; None in models trained before it was kept).
    evidence: np.ndarray | None = None

    @property
    def kind(self) -> str:
        return "lightgbm" if self.booster is not None else "logistic_regression"

    def raw_probability(self, frame: pl.DataFrame) -> np.ndarray:
        if self.booster is not None:
            return self.booster.predict(self.layout.matrix(frame))
        return self.linear.probability(self.layout, frame)

    def predict_proba(self, frame: pl.DataFrame) -> np.ndarray:
        """Calibrated probability of the positive outcome, per row."""
        return self.calibrator(self.raw_probability(frame))

    def contributions(self, frame: pl.DataFrame) -> np.ndarray:
        """Per-row, per-feature contributions to the raw score (log-odds), last column the bias:
        LightGBM's TreeSHAP (``pred_contrib``), or the linear model's exact terms."""
        if self.booster is not None:
            return self.booster.predict(self.layout.matrix(frame), pred_contrib=True)
        return self.linear.contributions(self.layout, frame)

    def importance(self) -> dict[str, float]:
        if self.booster is not None:
            values = self.booster.feature_importance(importance_type="gain").astype(float)
        else:
            coef = np.abs(self.linear.pipeline[-1].coef_[0])
            values = np.zeros(len(self.layout.columns))
            np.add.at(values, self.linear.owners, coef)
        pairs = zip(self.layout.columns, map(float, values), strict=True)
        return dict(sorted(pairs, key=lambda kv: -kv[1]))


def train_lightgbm(
    layout: FeatureLayout,
    train: pl.DataFrame,
    y_train: np.ndarray,
    valid: pl.DataFrame,
    y_valid: np.ndarray,
    params: dict | None = None,
    weights: tuple[np.ndarray | None, np.ndarray | None] = (None, None),
) -> lgb.Booster:
    """LightGBM with early stopping on the validation set's log loss (``weights``: per-row
    weights of the training and the validation rows)."""
    params = {**LGBM_PARAMS, **(params or {})}
    train_set = lgb.Dataset(
        layout.matrix(train), label=y_train, weight=weights[0], free_raw_data=False
    )
    valid_set = lgb.Dataset(
        layout.matrix(valid), label=y_valid, weight=weights[1], reference=train_set
    )
    return lgb.train(
        params,
        train_set,
        num_boost_round=MAX_ROUNDS,
        valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(EARLY_STOPPING, verbose=False)],
    )


def fit_lightgbm(
    layout: FeatureLayout,
    frame: pl.DataFrame,
    y: np.ndarray,
    weight: np.ndarray | None,
    rounds: int,
    params: dict | None = None,
) -> lgb.Booster:
    """LightGBM with a set number of rounds (the early-stopped model's), no validation."""
    params = {**LGBM_PARAMS, **(params or {})}
    train_set = lgb.Dataset(layout.matrix(frame), label=y, weight=weight)
    return lgb.train(params, train_set, num_boost_round=max(rounds, 1))
