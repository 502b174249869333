"""The data scientist's workbench: marts, scores and training sets in one call.

Open it in a notebook::

    from workbench import Workbench
    wb = Workbench()                        # the serving snapshot of ./.crmlens (read-only)
    wb.marts()                              # what there is: schema, table, rows, columns
    leads = wb.read("fct_leads")            # a mart or score table, as polars (pandas=True)
    ts = wb.training_set("lead_scoring")    # point-in-time features and labels
    variant = wb.train_variant("lead_scoring", ts.with_feature(...), name="+ pricing ratio")
    wb.compare_with_champion(variant)       # same holdout, side by side

It reads the serving snapshot, never the warehouse the pipeline writes, so it can
be open while the pipeline runs. Variants train with the same code the pipeline
uses (:func:`models.common.training.train`) and are logged to the family's MLflow
experiment, tagged as variants; they are never registered or promoted from here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl

from crmlens.clock import data_today
from crmlens.serving import open_snapshot
from crmlens.settings import Settings, get_settings
from features.common import FeatureSet
from features.labels import read_label
from models.common.family import Gate
from models.common.metrics import evaluate
from models.common.training import Outcome, train
from models.families import FamilySpec, family

BROWSABLE_SCHEMAS = ("marts", "ml", "publish", "features", "staging", "intermediate")


@dataclass
class TrainingSet:
    """Features, labels and snapshot times of one family, ready for ``train_variant``."""

    spec: FamilySpec
    features: FeatureSet

    @property
    def frame(self) -> pl.DataFrame:
        return self.features.frame

    def with_feature(self, name: str, expr: pl.Expr, categorical: bool = False) -> TrainingSet:
        """A copy with one more feature column computed from the others."""
        frame = self.frame.with_columns(expr.alias(name))
        numeric = self.features.numeric + ([] if categorical else [name])
        cats = self.features.categorical + ([name] if categorical else [])
        exempt = self.features.time_exempt
        features = FeatureSet(frame, self.features.id_column, numeric, cats, exempt)
        return TrainingSet(self.spec, features)

    def without(self, *names: str) -> TrainingSet:
        """A copy without some features (to measure what they bring)."""
        numeric = [c for c in self.features.numeric if c not in names]
        cats = [c for c in self.features.categorical if c not in names]
        exempt = [c for c in self.features.time_exempt if c not in names]
        features = FeatureSet(self.frame, self.features.id_column, numeric, cats, exempt)
        return TrainingSet(self.spec, features)


@dataclass
class Variant:
    name: str
    training_set: TrainingSet
    outcome: Outcome
    mlflow_run_id: str | None


class Workbench:
    def __init__(
        self, settings: Settings | None = None, connection: duckdb.DuckDBPyConnection | None = None
    ):
        self.settings = settings or get_settings()
        self._con = connection

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = open_snapshot(self.settings)
        return self._con

    # --- browsing -----------------------------------------------------------------

    def marts(self) -> pl.DataFrame:
        """Every table and view a data scientist may read: schema, name, rows, columns."""
        tables = self.con.execute(
            "select schema_name, table_name, estimated_size from duckdb_tables() "
            "where schema_name in (select unnest(?))",
            [list(BROWSABLE_SCHEMAS)],
        ).fetchall()
        views = self.con.execute(
            "select schema_name, view_name, null from duckdb_views() "
            "where schema_name in (select unnest(?)) and not internal",
            [list(BROWSABLE_SCHEMAS)],
        ).fetchall()
        columns = dict(
            self.con.execute(
                "select schema_name || '.' || table_name, list(column_name order by column_index) "
                "from duckdb_columns() group by all"
            ).fetchall()
        )
        rows = [(s, t, n, columns.get(f"{s}.{t}", [])) for s, t, n in [*tables, *views]]
        frame = pl.DataFrame(
            rows,
            schema={
                "schema": pl.String,
                "name": pl.String,
                "rows": pl.Int64,
                "columns": pl.List(pl.String),
            },
            orient="row",
        )
        order = {s: i for i, s in enumerate(BROWSABLE_SCHEMAS)}
        return frame.sort(pl.col("schema").replace_strict(order, default=99), "name")

    def columns(self, name: str) -> pl.DataFrame:
        schema, table = self._resolve(name)
        return self.con.sql(
            "select column_name as column, data_type as type, comment as description "
            "from duckdb_columns() where schema_name = ? and table_name = ? order by column_index",
            params=[schema, table],
        ).pl()

    def read(self, name: str, *, pandas: bool = False, where: str | None = None):
        """A mart or score table by name (``fct_leads``, ``marts.fct_leads``, ``lead_scores``)."""
        schema, table = self._resolve(name)
        query = f"select * from {schema}.{table}" + (f" where {where}" if where else "")
        frame = self.con.sql(query).pl()
        return frame.to_pandas() if pandas else frame

    def sql(self, query: str, params: list | None = None) -> pl.DataFrame:
        """Any read-only query on the snapshot, with ? parameters."""
        return self.con.sql(query, params=params).pl() if params else self.con.sql(query).pl()

    def _resolve(self, name: str) -> tuple[str, str]:
        if "." in name:
            schema, table = name.split(".", 1)
            return schema, table
        found = self.con.execute(
            "select schema_name from duckdb_tables() where table_name = ? "
            "union all select schema_name from duckdb_views() where view_name = ?",
            [name, name],
        ).fetchall()
        found = [s for (s,) in found if s in BROWSABLE_SCHEMAS]
        if not found:
            raise KeyError(f"no table or view named {name!r}; see Workbench().marts()")
        return sorted(found, key=BROWSABLE_SCHEMAS.index)[0], name

    # --- modelling ----------------------------------------------------------------

    def training_set(self, family_name: str, today: datetime | None = None) -> TrainingSet:
        """Point-in-time snapshots with labels, built as the pipeline builds them."""
        label = read_label(self.con, family_name)  # the source's definition, as recorded
        spec = family(family_name).configured(label)
        today = today or data_today(self.con, self.settings.as_of)
        snapshots = spec.features.training_snapshots(self.con, today, label=label)
        return TrainingSet(spec, spec.features.build(self.con, snapshots))

    def train_variant(
        self,
        family_name: str,
        training_set: TrainingSet | None = None,
        *,
        name: str,
        skip_gate: bool = False,
        log: bool = True,
        change: Callable[[TrainingSet], TrainingSet] | None = None,
    ) -> Variant:
        """Train with the pipeline's own code and log the run (never registered).

        ``skip_gate`` trains below the cold-start minimum (for small samples in a
        notebook; the pipeline never does).
        """
        ts = training_set or self.training_set(family_name)
        if change is not None:
            ts = change(ts)
        fam = ts.spec.family
        if skip_gate:
            fam = dataclasses.replace(fam, gate=Gate(0, 1, 1))
        frame = ts.frame
        outcome = train(fam, ts.features, frame["label"].to_numpy(), frame["as_of"].to_numpy())
        run_id = None
        if log:
            from models.common import registry

            logged = registry.log_training(
                self.settings,
                fam,
                outcome,
                tags={"variant": name, "source": "workbench"},
                register=False,
                run_name=f"variant: {name}",
            )
            run_id = logged.run_id
        return Variant(name, ts, outcome, run_id)

    def compare_with_champion(self, variant: Variant) -> pl.DataFrame:
        """The variant and the champion on the variant's test rows: one row per model."""
        from models.common import registry

        outcome = variant.outcome
        if not outcome.trained:
            raise ValueError(f"the variant did not train: {outcome.gate.reason}")
        test = variant.training_set.frame[outcome.split.test]
        labels = outcome.test_labels
        rows = [
            {"model": f"variant: {variant.name}"}
            | evaluate(labels, outcome.model.predict_proba(test))
        ]
        champion = registry.load(self.settings, variant.training_set.spec.family)
        if champion is not None:
            model, version = champion
            rows.append(
                {"model": f"champion v{version}"} | evaluate(labels, model.predict_proba(test))
            )
        for baseline in ("rule_based", "logistic_regression"):
            rows.append({"model": baseline} | evaluate(labels, outcome.test_predictions[baseline]))
        return pl.DataFrame(rows).select(
            "model", "roc_auc", "pr_auc", "brier", "ece", "lift_top_decile", "rows"
        )
