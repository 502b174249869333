"""The deals the pipeline forecast reads from the warehouse.

Snapshots of the open deals as the stage history had them at past month starts (for the
slippage kernel, the stage win rates and the backtest), the deals open now with their
calibrated win probability, and the won deals (for closed-to-date and amount imputation).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import duckdb
import polars as pl

from crmlens import sql
from crmlens.contracts import CANONICAL_STAGE_PROBABILITY, OPEN_STAGES
from crmlens.warehouse import table_exists


def snapshot_deals(con: duckdb.DuckDBPyConnection, snapshots: Sequence[date]) -> pl.DataFrame:
    """Deals open at each snapshot (midnight), as the stage history had them then.

    A deal without history rows before the snapshot keeps the mart's current values.

    Args:
        con: Warehouse connection (staging and marts built).
        snapshots: The snapshot dates.

    Returns:
        snapshot, opportunity_id, stage, amount, expected_close_date, product_line and the
        deal's eventual outcome (closed_at, is_won), by snapshot then opportunity_id, then
        the stage's default probability (``stage_probability``, the CRM's vocabulary).
    """
    con.register(
        "_snapshots", pl.DataFrame({"snapshot": list(snapshots)}, schema={"snapshot": pl.Date})
    )
    try:
        frame = con.sql(sql.load("models.forecasting", "deal_snapshots")).pl()
    finally:
        con.unregister("_snapshots")
    probabilities = stage_probabilities(con)
    return frame.with_columns(
        stage_probability=pl.col("stage").replace_strict(
            probabilities, default=None, return_dtype=pl.Float64
        )
    )


def stage_probabilities(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Each open stage's default probability, from the CRM's vocabulary (the canonical
    stages' when the warehouse has none).

    Args:
        con: Warehouse connection.

    Returns:
        Stage label -> probability (0-1).
    """
    if not table_exists(con, "staging", "stg_crm__vocabulary"):
        return {s: CANONICAL_STAGE_PROBABILITY[s] for s in OPEN_STAGES}
    rows = con.sql(sql.load("models.forecasting", "stage_probabilities")).fetchall()
    return {label: float(p) for label, p in rows if p is not None}


def open_deals(con: duckdb.DuckDBPyConnection, today: datetime) -> pl.DataFrame:
    """Deals open at ``today`` as the stage history had them then, with their calibrated win
    probability from ml.opportunity_scores (null where unscored).

    Args:
        con: Warehouse connection.
        today: The data's today.

    Returns:
        :func:`snapshot_deals` at today's date, with ``probability``.
    """
    deals = snapshot_deals(con, [today.date() if isinstance(today, datetime) else today])
    if not table_exists(con, "ml", "opportunity_scores"):
        return deals.with_columns(probability=pl.lit(None, dtype=pl.Float64))
    scores = con.sql(sql.load("models.forecasting", "deal_probabilities")).pl()
    return deals.join(scores, on="opportunity_id", how="left").sort("opportunity_id")


def won_deals(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Won deals: amount, closed_at and product_line."""
    return con.sql(sql.load("models.forecasting", "won_deals")).pl()
