"""Headline figures of a built warehouse, for the demo's summary and `crmlens report`.

Every figure is a query over the marts (or the ML score tables); nothing here
computes business logic of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from crmlens.warehouse import table_exists


@dataclass
class Headlines:
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


STAGE_ORDER = ("prospecting", "qualification", "needs_analysis", "proposal", "negotiation")


def headlines(con: duckdb.DuckDBPyConnection) -> Headlines:
    out = Headlines()
    if table_exists(con, "marts", "fct_pipeline_daily"):
        rows = con.execute(
            """
            select stage, open_opportunities, open_amount, day
            from marts.fct_pipeline_daily
            where day = (select max(day) from marts.fct_pipeline_daily)
            """
        ).fetchall()
        rank = {s: i for i, s in enumerate(STAGE_ORDER)}
        out.open_pipeline = sorted(
            [(s, int(n), float(a or 0)) for s, n, a, _ in rows], key=lambda r: rank.get(r[0], 99)
        )
        out.as_of = str(rows[0][3]) if rows else None
    if table_exists(con, "marts", "fct_opportunities"):
        won, closed = con.execute(
            """
            select count(*) filter (where is_won), count(*)
            from marts.fct_opportunities
            where is_closed
              and closed_at >= (select max(closed_at) from marts.fct_opportunities) - interval 365 day
            """
        ).fetchall()[0]
        out.win_rate = (won, closed, won / closed if closed else 0.0)
    if table_exists(con, "marts", "fct_mrr_monthly"):
        rows = con.execute(
            """
            select month, mrr_start, new_mrr, expansion_mrr, reactivation_mrr, contraction_mrr,
                   churned_mrr, mrr_end
            from marts.fct_mrr_monthly
            order by month desc
            limit 2
            """
        ).fetchall()
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
                """
                select source, sum(leads), sum(opportunities)
                from marts.fct_funnel
                group by source
                order by sum(leads) desc
                """
            ).fetchall()
        ]
    for table in ("lead_scores", "opportunity_scores", "churn_scores"):
        if table_exists(con, "ml", table):
            rows, path, mean = con.execute(
                f"select count(*), any_value(scoring_path), avg(score) from ml.{table}"
            ).fetchall()[0]
            out.scores.append((table, int(rows), path or "-", float(mean or 0)))
    return out
