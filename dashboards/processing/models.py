"""The Models page's processing: metrics side by side, score drift between publications,
and the monitoring checks in words."""

from __future__ import annotations

import polars as pl

MODEL_NAMES = {
    "rule_based": "Rule-based (baseline)",
    "logistic_regression": "Logistic regression (baseline)",
    "lightgbm": "LightGBM",
}
METRICS = {
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC",
    "lift_top_decile": "Lift in top 10 %",
    "brier": "Brier (lower is better)",
}
MONITORING_KINDS = {"drift": "Drift (score PSI)", "calibration": "Calibration (ECE)"}
CHECK_STATUS = {"ok": "OK", "warn": "Warning", "block": "Blocked"}
_PSI_EPS = 1e-4  # an empty bin counts as this share, so PSI stays finite


def model_names(frame: pl.DataFrame) -> pl.DataFrame:
    """The ``model`` column in words ('LightGBM', 'Rule-based (baseline)').

    Args:
        frame: rows with a ``model`` code.

    Returns:
        ``frame`` with the model in words.
    """
    return frame.with_columns(pl.col("model").replace(MODEL_NAMES))


def on_test_set(evaluations: pl.DataFrame) -> pl.DataFrame:
    """The candidates' rows of :func:`dashboards.queries.models.evaluations` on the test set.

    Args:
        evaluations: :func:`dashboards.queries.models.evaluations`.

    Returns:
        The test-split rows.
    """
    return evaluations.filter(pl.col("split") == "test")


def metrics_long(evaluations: pl.DataFrame, split: str = "test") -> pl.DataFrame:
    """The candidates' metrics on one split, long.

    Args:
        evaluations: :func:`dashboards.queries.models.evaluations`.
        split: which split.

    Returns:
        ``model``, ``metric`` (in words), ``value``; metrics without a value left out.
    """
    rows = evaluations.filter(pl.col("split") == split)
    if rows.is_empty():
        return pl.DataFrame(schema={"model": pl.String, "metric": pl.String, "value": pl.Float64})
    return (
        rows.unpivot(index="model", on=list(METRICS), variable_name="metric", value_name="value")
        .drop_nulls("value")
        .with_columns(metric=pl.col("metric").replace(METRICS))
    )


