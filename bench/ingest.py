"""Ingest benchmark: events of a synthetic scale, ours next to a raw DuckDB CTAS.

Baseline: ``CREATE TABLE AS SELECT * FROM read_parquet(<the same files>)`` into a
fresh DuckDB file — no validation, no quarantine. Ours: ``ingest_table`` of the
same files with the contract, reference checks, quarantine and reconciliation
on, into a fresh warehouse that holds the contacts the events reference.
Both are measured in the same run, each in its own process (peak memory its own).

    python -m bench.ingest --scale medium
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from bench.common import as_dict, ensure_synthetic, measure, report, save, stage_parser

# Imported here, not in the measured functions: a spawned child imports this module
# before the timer starts, so import time is not counted as load time.
from crmlens.ingest import ingest_table
from crmlens.settings import get_settings
from crmlens.sources.spec import load_spec
from crmlens.warehouse import connect


def raw_ctas(data: str, db: str) -> int:
    con = connect(db)
    con.execute(f"create table events as select * from read_parquet('{data}/events/*.parquet')")
    rows = con.execute("select count(*) from events").fetchall()[0][0]
    con.close()
    return rows


def prepare_contacts(data: str, db: str) -> int:
    con = connect(db)
    result = ingest_table(con, load_spec(Path(data) / "source_spec.yml"), "contacts")
    con.close()
    return result.rows_in


def crmlens_ingest(data: str, db: str) -> tuple[int, dict]:
    con = connect(db)
    result = ingest_table(
        con,
        load_spec(Path(data) / "source_spec.yml"),
        "events",
        chunk_rows=get_settings().ingest_chunk_rows,
    )
    con.close()
    return result.rows_in, {
        "loaded": result.rows_loaded,
        "quarantined": result.rows_quarantined,
        "reconciled": result.reconciles,
    }


def main(scale: str = "medium") -> dict:
    data = ensure_synthetic(scale)
    work = Path(tempfile.mkdtemp(prefix="crmlens-bench-ingest-"))
    try:
        baseline = measure("raw CTAS read_parquet", raw_ctas, str(data), str(work / "raw.duckdb"))
        prepare_contacts(str(data), str(work / "ours.duckdb"))
        ours = measure("crmlens ingest", crmlens_ingest, str(data), str(work / "ours.duckdb"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratio = ours.rows_per_second / baseline.rows_per_second
    rows = [
        (
            m.name,
            f"{m.rows:,}",
            f"{m.seconds:.2f}",
            f"{m.rows_per_second:,.0f}",
            f"{m.peak_rss_mib:,.0f}",
        )
        for m in (baseline, ours)
    ]
    report(
        f"ingest of {scale} events ({ours.extra['quarantined']:,} quarantined, "
        f"reconciled: {ours.extra['reconciled']})",
        rows,
        ("step", "rows", "seconds", "rows/s", "peak MiB"),
    )
    print(
        f"\nthroughput ratio crmlens / raw = {ratio:.2f} (goal >= 0.67); "
        f"peak memory {ours.peak_rss_mib:,.0f} MiB (goal < 2048)"
    )
    payload = {
        "stage": "ingest",
        "scale": scale,
        "baseline": as_dict(baseline),
        "ours": as_dict(ours),
        "ratio": ratio,
    }
    save(f"ingest_{scale}", payload)
    return payload


if __name__ == "__main__":
    parser = stage_parser(__doc__)
    main(parser.parse_args().scale)
