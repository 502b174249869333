"""Publish benchmark: N lead scores to PostgreSQL, next to a raw COPY of the same rows.

In a fresh database on the local server, in the same run:

- raw: the rows exported to CSV by DuckDB and ``COPY``-ed into an empty table with
  the same columns and primary key (no diff, no history, no log);
- full publish: ``sync`` of the same rows into an empty target (hashing, diff
  state, the COPY, the sync log, one transaction);
- re-publish with 1 % of the scores changed: only those rows travel.

Goals: full publish at least 0.5 of COPY throughput; the 1 % re-publish under 5 %
of the full publish's time.

    python -m bench.publish --rows 1000000
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import duckdb
import polars as pl
import psycopg

from bench.common import report, save
from crmlens.publish.contract import score_table
from crmlens.publish.local import publish_table
from crmlens.publish.postgres import contract_destination, sync
from crmlens.warehouse import connect, replace_table

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def scores(n: int, changed_share: float = 0.0, seed: int = 42) -> pl.DataFrame:
    """N deterministic lead scores; ``changed_share`` of them with a different score."""
    frame = pl.DataFrame({"i": range(n)}).with_columns(
        lead_id=pl.format("L{}", pl.col("i").cast(pl.String).str.zfill(8)),
        score=(pl.col("i") * 7919 % 101).cast(pl.Int64),
    )
    if changed_share:
        changed = (pl.col("i").hash(seed) % 10_000) < int(changed_share * 10_000)
        frame = frame.with_columns(
            score=pl.when(changed).then((pl.col("score") + 1) % 101).otherwise("score")
        )
    return frame.select(
        "lead_id",
        "score",
        probability=pl.col("score") / 100,
        grade=pl.when(pl.col("score") > 70).then(pl.lit("A")).otherwise(pl.lit("C")),
        band=pl.when(pl.col("score") > 70).then(pl.lit("hot")).otherwise(pl.lit("cold")),
        reasons=pl.format(
            '[{{"group":"pricing_view","direction":"up","impact":0.4,"text":"Viewed the pricing page {} times in the last 30 days"}}]',
            pl.col("score") % 7,
        ),
        next_action=pl.lit("Follow up this week"),
        model_name=pl.lit("crmlens-lead-scoring"),
        model_version=pl.lit("7"),
        scoring_path=pl.lit("model"),
        as_of=pl.lit(None, pl.Datetime("us")),
        scored_at=pl.lit(None, pl.Datetime("us")),
        valid_until=pl.lit(None, pl.Datetime("us")),
        run_id=pl.lit("bench"),
    )


def _raw_copy(con: duckdb.DuckDBPyConnection, dsn: str, work: Path) -> float:
    """The raw baseline: DuckDB -> CSV -> COPY into an equivalent empty table; seconds."""
    started = time.perf_counter()
    csv = work / "raw.csv"
    con.execute(f"copy (select * from publish.lead_scores) to '{csv}' (format csv, header false)")
    with psycopg.connect(dsn) as pg:
        pg.execute(
            "create table raw_copy (lead_id text primary key, score bigint, probability double precision, "
            "grade text, band text, reasons jsonb, next_action text, model_name text, model_version text, "
            "scoring_path text, as_of timestamp, scored_at timestamp, valid_until timestamp, run_id text)"
        )
        with (
            pg.cursor() as cur,
            cur.copy("copy raw_copy from stdin with (format csv)") as copy,
            csv.open("rb") as f,
        ):
            while block := f.read(1 << 20):
                copy.write(block)

    return time.perf_counter() - started


def main(rows: int = 1_000_000) -> dict:
    table = score_table("lead_scores")
    work = Path(tempfile.mkdtemp(prefix="crmlens-bench-publish-"))
    db = f"crmlens_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'create database "{db}"')
    dsn = f"host=127.0.0.1 port=5432 user=postgres dbname={db}"
    try:
        con = connect(work / "warehouse.duckdb")
        replace_table(con, "ml", "lead_scores", scores(rows))
        publish_table(con, table)

        raw_s = _raw_copy(con, dsn, work)

        destination = contract_destination(table, "crmlens")
        full = sync(con, table, destination, dsn, "full")

        replace_table(con, "ml", "lead_scores", scores(rows, changed_share=0.01))
        started = time.perf_counter()
        publish_table(con, table)
        local_s = time.perf_counter() - started
        again = sync(con, table, destination, dsn, "again")
        con.close()
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{db}" with (force)')
        shutil.rmtree(work, ignore_errors=True)

    ratio = (rows / full.seconds) / (rows / raw_s)
    share = again.seconds / full.seconds
    report(
        f"publishing {rows:,} lead scores to PostgreSQL",
        [
            (
                "raw COPY (export + COPY into an empty table)",
                f"{rows:,}",
                f"{raw_s:.1f}",
                f"{rows / raw_s:,.0f}",
            ),
            (
                f"full publish (diff, COPY, log; {full.inserted:,} inserted)",
                f"{rows:,}",
                f"{full.seconds:.1f}",
                f"{rows / full.seconds:,.0f}",
            ),
            (
                f"re-publish, 1 % changed ({again.updated:,} updated, {again.unchanged:,} unchanged)",
                f"{again.written:,}",
                f"{again.seconds:.1f}",
                "",
            ),
        ],
        ("step", "rows written", "seconds", "rows/s"),
    )
    print(
        f"\nfull publish / raw COPY throughput = {ratio:.2f} (goal >= 0.5); 1 % re-publish = "
        f"{share:.1%} of the full publish (goal < 5 %); the local publish schema and history "
        f"took a further {local_s:.1f} s"
    )
    payload = {
        "stage": "publish",
        "rows": rows,
        "raw_copy_s": raw_s,
        "full_publish_s": full.seconds,
        "republish_1pct_s": again.seconds,
        "republish_written": again.written,
        "ratio": ratio,
        "republish_share": share,
    }
    save("publish", payload)
    return payload


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    main(parser.parse_args().rows)
