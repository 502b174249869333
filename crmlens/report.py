"""Headline figures of a built warehouse, for the demo's summary and `crmlens report`.

Every figure is a query over the marts (or the ML score tables), kept in
``crmlens/sql/report_*.sql``; nothing here computes business logic of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from crmlens import sql
from crmlens.warehouse import table_exists


@dataclass
class Headlines:
    """The figures of :func:`headlines`; a figure whose mart is missing stays empty."""

    as_of: str | None = None
    open_pipeline: list[tuple[str, int, float]] = field(
        default_factory=list
    )  # stage, deals, amount
    win_rate: tuple[int, int, float] | None = None  # won, closed, rate (last 12 months)
    mrr: dict[str, float] | None = None  # last complete month's bridge
    conversion_by_source: list[tuple[str, int, int, float]] = field(default_factory=list)
    scores: list[tuple[str, int, str, float]] = field(
        default_factory=list
    )  # table, rows, path, mean


SCORE_TABLES = ("lead_scores", "opportunity_scores", "churn_scores")


def headlines(con: duckdb.DuckDBPyConnection) -> Headlines:
    """The headline figures of the warehouse behind ``con``.

    Args:
        con: a connection to the warehouse or its serving snapshot.

    Returns:
        Open pipeline by stage, win rate over the last year, the last complete month's
        MRR bridge, lead conversion by source, and a summary of each score table.
    """
    out = Headlines()
    if table_exists(con, "marts", "fct_pipeline_daily"):
        # The CRM's own stages, in its order (the mart's stage_order).
        rows = con.execute(sql.load("crmlens", "report_open_pipeline")).fetchall()
        out.open_pipeline = [(s, int(n), float(a or 0)) for s, n, a, _ in rows]
        out.as_of = str(rows[0][3]) if rows else None
    if table_exists(con, "marts", "fct_opportunities"):
        won, closed = con.execute(sql.load("crmlens", "report_win_rate")).fetchall()[0]
        out.win_rate = (won, closed, won / closed if closed else 0.0)
    if table_exists(con, "marts", "fct_mrr_monthly"):
        rows = con.execute(sql.load("crmlens", "report_mrr")).fetchall()
        # The newest month is usually still running; show the last complete one.
        if rows:
            month = rows[1] if len(rows) > 1 else rows[0]
            keys = ("start", "new", "expansion", "reactivation", "contraction", "churned", "end")
            out.mrr = {"month": str(month[0])} | {
                k: float(v or 0) for k, v in zip(keys, month[1:], strict=True)
            }
    if table_exists(con, "marts", "fct_funnel"):
        out.conversion_by_source = [
            (source, int(leads), int(opps), opps / leads if leads else 0.0)
            for source, leads, opps in con.execute(
                sql.load("crmlens", "report_conversion_by_source")
            ).fetchall()
        ]
    for table in SCORE_TABLES:
        if table_exists(con, "ml", table):
            rows, path, mean = con.execute(
                sql.load("crmlens", "report_scores"), {"table_name": f"ml.{table}"}
            ).fetchall()[0]
            out.scores.append((table, int(rows), path or "-", float(mean or 0)))
    return out
