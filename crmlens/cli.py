"""The ``crmlens`` command line.

Every command reads its paths from the settings (``CRMLENS_*`` environment
variables, defaults under ``./.crmlens/``); options override them. Errors a user
can fix (a bad spec, a missing file, an unreachable database) print one clear
line and exit with status 1, never a stack trace.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from crmlens.settings import Settings, get_settings

# Wide enough for the summary tables when the output is a file or a CI log, not a terminal.
console = Console(width=None if sys.stdout.isatty() else 130)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 130)


def friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors a user can act on into one line on stderr and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from crmlens.ingest import ReconciliationError
        from crmlens.sources.spec import SpecError

        try:
            return fn(*args, **kwargs)
        except (
            SpecError,
            ReconciliationError,
            ConnectionError,
            FileNotFoundError,
            KeyError,
        ) as exc:
            err.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
            sys.exit(1)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what each step does.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """crmlens: CRM data in, clean marts, explained scores out.

    Paths come from CRMLENS_* environment variables (default: ./.crmlens/).
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
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
) -> None:
    """Write a synthetic CRM export: CSVs, daily event files, its source spec, ground truth."""
    from crmlens.sources import write_synthetic_spec
    from crmlens.synthetic import generate as run_generate

    out = out or settings.data_dir
    started = time.perf_counter()
    with _progress() as progress:
        tasks: dict[str, Any] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

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
    if postgres_dsn:
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
    from crmlens.sources import load_source
    from crmlens.warehouse import session

    if spec_path:
        settings = settings.model_copy(update={"source_spec": spec_path, "source_root": root})
    elif root:
        settings = settings.model_copy(update={"source_root": root})
    day_list = _parse_days(days)  # options first: a typo fails before anything is read
    for name in tables:
        contract(name)
    spec = load_source(settings)
    chosen = [t for t in TABLES if (not tables or t in tables)]
    settings.ensure_dirs()
    results = []
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
    _print_results(results, f"ingest of {spec.name} into {settings.warehouse_path}")


@main.command()
@click.pass_obj
@friendly_errors
def status(settings: Settings) -> None:
    """What is loaded and quarantined, per table, and the top quarantine reasons."""
    from crmlens.contracts import TABLES
    from crmlens.warehouse import session, table_exists

    if not Path(settings.warehouse_path).exists():
        raise FileNotFoundError(
            f"no warehouse at {settings.warehouse_path}: run `crmlens ingest` (or `make demo`) first"
        )
    table = Table(title=f"warehouse {settings.warehouse_path}")
    for col, justify in [
        ("table", "left"),
        ("raw rows", "right"),
        ("quarantined", "right"),
        ("top reasons", "left"),
        ("last load", "left"),
    ]:
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    with session(settings.warehouse_path, read_only=True) as con:
        has_log = table_exists(con, "ops", "ingest_log")
        for name in TABLES:
            if not table_exists(con, "raw", name):
                table.add_row(name, "-", "-", "not loaded", "")
                continue
            raw = con.execute(f"select count(*) from raw.{name}").fetchall()[0][0]
            reasons = con.execute(
                f"select reason_code, count(*) n from quarantine.{name} group by 1 order by n desc"
            ).fetchall()
            last = ""
            if has_log:
                rows = con.execute(
                    "select max(started_at) from ops.ingest_log where table_name = ?", [name]
                ).fetchall()
                last = f"{rows[0][0]:%Y-%m-%d %H:%M}" if rows and rows[0][0] else ""
            top = ", ".join(f"{r} {n:,}" for r, n in reasons[:3])
            table.add_row(name, f"{raw:,}", f"{sum(n for _, n in reasons):,}", top, last)
    console.print(table)


@main.command()
@click.option(
    "--job",
    "jobs",
    multiple=True,
    default=("daily",),
    show_default=True,
    help="Dagster job(s) to run, in order: ingest, daily, train, score.",
)
@click.option(
    "--days", default=None, metavar="FROM:TO", help="Event days [default: all with files]."
)
@click.pass_obj
@friendly_errors
def run(settings: Settings, jobs: tuple[str, ...], days: str | None) -> None:
    """Run jobs of the asset graph in process (recorded in .crmlens/dagster for `make dev`)."""
    _run_and_report(settings, jobs, _parse_days(days))


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
    from pipelines.jobs import DEMO_SEQUENCE

    _run_and_report(settings, DEMO_SEQUENCE, None)
    _print_where_to_look(settings)


def _asset_order(key: str) -> tuple[int, str]:
    """Assets in the canonical table order, then the rest alphabetically."""
    from crmlens.contracts import TABLES

    name = key.split("/", 1)[-1]
    return (TABLES.index(name), "") if key.startswith("raw/") and name in TABLES else (99, key)


def _generated_with(truth: Path, scale: str, seed: int) -> bool:
    import json

    if not truth.exists():
        return False
    meta = json.loads(truth.read_text())
    return meta.get("scale") == scale and meta.get("seed") == seed


# Blocking checks whose failure is an outcome, not an error: a challenger not promoted, or
# scores held back by drift (the CRM keeps the previous ones; ops.alerts says why).
HELD_STEPS = ("_promotion", "_drift")