def _publications(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per publication, in order, named '2. 2026-11-01 · model v3'."""
    return (
        frame.group_by("run_id")
        .agg(
            scored_at=pl.col("scored_at").min(),
            model_name=pl.col("model_name").first(),
            model_version=pl.col("model_version").first(),
            scoring_path=pl.col("scoring_path").first(),
            first_row=pl.col("first_row").min(),
            rows=pl.col("rows").sum(),
            mean_score=(pl.col("mean_score") * pl.col("rows")).sum() / pl.col("rows").sum(),
        )
        .sort("scored_at", "first_row", "run_id")
        .with_row_index("order")
        .with_columns(
            order=pl.col("order").cast(pl.Int64),
            publication=pl.format(
                "{}. {} · {} {}",  # "2. 2026-11-01 · model v3"
                pl.col("order") + 1,
                pl.col("scored_at").dt.strftime("%Y-%m-%d"),
                pl.when(pl.col("scoring_path") == "rule_based")
                .then(pl.lit("rules"))
                .when(pl.col("scoring_path") == "no_reliable_signal")
                .then(pl.lit("base rate (no signal)"))
                .otherwise(pl.lit("model")),
                pl.when(pl.col("scoring_path") != "model")
                .then(pl.lit(""))
                .otherwise(pl.format("v{}", pl.col("model_version"))),
            ),
        )
    )


def _shares(frame: pl.DataFrame, pubs: pl.DataFrame, by: str) -> pl.DataFrame:
    """Rows per publication and ``by`` (grade or bin), with their share of the publication."""
    return (
        frame.group_by("run_id", by)
        .agg(rows=pl.col("rows").sum())
        .join(pubs.select("run_id", "order", "publication", total="rows"), on="run_id")
        .with_columns(share=pl.col("rows") / pl.col("total"))
    )


def _psi(bins: pl.DataFrame, pubs: pl.DataFrame) -> pl.DataFrame:
    """Each publication's PSI over the ten score bins against the first publication's."""
    base = bins.filter(pl.col("run_id") == pubs["run_id"][0]).select("bin", base="share")
    grid = pubs.select("run_id", "order", "publication").join(
        pl.DataFrame({"bin": list(range(10))}, schema={"bin": bins.schema["bin"]}), how="cross"
    )
    return (
        grid.join(bins.select("run_id", "bin", "share"), on=["run_id", "bin"], how="left")
        .join(base, on="bin", how="left")
        .with_columns(
            p=pl.col("share").fill_null(0.0).clip(_PSI_EPS, 1.0),
            q=pl.col("base").fill_null(0.0).clip(_PSI_EPS, 1.0),
        )
        .group_by("publication", "order")
        .agg(psi=((pl.col("p") - pl.col("q")) * (pl.col("p") / pl.col("q")).log()).sum())
        .join(pubs.select("order", "mean_score", "rows"), on="order")
        .sort("order")
    )


def drift(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per publication: grade shares, and the score distribution's shift (PSI) from the first.

    PSI (population stability index) is taken over ten score bins; :func:`psi_verdict`
    reads it against the settings' thresholds.

    Args:
        frame: :func:`dashboards.queries.models.score_drift`.

    Returns:
        The grade shares (``publication``, ``order``, ``grade``, ``rows``, ``share``) and
        the PSI per publication (``publication``, ``order``, ``psi``, ``mean_score``,
        ``rows``), both in publication order.
    """
    empty_grades = pl.DataFrame(
        schema={"publication": pl.String, "order": pl.Int64, "grade": pl.String,
                "rows": pl.Int64, "share": pl.Float64}
    )  # fmt: skip
    if frame.is_empty():
        return empty_grades, pl.DataFrame(
            schema={"publication": pl.String, "order": pl.Int64, "psi": pl.Float64}
        )
    pubs = _publications(frame)
    grades = (
        _shares(frame, pubs, "grade")
        .with_columns(rows=pl.col("rows").cast(pl.Int64))
        .select("publication", "order", "grade", "rows", "share")
        .sort("order", "grade")
    )
    return grades, _psi(_shares(frame, pubs, "bin"), pubs)


def psi_verdict(value: float | None, warn: float, block: float) -> str:
    """A PSI in a word.

    Args:
        value: the PSI; None for none.
        warn: the PSI from which scores are "moving" (settings ``drift_warn_psi``).
        block: the PSI from which they have "shifted" (settings ``drift_block_psi``).

    Returns:
        'stable', 'moving', 'shifted', or '–' for none.
    """
    if value is None:
        return "–"
    if value < warn:
        return "stable"
    if value < block:
        return "moving"
    return "shifted"


def monitoring_labels(frame: pl.DataFrame, families: dict[str, str]) -> pl.DataFrame:
    """Family, kind and status of monitoring checks in words.

    Args:
        frame: :func:`dashboards.queries.models.model_monitoring`.
        families: family code → name.

    Returns:
        ``frame`` with ``family_label``, ``kind_label`` and ``status_label``.
    """
    return frame.with_columns(
        family_label=pl.col("family").replace(families),
        kind_label=pl.col("kind").replace(MONITORING_KINDS),
        status_label=pl.col("status").replace(CHECK_STATUS),
    )


def monitoring_limits(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    """The thresholds the latest check of ``kind`` applied, one row per level.

    Args:
        frame: :func:`dashboards.queries.models.model_monitoring`.
        kind: drift or calibration.

    Returns:
        ``level`` (warn, block), ``value``; only the levels the check has.
    """
    checks = frame.filter(pl.col("kind") == kind)
    if checks.is_empty():
        return pl.DataFrame(schema={"level": pl.String, "value": pl.Float64})
    last = checks.sort("checked_at").row(-1, named=True)
    limits = [("warn", last["warn_at"]), ("block", last["block_at"])]
    return pl.DataFrame(
        [(level, float(value)) for level, value in limits if value is not None],
        schema={"level": pl.String, "value": pl.Float64},
        orient="row",
    )


def monitoring_latest(frame: pl.DataFrame) -> pl.DataFrame:
    """The latest check per family and kind, with why in words.

    Drift says why itself (``reasons``: what crossed which threshold, or "stable");
    calibration's is its error against the allowed one.

    Args:
        frame: :func:`dashboards.queries.models.model_monitoring`.

    Returns:
        One row per family and kind, with ``why``.
    """
    if frame.is_empty():
        return frame.with_columns(why=pl.lit(None, pl.String))
    latest = frame.sort("checked_at").group_by("family", "kind").last()
    ece = pl.format(
        "ECE {} (warning above {}) on {} matured rows",
        pl.col("value").round(3).cast(pl.String).str.pad_end(5, "0"),  # 0.09 → 0.090
        pl.col("warn_at"),
        pl.col("rows").cast(pl.String).fill_null("?"),
    )
    return latest.with_columns(
        why=pl.when(pl.col("kind") == "drift")
        .then(pl.col("reasons"))
        .when(pl.col("kind") == "calibration")
        .then(ece)
        .otherwise(pl.col("reasons"))
    ).sort("family", "kind")


def backtest_long(windows: pl.DataFrame) -> pl.DataFrame:
    """The replay's ROC AUC per window, published scores and rule score as two series.

    Args:
        windows: :func:`dashboards.queries.models.backtest`.

    Returns:
        ``start``, ``rows``, ``scores`` (in words), ``roc_auc``; windows with one class only
        (no AUC) are left out.
    """
    series = {"roc_auc": "published scores", "rule_roc_auc": "rule score"}
    return (
        windows.unpivot(index=["start", "rows"], on=list(series), variable_name="scores")
        .rename({"value": "roc_auc"})
        .with_columns(pl.col("scores").replace_strict(series))
        .drop_nulls("roc_auc")
    )
