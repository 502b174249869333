"""The entry point: simulate a CRM, write its tables, events and ground truth."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from crmlens.contracts import CONTRACTS
from crmlens.synthetic import (
    campaigns,
    customers,
    deals,
    dirty,
    funnel,
    org,
    tables_customers,
    tables_org,
    tables_sales,
)
from crmlens.synthetic.common import Clock, stream
from crmlens.synthetic.events import EventWriter
from crmlens.synthetic.scales import SCALES, Scale
from crmlens.synthetic.tables import Tables
from crmlens.synthetic.vocab import REGIONS
from crmlens.synthetic.world import World

# The CRM's tables in the order they are written (the order the builders share the
# `tables` random stream in: changing it changes the bytes).
CRM_TABLES: dict[str, Callable[[Tables], pl.DataFrame]] = {
    "teams": tables_org.teams,
    "users": tables_org.users,
    "accounts": tables_org.accounts,
    "contacts": tables_org.contacts,
    "leads": tables_sales.leads,
    "opportunities": tables_sales.opportunities,
    "opportunity_stage_history": tables_sales.opportunity_stage_history,
    "activities": tables_sales.activities,
    "campaigns": tables_sales.campaigns,
    "campaign_members": tables_sales.campaign_members,
    "subscriptions": tables_customers.subscriptions,
    "invoices": tables_customers.invoices,
    "tickets": tables_customers.tickets,
}
Progress = Callable[[str, int, int], None]


@dataclass
class GenerateResult:
    """What :func:`generate` wrote.

    Attributes:
        out_dir: The output folder (``crm/``, ``events/``, ``ground_truth.json``).
        counts: Data rows written per table (defects and duplicates included;
            ``events`` is the total over all day files).
        ground_truth_path: Path of ``ground_truth.json``.
        defects: Number of seeded defect rows, all tables.
        duplicates: Number of duplicate records (accounts and contacts).
        event_files: Number of day files written.
    """

    out_dir: Path
    counts: dict[str, int] = field(default_factory=dict)
    ground_truth_path: Path | None = None
    defects: int = 0
    duplicates: int = 0
    event_files: int = 0


def generate(
    out_dir: Path,
    scale: str = "small",
    seed: int = 42,
    end_date: date = date(2026, 10, 31),
    dirty_rate: float = 0.01,
    events_format: str = "parquet",
    progress: Progress | None = None,
) -> GenerateResult:
    """Generate a synthetic CRM with real causal structure, seeded defects and ground truth.

    The same arguments always give byte-identical files. ``out_dir``'s ``crm/``
    and ``events/`` folders and ``ground_truth.json`` are replaced; nothing else
    in it is touched.

    Args:
        out_dir: Folder to write into (created if missing).
        scale: One of :data:`SCALES` (``tiny``, ``small``, ``medium``, ``large``).
        seed: Seed of every random stream.
        end_date: Last day of history (inclusive).
        dirty_rate: Share of rows per table given a seeded defect (0 for clean data);
            also the share of accounts and contacts duplicated.
        events_format: ``parquet`` or ``jsonl``.
        progress: Called as ``progress(stage, done, total)`` during long stages.

    Returns:
        The output folder, row counts and the ground-truth path.

    Raises:
        ValueError: For an unknown scale or format, or a rate outside [0, 0.2].
    """
    _check_arguments(scale, seed, dirty_rate, events_format)
    if isinstance(end_date, datetime):
        end_date = end_date.date()
    out_dir = Path(out_dir)
    report = progress or (lambda stage, done, total: None)

    sc = SCALES[scale]
    clock = Clock.for_years(end_date, sc.years)
    world = World(seed=seed, scale=sc, clock=clock, regions=REGIONS[: sc.regions])
    _simulate(world, report)

    for sub in ("crm", "events"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
    (out_dir / "crm").mkdir(parents=True, exist_ok=True)
    result = GenerateResult(out_dir=out_dir, ground_truth_path=out_dir / "ground_truth.json")
    tables = Tables(world)
    defects, duplicates = _write_crm(tables, out_dir, dirty_rate, result, report)
    keys = tables.keys
    del tables
    # The CRM is written; only what the events need stays in memory.
    world.activities, world.members, world.history = [], [], {}
    world.invoices, world.tickets = {}, {}

    header = {
        "seed": seed,
        "scale": scale,
        "end_date": end_date.isoformat(),
        "dirty_rate": dirty_rate,
        "events_format": events_format,
    }
    writer = EventWriter(world, keys, out_dir, events_format, dirty_rate)
    _write_events(writer, sc.events, result, defects, duplicates, header, progress)
    return result


def _check_arguments(scale: str, seed: int, dirty_rate: float, events_format: str) -> None:
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    if events_format not in ("parquet", "jsonl"):
        raise ValueError(f"events_format must be 'parquet' or 'jsonl', not {events_format!r}")
    if not 0.0 <= dirty_rate <= 0.2:
        raise ValueError(f"dirty_rate must lie in [0, 0.2], not {dirty_rate}")
    if not 0 <= seed < 2**63:
        raise ValueError(f"seed must be a non-negative integer below 2**63, not {seed}")


def _simulate(world: World, report: Progress) -> None:
    """Run the stages of the simulation in causal order."""
    steps: list[tuple[str, Callable[[], None]]] = [
        ("users", lambda: org.build_users(world)),
        ("accounts", lambda: org.build_companies(world, _base_accounts(world.scale))),
        ("contacts", lambda: org.build_people(world)),
        ("campaigns", lambda: campaigns.build_campaigns(world)),
        ("leads", lambda: funnel.build_leads(world)),
        ("opportunities", lambda: deals.build_deals(world)),
        ("email", lambda: campaigns.build_email_campaigns(world)),
        ("health", lambda: customers.build_health(world)),
        ("subscriptions", lambda: customers.build_subscriptions(world)),
    ]
    for i, (_name, step) in enumerate(steps):
        report("simulate", i, len(steps))
        step()
    report("simulate", len(steps), len(steps))


def _write_events(
    writer: EventWriter,
    events: int,
    result: GenerateResult,
    defects: list[dict],
    duplicates: list[dict],
    header: dict,
    progress: Progress | None,
) -> None:
    """Write the day files, then ground_truth.json with every defect and duplicate.

    Event defects go to a temporary file (there can be millions) and are spliced
    into ground_truth.json, so memory stays bounded.
    """
    out_dir = result.out_dir
    fd, tmp_name = tempfile.mkstemp(prefix="events-defects-", suffix=".jsonl", dir=out_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as tmp:
            n_events, n_event_defects = writer.run(events, tmp, progress)
        result.counts["events"] = n_events
        result.event_files = len(list((out_dir / "events").iterdir()))
        result.defects = len(defects) + n_event_defects
        result.duplicates = len(duplicates)
        _write_ground_truth(result, Path(tmp_name), defects, duplicates, header)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def _base_accounts(sc: Scale) -> int:
    """Accounts in the CRM before lead conversions add new companies' accounts."""
    expected_new = sc.leads * 0.6 * funnel.CONVERSION_RATE
    return max(40, round(sc.accounts - expected_new))