def _run_and_report(settings: Settings, jobs: tuple[str, ...], days: list[date] | None) -> None:
    """Run jobs in order; a promotion the check held back is an outcome, not a failure."""
    from pipelines.run import materialization_metadata, run_job

    window = (days[0], days[-1]) if days else None
    meta: dict = {}
    decisions: dict[str, tuple[bool, str]] = {}
    monitoring: dict[str, str] = {}
    started = time.perf_counter()
    for job_name in jobs:
        log_file = Path(settings.home) / "logs" / f"{job_name}.log"
        console.print(
            f"running job [bold]{job_name}[/] (Dagster, in process; log in {log_file}) ..."
        )
        result = run_job(settings, job_name, days=window, raise_on_error=False, log_file=log_file)
        meta |= materialization_metadata(result)
        for check in result.get_asset_check_evaluations():
            if check.check_name.endswith("_promotion"):
                reason = check.metadata.get("reason")
                decisions[check.check_name.removesuffix("_promotion")] = (
                    check.passed,
                    str(reason.value) if reason else "",
                )
            elif check.check_name.endswith("_drift"):
                status, reasons = check.metadata.get("status"), check.metadata.get("reasons")
                monitoring[check.check_name.removesuffix("_drift")] = (
                    f"{status.value if status else '?'}"
                    + (f": {reasons.value}" if reasons and reasons.value != "stable" else "")
                )
        failed = [
            e.step_key
            for e in result.all_events
            if e.event_type_value == "STEP_FAILURE" and not e.step_key.endswith(HELD_STEPS)
        ]
        if failed:
            raise click.ClickException(
                f"job {job_name}, run {result.run_id[:8]}, failed in {', '.join(failed)}; "
                f"see {log_file} or `make dev` (Runs tab)"
            )
    seconds = time.perf_counter() - started
    _print_ingest(meta, f"{' → '.join(jobs)}: {seconds:.0f} s")
    _print_built(meta)
    _print_models(meta, decisions)
    for family, verdict in sorted(monitoring.items()):
        held = (
            " — scores held back, the CRM keeps the previous ones"
            if verdict.startswith("block")
            else ""
        )
        console.print(f"drift check {family}: {verdict}{held}")
    _print_forecast(meta)
    _print_headlines(settings)


def _print_ingest(meta: dict, title: str) -> None:
    rows = [(k, m) for k, m in meta.items() if "rows_in" in m]
    if not rows:
        return
    table = Table(title=title)
    for col in ("asset", "rows in", "loaded", "quarantined", "reconciled", "top reasons"):
        table.add_column(col, justify="left" if col in ("asset", "top reasons") else "right")
    for key, m in sorted(rows, key=lambda kv: _asset_order(kv[0])):
        reasons = sorted((m.get("quarantine_reasons") or {}).items(), key=lambda kv: -kv[1])
        table.add_row(
            key,
            f"{m['rows_in']:,}",
            f"{m['rows_loaded']:,}",
            f"{m['rows_quarantined']:,}",
            "yes" if m["reconciled"] else "NO",
            ", ".join(f"{k} {v:,}" for k, v in reasons[:3]),
        )
    console.print(table)


def _print_built(meta: dict) -> None:
    layers = {
        layer: sum(1 for k in meta if k.startswith(f"{layer}/"))
        for layer in ("staging", "intermediate", "marts")
    }
    if any(layers.values()):
        console.print(
            "dbt built "
            + ", ".join(f"{n} {layer}" for layer, n in layers.items() if n)
            + " models (tests included; `make dev` → Assets shows each)"
        )
    published = {
        k.split("/", 1)[1]: m.get("rows", 0) for k, m in meta.items() if k.startswith("publish/")
    }
    if published:
        console.print(
            "published to the CRM contract (publish.*, exports): "
            + ", ".join(f"{name} {rows:,} rows" for name, rows in sorted(published.items()))
        )
    alerts = meta.get("ops/alerts")
    if alerts:
        console.print(
            f"alerts: {alerts.get('alerts', 0):,} open today ({alerts.get('new', 0):,} new) in "
            f"ops.alerts; webhook: {alerts.get('webhook', '')}"
        )


def _print_models(meta: dict, decisions: dict[str, tuple[bool, str]]) -> None:
    challengers = {k: m for k, m in meta.items() if k.endswith("_challenger")}
    if not challengers:
        return
    table = Table(title="models: ROC AUC on the time-split test set (higher is better)")
    for col in (
        "family",
        "path",
        "rule-based",
        "logistic regr.",
        "LightGBM",
        "ECE",
        "version",
        "promoted",
    ):
        table.add_column(col, justify="left" if col in ("family", "path", "promoted") else "right")
    for key, m in sorted(challengers.items()):
        family = key.split("/")[-1].removesuffix("_challenger")
        if m.get("path") != "model":
            table.add_row(family, f"rule-based ({m.get('gate', '')})", "", "", "", "", "", "")
            continue
        passed, reason = decisions.get(family, (None, ""))
        promoted = "yes" if passed else (f"no: {reason}" if passed is False else "")
        table.add_row(
            family,
            "model",
            f"{m['test_roc_auc_rule_based']:.3f}",
            f"{m['test_roc_auc_logistic_regression']:.3f}",
            f"{m['test_roc_auc_lightgbm']:.3f}",
            f"{m['test_ece_lightgbm']:.3f}",
            str(m.get("registered_version", "")),
            promoted,
        )
    console.print(table)


