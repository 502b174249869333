"""The MLflow pyfunc wrapper of a :class:`ScoringModel` (imports mlflow: import lazily).

``predict`` takes the feature columns as a pandas DataFrame and returns the
calibrated probability, so any MLflow tool can score with it; crmlens itself
unwraps the :class:`ScoringModel` to get per-row contributions for reasons.
"""

from __future__ import annotations

import mlflow.pyfunc
import numpy as np
import pandas as pd
import polars as pl

from models.common.model import ScoringModel


class CrmlensPyfunc(mlflow.pyfunc.PythonModel):
    def __init__(self, model: ScoringModel) -> None:
        self.model = model

    def predict(self, context, model_input: pd.DataFrame, params=None) -> np.ndarray:
        frame = pl.from_pandas(
            model_input.astype(
                {c: "object" for c in self.model.layout.categorical if c in model_input}
            )
        )
        return self.model.predict_proba(frame)