def _write_crm(
    tables: Tables, out_dir: Path, rate: float, result: GenerateResult, report: Progress
) -> tuple[list[dict], list[dict]]:
    world = tables.w
    rng_dup = stream(world.seed, "duplicates")
    end_s = world.clock.start_seconds + world.clock.days * 86_400
    defects: list[dict] = []
    duplicates: list[dict] = []
    for i, (table, build) in enumerate(CRM_TABLES.items()):
        report("write", i, len(CRM_TABLES))
        df = build(tables)
        eligible = _defect_eligible(tables, table, df)
        if table in ("accounts", "contacts"):
            dup = dirty.duplicate_accounts if table == "accounts" else dirty.duplicate_contacts
            # Originals are never defect rows, so each duplicate pair is clean.
            pool = eligible.copy()
            take = stream(world.seed, f"dup_split_{table}").random(df.height) < 0.5
            eligible &= take
            df, recs = dup(df, pool & ~take, rate, rng_dup, end_s)
            duplicates += recs
            eligible = np.r_[eligible, np.zeros(df.height - len(eligible), dtype=bool)]
        strings = dirty.to_strings(df)
        key_cols = CONTRACTS[table].key
        rng = stream(world.seed, f"defects_{table}")
        strings, recs, unparseable = dirty.inject(table, strings, key_cols, eligible, rate, rng)
        defects += recs
        (out_dir / "crm" / f"{table}.csv").write_bytes(dirty.csv_bytes(strings, unparseable))
        result.counts[table] = strings.height
    report("write", len(CRM_TABLES), len(CRM_TABLES))
    return defects, duplicates


def _defect_eligible(tables: Tables, table: str, df: pl.DataFrame) -> np.ndarray:
    """Rows a defect may go into: rows nothing else needs for its own validity."""
    if table == "accounts":
        with_deals = tables.keys["accounts"][tables.w.opps["company"]]
        has_deal = df["account_id"].is_in(pl.Series(with_deals, dtype=pl.Utf8)).to_numpy()
        return (df["account_type"] == "prospect").to_numpy() & ~has_deal
    if table == "leads":
        return (df["status"] != "converted").to_numpy()
    if table == "opportunities":
        return (~df["is_won"].fill_null(False)).to_numpy()
    if table == "subscriptions":
        return (df["status"] != "active").to_numpy()
    return np.ones(df.height, dtype=bool)


def _write_ground_truth(
    result: GenerateResult,
    event_defects: Path,
    defects: list[dict],
    duplicates: list[dict],
    header: dict,
) -> None:
    """Write ground_truth.json, streaming the event defects in from their temp file."""
    path = result.ground_truth_path
    assert path is not None
    tmp = path.with_suffix(".json.tmp")
    with tmp.open("w", encoding="utf-8") as out:
        out.write("{\n")
        for k, v in header.items():
            out.write(f"  {json.dumps(k)}: {json.dumps(v)},\n")
        out.write(f'  "counts": {json.dumps(result.counts)},\n')
        out.write('  "defects": [')
        first = True
        for rec in defects:
            out.write(("\n    " if first else ",\n    ") + json.dumps(rec, separators=(",", ":")))
            first = False
        with event_defects.open(encoding="utf-8") as lines:
            for line in lines:
                line = line.strip()
                if line:
                    out.write(("\n    " if first else ",\n    ") + line)
                    first = False
        out.write("\n  ],\n")
        out.write('  "duplicates": [')
        out.write(",".join("\n    " + json.dumps(d, separators=(",", ":")) for d in duplicates))
        out.write("\n  ]\n}\n")
    tmp.replace(path)


__all__ = ["SCALES", "GenerateResult", "generate"]
