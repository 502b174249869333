"""Scoring benchmark: score and explain N leads next to raw LightGBM on the same matrix.

On the medium synthetic CRM: the lead training set is built (timed) and the lead
model trained (timed). Then N feature rows (the training rows resampled, seeded)
are scored three ways, each in its own process (its own peak memory):

- raw ``booster.predict`` on the prepared feature matrix;
- raw ``booster.predict(pred_contrib=True)`` on the same matrix;
- crmlens ``score``: from the feature frame to score-contract rows — matrix,
  prediction, calibration, per-row contributions, reasons in words, grade, band,
  next action.

The ratio is crmlens rows/s over the rows/s of raw predict + pred_contrib (what
crmlens must do at least once per row); the goal is at least 0.5.

    python -m bench.scoring --scale medium --rows 1000000
"""

from __future__ import annotations

import pickle
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

import polars as pl

from bench.common import as_dict, measure, report, save, stage_parser
from bench.transform import dbt, ingested
from crmlens.clock import data_today
from crmlens.warehouse import connect
from features import lead
from models.common.scoring import score
from models.common.training import train
from models.lead_scoring import FAMILY

SEED = 42


def staged(scale: str) -> Path:
    """The scale's ingested warehouse with the dbt models the features read, once."""
    path = ingested(scale).with_name(f"{scale}_staged.duckdb")
    if not path.exists():
        tmp = path.with_suffix(".partial")
        shutil.copy(ingested(scale), tmp)
        dbt(
            tmp,
            tmp.parent / "staging_target",
            "build",
            "--select",
            "path:models/staging",
            "+int_lead_touches",
            "--indirect-selection",
            "cautious",
        )
        tmp.rename(path)
    return path


def prepare(warehouse: str, work: str, rows: int) -> tuple[int, dict]:
    """Build the training set and train (both timed); write the model and N feature rows."""
    con = connect(warehouse)
    started = time.perf_counter()
    features = lead.build(con, lead.training_snapshots(con, data_today(con)))
    build_seconds = time.perf_counter() - started
    con.close()
    frame = features.frame
    started = time.perf_counter()
    outcome = train(FAMILY, features, frame["label"].to_numpy(), frame["as_of"].to_numpy())
    train_seconds = time.perf_counter() - started
    sample = frame.sample(rows, with_replacement=True, seed=SEED)
    sample.write_parquet(Path(work) / "rows.parquet")
    with (Path(work) / "model.pkl").open("wb") as f:
        pickle.dump((outcome.model, features.numeric, features.categorical), f)
    layout = outcome.model.layout
    layout.matrix(sample).to_parquet(Path(work) / "matrix.parquet")
    return frame.height, {
        "training_rows": frame.height,
        "feature_build_s": build_seconds,
        "train_s": train_seconds,
        "boosting_rounds": outcome.params["boosting_rounds"],
        "features": len(layout.columns),
        "selected_model": outcome.model.kind,
        "test_roc_auc_lightgbm": outcome.test_metric("lightgbm", "roc_auc"),
    }


def _model(work: str):
    with (Path(work) / "model.pkl").open("rb") as f:
        return pickle.load(f)


def raw_predict(work: str) -> int:
    import pandas as pd

    model, _, _ = _model(work)
    matrix = pd.read_parquet(Path(work) / "matrix.parquet")
    started = time.perf_counter()
    model.booster.predict(matrix)
    return len(matrix), {"timed_s": time.perf_counter() - started}


def raw_contrib(work: str) -> int:
    import pandas as pd

    model, _, _ = _model(work)
    matrix = pd.read_parquet(Path(work) / "matrix.parquet")
    started = time.perf_counter()
    model.booster.predict(matrix, pred_contrib=True)
    return len(matrix), {"timed_s": time.perf_counter() - started}


def crmlens_score(work: str) -> int:
    from features.common import FeatureSet

    model, numeric, categorical = _model(work)
    frame = pl.read_parquet(Path(work) / "rows.parquet")
    features = FeatureSet(frame, "lead_id", numeric, categorical)
    started = time.perf_counter()
    scored = score(
        FAMILY,
        features,
        model,
        model_version="bench",
        run_id="bench",
        scored_at=datetime(2026, 11, 1),
    )
    return scored.height, {"timed_s": time.perf_counter() - started}


def main(scale: str = "medium", rows: int = 1_000_000) -> dict:
    warehouse = staged(scale)
    work = Path(tempfile.mkdtemp(prefix="crmlens-bench-scoring-"))
    try:
        prep = measure("prepare", prepare, str(warehouse), str(work), rows)
        runs = [
            measure("raw LightGBM predict", raw_predict, str(work)),
            measure("raw LightGBM pred_contrib", raw_contrib, str(work)),
            measure("crmlens score + reasons", crmlens_score, str(work)),
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for m in runs:  # time the work itself, not loading the inputs
        m.seconds = m.extra["timed_s"]
    predict, contrib, ours = runs
    raw_seconds = predict.seconds + contrib.seconds
    ratio = (rows / ours.seconds) / (rows / raw_seconds)
    info = prep.extra
    report(
        f"scoring {rows:,} lead rows ({info['features']} features, {info['boosting_rounds']} trees; "
        f"model trained on {info['training_rows']:,} snapshots)",
        [
            (
                m.name,
                f"{m.rows:,}",
                f"{m.seconds:.1f}",
                f"{m.rows_per_second:,.0f}",
                f"{m.peak_rss_mib:,.0f}",
            )
            for m in runs
        ],
        ("step", "rows", "seconds", "rows/s", "peak MiB"),
    )
    print(
        f"\ntraining set build {info['feature_build_s']:.1f} s, training {info['train_s']:.1f} s "
        f"(peak {prep.peak_rss_mib:,.0f} MiB); crmlens throughput / raw (predict + pred_contrib) = "
        f"{ratio:.2f} (goal >= 0.5)"
    )
    payload = {
        "stage": "scoring",
        "scale": scale,
        "rows": rows,
        "prepare": as_dict(prep),
        "runs": [as_dict(m) for m in runs],
        "ratio": ratio,
    }
    save(f"scoring_{scale}", payload)
    return payload


if __name__ == "__main__":
    parser = stage_parser(__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    main(args.scale, args.rows)
