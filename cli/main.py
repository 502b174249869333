"""The ``crmlens`` command line.

Every command reads its paths from the settings (``CRMLENS_*`` environment
variables, defaults under ``./.crmlens/``); options override them. Errors a user
can fix (a bad spec, a missing file, an unreachable database) print one clear
line and exit with status 1, never a stack trace.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from cli import summary
from cli.backtest import backtest
from cli.console import console, err, progress
from cli.errors import friendly_errors
from cli.forecast import forecast
from cli.init import init
from cli.jobs import JOB_NAMES, run_and_report
from cli.model_card import model_card
from cli.publish import publish
from crmlens.settings import PRIVATE_UMASK, Settings, get_settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what each step does.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """crmlens: CRM data in, clean marts, explained scores out.

    Paths come from CRMLENS_* environment variables (default: ./.crmlens/).
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
    os.umask(PRIVATE_UMASK)  # what crmlens writes (CRM data, runs, logs) is the owner's only
    ctx.obj = get_settings()


@main.command()
@click.option(
    "--scale",
    type=click.Choice(["tiny", "small", "medium", "large"]),
    default="small",
    show_default=True,
    help="tiny: tests; small: the demo (~1M events); medium: benchmarks (~10M); large: ~100M.",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Same seed, same bytes.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder [default: CRMLENS_DATA_DIR or .crmlens/data/synthetic].",
)
@click.option(
    "--dirty-rate",
    type=float,
    default=0.01,
    show_default=True,
    help="Share of rows per table given one seeded defect (recorded in ground_truth.json).",
)
@click.option(
    "--end-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default="2026-10-31",
    show_default=True,
    help="Last day of the generated history.",
)
@click.option(
    "--events-format",
    type=click.Choice(["parquet", "jsonl"]),
    default="parquet",
    show_default=True,
    help="File format of the daily event files.",
)
@click.option(
    "--postgres",
    "postgres_dsn",
    default=None,
    metavar="DSN",
    help="Also load the CRM objects into this PostgreSQL database (schema crm).",
)
@click.option(
    "--system",
    default=None,
    metavar="NAME",
    help="With --postgres: load them in the schema of one of the CRM systems crmlens "
    "serves (smb_ai, business_os, crm_module, campaign_crm, erp_crm) instead.",
)
@click.pass_obj
@friendly_errors
def generate(
    settings: Settings,
    scale: str,
    seed: int,
    out: Path | None,
    dirty_rate: float,
    end_date: Any,
    events_format: str,
    postgres_dsn: str | None,
    system: str | None,
) -> None:
    """Write a synthetic CRM export: CSVs, daily event files, its source spec, ground truth."""
    from crmlens.sources import write_synthetic_spec
    from crmlens.synthetic import generate as run_generate

    out = out or settings.data_dir
    started = time.perf_counter()
    with progress() as bar:
        tasks: dict[str, Any] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        result = run_generate(
            out,
            scale=scale,
            seed=seed,
            end_date=end_date.date(),
            dirty_rate=dirty_rate,
            events_format=events_format,
            progress=report,
        )
    spec_path = write_synthetic_spec(out, events_format)
    table = Table(title=f"synthetic CRM ({scale}, seed {seed}) in {out}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in result.counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    console.print(f"source spec: {spec_path}\nground truth: {result.ground_truth_path}")
    if system and not postgres_dsn:
        raise click.UsageError("--system needs --postgres DSN")
    if postgres_dsn and system:
        from crmlens.sources.postgres import describe_dsn
        from crmlens.systems import load_system
        from crmlens.systems import system as find_system

        fixture = find_system(system)
        counts = load_system(out, postgres_dsn, system)
        console.print(
            f"loaded {sum(counts.values()):,} rows into {describe_dsn(postgres_dsn)} in the "
            f"schema of {fixture.title} ({len(counts)} tables); read it with --spec "
            f"{fixture.spec}, publish with CRMLENS_PUBLISH_MAPPING={fixture.mapping}"
        )
    elif postgres_dsn:
        from crmlens.sources.postgres import describe_dsn, load_operational_crm

        counts = load_operational_crm(out, postgres_dsn)
        console.print(
            f"loaded {sum(counts.values()):,} rows into {describe_dsn(postgres_dsn)} (schema crm)"
        )
    console.print(f"done in {time.perf_counter() - started:.1f} s")


@main.command()
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Source spec [default: CRMLENS_SOURCE_SPEC, else the synthetic CRM's].",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder the spec's paths are relative to [default: the spec's folder].",
)
@click.option(
    "--table",
    "tables",
    multiple=True,
    help="Only these canonical tables (repeatable) [default: every table the spec provides].",
)
@click.option(
    "--days",
    default=None,
    metavar="FROM:TO",
    help="Day-partitioned tables (events): reload only these days, e.g. 2026-10-01:2026-10-31.",
)
@click.pass_obj
@friendly_errors
def ingest(
    settings: Settings,
    spec_path: Path | None,
    root: Path | None,
    tables: tuple[str, ...],
    days: str | None,
) -> None:
    """Validate source rows and load them into raw.* (bad rows into quarantine.*)."""
    from crmlens.contracts import TABLES, contract
    from crmlens.ingest import ingest_table
    from crmlens.ingest.context import ingest_context
    from crmlens.runlock import run_lock
    from crmlens.serving import refresh_snapshot
    from crmlens.sources import load_source
    from crmlens.warehouse import session

    day_list = _parse_days(days)  # options first: a typo fails before anything is read
    for name in tables:
        contract(name)
    settings = _with_source(settings, spec_path, root)
    spec = load_source(settings)
    _adopt_source(settings, spec.name)
    chosen = [t for t in TABLES if (not tables or t in tables)]
    results = []
    with run_lock(settings.warehouse_path, f"crmlens ingest --spec {settings.source_spec}"):
        with session(settings.warehouse_path) as con:
            for name in chosen:
                results.append(
                    ingest_table(
                        con,
                        spec,
                        name,
                        days=day_list if contract(name).partition_column else None,
                        tolerance=settings.future_tolerance,
                        chunk_rows=settings.ingest_chunk_rows,
                    )
                )
            context = ingest_context(con, spec) if not tables else None
        refresh_snapshot(settings)  # `crmlens status` and the dashboards read the snapshot
    summary.print_ingest_results(results, f"ingest of {spec.name} into {settings.warehouse_path}")
    for name, rows in (context.rows if context else {}).items():
        click.echo(f"context series {name}: {rows} dates")


@main.command()
@click.pass_obj
@friendly_errors
def status(settings: Settings) -> None:
    """The whole pipeline: last run of each job, what is loaded and quarantined per table,
    each model family's champion and its test figures, the last publication.

    Reads the serving snapshot (as of the last run or ingest) and Dagster's run history,
    never the warehouse, so it answers while a run writes, and never gets in a run's way.
    """
    from cli.status import show_status

    show_status(settings)


@main.command()
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Source spec, remembered for later commands [default: the remembered one, else "
    "CRMLENS_SOURCE_SPEC, else the synthetic CRM's].",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder the spec's paths are relative to [default: the spec's folder].",
)
@click.option(
    "--job",
    "jobs",
    multiple=True,
    type=click.Choice(JOB_NAMES),
    help="Job(s) to run, in order [default: the whole sequence: daily (ingest, marts, "
    "scores, publish), train and score when a family has no champion or is due, forecast].",
)
@click.option(
    "--days",
    default=None,
    metavar="FROM:TO",
    help="Event days [default: every day with event files, else the last day].",
)
@click.pass_obj
@friendly_errors
def run(
    settings: Settings,
    spec_path: Path | None,
    root: Path | None,
    jobs: tuple[str, ...],
    days: str | None,
) -> None:
    """Run the pipeline on a source, in process (recorded in <home>/dagster for `make dev`).

    `crmlens run --spec my.yml --root exports/` takes a CRM's exports all the way to
    published scores, the forecast and the dashboards' snapshot; later commands remember
    the spec and root.
    """
    from crmlens.runlock import run_lock
    from crmlens.sources import load_source
    from pipelines.partitions import OutsidePartitions, run_window

    day_list = _parse_days(days)
    settings = _with_source(settings, spec_path, root)
    spec = load_source(settings)  # a spec a user can fix fails here, in one line
    if settings.publish_mapping:
        from crmlens.publish.mapping import load_mapping

        load_mapping(settings.publish_mapping)  # so does a publish mapping
    _adopt_source(settings, spec.name)
    if day_list:
        try:
            run_window(settings, (day_list[0], day_list[-1]))
        except OutsidePartitions as exc:
            raise click.BadParameter(str(exc), param_hint="--days") from None
    what = "crmlens run" + (f" --job {','.join(jobs)}" if jobs else "")
    what += f" --days {days}" if days else ""
    with run_lock(settings.warehouse_path, what):
        run_and_report(settings, jobs or None, day_list)


@main.command()
@click.option("--scale", default="small", show_default=True, help="Synthetic CRM size.")
@click.option("--seed", type=int, default=42, show_default=True)
@click.pass_context
@friendly_errors
def demo(ctx: click.Context, scale: str, seed: int) -> None:
    """Generate the synthetic CRM (unless already there) and run the whole pipeline on it."""
    settings: Settings = ctx.obj
    truth = Path(settings.data_dir) / "ground_truth.json"
    if _generated_with(truth, scale, seed):
        console.print(
            f"using the synthetic CRM already in {settings.data_dir} ({scale}, seed {seed})"
        )
    else:
        ctx.invoke(generate, scale=scale, seed=seed, out=settings.data_dir)
    from crmlens.runlock import run_lock
    from crmlens.sources import load_source
    from pipelines.jobs import DEMO_SEQUENCE

    # The demo runs on the synthetic CRM even where another source was remembered.
    settings = _with_source(settings, Path(settings.data_dir) / "source_spec.yml", None)
    _adopt_source(settings, load_source(settings).name)
    with run_lock(settings.warehouse_path, "crmlens demo"):
        run_and_report(settings, DEMO_SEQUENCE, None)
    summary.print_where_to_look(settings)


@main.command()
@click.option("--address", default=None, help="[default: CRMLENS_DASHBOARD_ADDRESS, 127.0.0.1]")
@click.option("--port", type=int, default=None, help="[default: CRMLENS_DASHBOARD_PORT, 8501]")
@click.pass_obj
def dashboard(settings: Settings, address: str | None, port: int | None) -> None:
    """Serve the managers' dashboards (Streamlit) on the serving snapshot.

    Listens on this machine only (127.0.0.1) unless told otherwise: the dashboards have no
    login of their own, so serve a network only behind a reverse proxy that authenticates
    (README, "Dashboards for managers").
    """
    address = address or settings.dashboard_address
    port = port or settings.dashboard_port
    if address not in ("127.0.0.1", "localhost", "::1"):
        err.print(
            f"[bold yellow]warning:[/] serving the dashboards on {address}: anyone who can reach "
            "it sees the data; put an authenticating reverse proxy in front (see the README)",
            soft_wrap=True,
        )
    app = Path(__file__).resolve().parent.parent / "dashboards" / "app.py"
    command = [sys.executable, "-m", "streamlit", "run", str(app)]
    command += ["--server.address", address, "--server.port", str(port)]
    command += ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
    command += ["--client.toolbarMode", "viewer"]
    console.print(f"dashboards on http://{address}:{port} (Ctrl-C stops them)")
    sys.exit(subprocess.call(command))


def _with_source(settings: Settings, spec_path: Path | None, root: Path | None) -> Settings:
    """The settings with the spec and root a command was given (a new spec drops the
    remembered root unless --root comes with it)."""
    if spec_path:
        return settings.model_copy(update={"source_spec": spec_path, "source_root": root})
    if root:
        return settings.model_copy(update={"source_root": root})
    return settings


def _adopt_source(settings: Settings, name: str) -> None:
    """Make this source the home's own (remembered for later commands).

    A home holds one source's data: loading another's into its warehouse would mix two
    CRMs in every mart and model, so that is refused in one line.
    """
    remembered = settings.remembered_source() or {}
    held = remembered.get("name")
    if held and held != name and Path(settings.warehouse_path).exists():
        raise click.UsageError(
            f"{settings.home} holds the data of source '{held}', not '{name}': use another "
            "home (CRMLENS_HOME) for this source, or remove this one (`make clean`)"
        )
    settings.ensure_dirs()
    settings.remember_source(name)


def _generated_with(truth: Path, scale: str, seed: int) -> bool:
    if not truth.exists():
        return False
    meta = json.loads(truth.read_text())
    return meta.get("scale") == scale and meta.get("seed") == seed


def _parse_days(days: str | None) -> list[date] | None:
    if not days:
        return None
    from datetime import timedelta

    try:
        first, _, last = days.partition(":")
        start = date.fromisoformat(first)
        end = date.fromisoformat(last) if last else start
    except ValueError:
        raise click.BadParameter(
            f"{days!r} is not FROM:TO in YYYY-MM-DD", param_hint="--days"
        ) from None
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


main.add_command(backtest)
main.add_command(forecast)
main.add_command(init)
main.add_command(model_card)
main.add_command(publish)

if __name__ == "__main__":
    main()
