"""``crmlens forecast --spec FILE``: forecast the series a spec defines (``series:``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from cli.console import console, err
from cli.errors import friendly_errors
from crmlens.settings import Settings

SHOWN = 7  # forecast periods printed per series


@click.command("forecast")
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Source spec with a `series:` section.",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder the spec's paths are relative to [default: the spec's folder].",
)
@click.option(
    "--series", "names", multiple=True, help="Only these series sets (repeatable) [default: all]."
)
@click.option("--jobs", "n_jobs", type=click.IntRange(min=1), default=2, show_default=True)
@click.pass_obj
@friendly_errors
def forecast(
    settings: Settings,
    spec_path: Path,
    root: Path | None,
    names: tuple[str, ...],
    n_jobs: int,
) -> None:
    """Forecast each series (and segment) the spec's `series:` section defines: the method
    chosen by backtest, 80 % intervals, MASE beside seasonal naive's; the forecasts go to
    ml.series_forecast (published as `series_forecast`).

    A series with a gap, a missing value or too few periods is refused in one line
    (exit status 1); the others are still forecast.
    """
    from crmlens.runlock import run_lock
    from crmlens.sources.spec import SpecError, load_spec
    from crmlens.warehouse import session
    from models.forecasting import spec_series

    spec = load_spec(spec_path, root)
    if not spec.series:
        raise SpecError(f"{spec.where()}: no `series:` section, nothing to forecast")
    for name in names:
        if name not in spec.series:
            raise SpecError(f"{spec.where()}: no series {name!r} (known: {', '.join(spec.series)})")
    made = spec_series.forecast_spec(spec, list(names) or None, n_jobs=n_jobs)
    for note in made.notes:
        err.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    if made.results:
        settings.ensure_dirs()
        done = sorted({r.key.metric for r in made.results})
        what = f"crmlens forecast --spec {spec_path}"
        with run_lock(settings.warehouse_path, what), session(settings.warehouse_path) as con:
            rows = spec_series.write(con, made.frame, done)
        for result in made.results:
            _print(result)
        console.print(
            f"{rows} forecast rows written to {spec_series.TABLE} in {settings.warehouse_path}"
        )
    for problem in made.problems.values():
        err.print(f"[bold red]error:[/] {escape(problem)}", soft_wrap=True)
    if made.problems:
        sys.exit(1)


def _print(result) -> None:  # a models.forecasting.batch.SeriesResult
    sel, f = result.selection, result.forecast
    key = result.key
    label = (
        key.metric if key.segment == "all" else f"{key.metric}, {key.segment_type} {key.segment}"
    )
    mase, naive = sel.mean_score(result.method), sel.mean_score("seasonal_naive")
    table = Table(
        title=escape(
            f"{label}: {result.method}, {len(f.point)} {key.grain}s after "
            f"{result.periods[-1]} ({len(result.periods)} {key.grain}s of history)"
        )
    )
    for column in ("period", "forecast", "80 % low", "80 % high"):
        table.add_column(column, justify="left" if column == "period" else "right")
    from models.forecasting.spec_series import forecast_rows

    rows = forecast_rows([result], "print").head(SHOWN)
    for row in rows.iter_rows(named=True):
        table.add_row(
            str(row["period"]), f"{row['point']:,.2f}", f"{row['lo80']:,.2f}", f"{row['hi80']:,.2f}"
        )
    console.print(table)
    console.print(
        f"backtest MASE {_fmt(mase)} ({result.method}) vs {_fmt(naive)} (seasonal naive, "
        f"m={sel.seasonal_period})" + (f"; {sel.fallback_reason}" if sel.fallback_reason else ""),
        soft_wrap=True,
    )


def _fmt(value: float | None) -> str:
    return "–" if value is None or value != value else f"{value:.3f}"