def _print_forecast(meta: dict) -> None:
    pipeline = meta.get("ml/pipeline_forecast", {})
    backtest = meta.get("ml/forecast_backtest", {})
    quarters = pipeline.get("quarters") or {}
    if quarters:
        scenarios = ("commit", "most_likely", "best_case")
        table = Table(title="bookings forecast by quarter (pipeline × win probability, blended)")
        table.add_column("quarter")
        for name in scenarios:
            table.add_column(name.replace("_", " "), justify="right")
        for quarter, values in sorted(quarters.items()):
            table.add_row(quarter, *(f"{values.get(n, 0):,.0f}" for n in scenarios))
        console.print(table)
    if backtest.get("median_mase_chosen") is not None:
        console.print(
            f"forecast backtest: median MASE [bold]{backtest['median_mase_chosen']:.3f}[/] "
            f"(seasonal naive {backtest['median_mase_seasonal_naive']:.3f}); 80 % / 95 % "
            f"intervals covered {backtest['coverage80_chosen']:.0%} / "
            f"{backtest['coverage95_chosen']:.0%}"
        )


def _print_headlines(settings: Settings) -> None:
    from crmlens.report import headlines
    from crmlens.warehouse import session

    with session(settings.warehouse_path) as con:
        h = headlines(con)
    if h.open_pipeline:
        table = Table(title=f"open pipeline by stage (end of {h.as_of})")
        for col in ("stage", "deals", "amount"):
            table.add_column(col, justify="left" if col == "stage" else "right")
        for stage, deals, amount in h.open_pipeline:
            table.add_row(stage.replace("_", " "), f"{deals:,}", f"{amount:,.0f}")
        console.print(table)
    if h.win_rate:
        won, closed, rate = h.win_rate
        console.print(
            f"win rate, last 12 months: [bold]{rate:.1%}[/] ({won:,} won of {closed:,} closed)"
        )
    if h.mrr:
        m = h.mrr
        console.print(
            f"MRR {m['month'][:7]}: {m['start']:,.0f} → [bold]{m['end']:,.0f}[/] "
            f"(new +{m['new']:,.0f}, expansion +{m['expansion']:,.0f}, reactivation "
            f"+{m['reactivation']:,.0f}, contraction −{m['contraction']:,.0f}, churn −{m['churned']:,.0f})"
        )
    if h.conversion_by_source:
        table = Table(title="lead → opportunity conversion by source")
        for col in ("source", "leads", "opportunities", "rate"):
            table.add_column(col, justify="left" if col == "source" else "right")
        for source, leads, opps, rate in h.conversion_by_source:
            table.add_row(source, f"{leads:,}", f"{opps:,}", f"{rate:.1%}")
        console.print(table)
    if h.scores:
        table = Table(title="scores (ml.*)")
        for col in ("table", "rows", "path", "mean score"):
            table.add_column(col, justify="left" if col in ("table", "path") else "right")
        for name, rows, path, mean in h.scores:
            table.add_row(name, f"{rows:,}", path, f"{mean:.1f}")
        console.print(table)


def _print_where_to_look(settings: Settings) -> None:
    console.print(
        "\n[bold]where to look[/]\n"
        "  Dagster UI (the asset graph, runs, checks): make dev\n"
        f"  MLflow UI (runs, metrics, calibration plots, registry): .venv/bin/mlflow ui "
        f"--backend-store-uri {settings.mlflow_tracking_uri}\n"
        "  dashboards for managers (Streamlit, on the serving snapshot): make dashboard\n"
        f"  the warehouse (DuckDB): {settings.warehouse_path}"
    )


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


def _print_results(results: list[Any], title: str) -> None:
    table = Table(title=title)
    for col in (
        "table",
        "rows in",
        "loaded",
        "quarantined",
        "inserted",
        "updated",
        "unchanged",
        "top reasons",
    ):
        table.add_column(col, justify="left" if col in ("table", "top reasons") else "right")
    for r in results:
        top = ", ".join(f"{k} {v:,}" for k, v in r.reasons.most_common(3))
        table.add_row(
            r.table,
            f"{r.rows_in:,}",
            f"{r.rows_loaded:,}",
            f"{r.rows_quarantined:,}",
            f"{r.inserted:,}",
            f"{r.updated:,}",
            f"{r.unchanged:,}",
            top,
        )
    total_in = sum(r.rows_in for r in results)
    total_ok = sum(r.rows_loaded for r in results)
    total_q = sum(r.rows_quarantined for r in results)
    table.add_row("total", f"{total_in:,}", f"{total_ok:,}", f"{total_q:,}", "", "", "", "")
    console.print(table)
    console.print(f"reconciled: {total_in:,} in = {total_ok:,} loaded + {total_q:,} quarantined")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


if __name__ == "__main__":
    main()
