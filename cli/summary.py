"""What a run did, printed as tables: rows loaded and quarantined, models, forecast, headlines."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from cli.console import console
from crmlens.settings import Settings


def asset_order(key: str) -> tuple[int, str]:
    """Assets in the canonical table order, then the rest alphabetically."""
    from crmlens.contracts import TABLES

    name = key.split("/", 1)[-1]
    return (TABLES.index(name), "") if key.startswith("raw/") and name in TABLES else (99, key)


def print_ingest(meta: dict, title: str) -> None:
    rows = [(k, m) for k, m in meta.items() if "rows_in" in m]
    if not rows:
        return
    table = Table(title=title)
    for col in ("asset", "rows in", "loaded", "quarantined", "reconciled", "top reasons"):
        table.add_column(col, justify="left" if col in ("asset", "top reasons") else "right")
    for key, m in sorted(rows, key=lambda kv: asset_order(kv[0])):
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


def print_built(meta: dict) -> None:
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


NO_SIGNAL_TEXT = "no reliable signal in this data"
NO_RULE_TEXT = "no rule baseline"
MODEL_COLUMNS = (
    "family",
    "split",
    "test rows",
    "rule-based",
    "logistic",
    "LightGBM",
    "published",
    "AUC 95 % CI",
    "PR AUC",
    "Brier",
    "ECE",
    "version",
    "promoted",
)
MODELS_SHOWN = ("logistic_regression", "lightgbm")
PUBLISHED_NAMES = {"logistic_regression": "logistic", "lightgbm": "LightGBM"}


def _path_text(m: dict) -> str:
    """What a family publishes: the model, its rule (cold start) or the base rate."""
    path = m.get("path")
    if path == "no_reliable_signal":
        rate = m.get("base_rate")
        if rate is None or rate != rate:  # NaN: no labelled row at all
            return f"{NO_SIGNAL_TEXT}: no labelled rows yet"
        return f"{NO_SIGNAL_TEXT}: base rate {rate:.1%}"
    if path == "rule_based":
        return "rule-based" if not m.get("trained") else "rule-based (model: no signal beyond it)"
    return "model"


def print_models(meta: dict, decisions: dict[str, tuple[bool, str]]) -> None:
    """Each family's training run: the split its test set came from, and the test figures.

    ROC AUC of the baselines and of both models; the published model, the bootstrap 95 %
    interval of its AUC, its PR AUC, Brier score and ECE; the promotion decision. What a
    family publishes when no model is (its rule, or the base rate when there is no reliable
    signal) and why a challenger was not promoted are one line each under the table.
    """
    challengers = {k: m for k, m in meta.items() if k.endswith("_challenger")}
    table = Table(
        title="models on their held-out test set (split: time, or random when undated): "
        "ROC AUC per model; CI, PR AUC, Brier (lower is better) and ECE of the published one"
    )
    for col in MODEL_COLUMNS:
        left = col in ("family", "split", "published", "promoted")
        table.add_column(col, justify="left" if left else "right", no_wrap=True)
    notes = []
    for key, m in sorted(challengers.items()):
        family = key.split("/")[-1].removesuffix("_challenger")
        no_rule = m.get("rule_baseline") == NO_RULE_TEXT
        if not m.get("trained", m.get("path") == "model"):
            rule = f"; {NO_RULE_TEXT}" if no_rule else ""
            notes.append(f"{family}: {_path_text(m)} — {m.get('gate', '')}{rule}")
            continue
        passed, reason = decisions.get(family, (None, ""))
        promoted = "yes" if passed else ("no" if passed is False else "")
        if m.get("path") != "model":
            notes.append(f"{family}: publishes {_path_text(m)}")
        if passed is False:
            notes.append(f"{family}: not promoted — {reason}")
        chosen = m.get("selected_model", "lightgbm")
        table.add_row(
            family,
            m.get("split_kind", "?"),
            f"{m['test_rows']:,}" if "test_rows" in m else "?",
            NO_RULE_TEXT if no_rule else _figure(m, "test_roc_auc_rule_based"),
            *(_figure(m, f"test_roc_auc_{name}") for name in MODELS_SHOWN),
            PUBLISHED_NAMES.get(chosen, chosen) if m.get("path") == "model" else "base rate",
            _interval_only(m.get("test_roc_auc_ci")),
            *(_figure(m, f"test_{metric}_{chosen}") for metric in ("pr_auc", "brier", "ece")),
            str(m.get("registered_version", "")),
            promoted,
        )
    if table.row_count:
        console.print(table)
    for line in notes:
        console.print(line, soft_wrap=True)


def _interval_only(ci: str | None) -> str:
    """``[low, high]`` of an ``auc [low, high]`` interval (the AUC has its own column)."""
    return ci.partition(" ")[2] if ci else ""


def _figure(meta: dict, key: str) -> str:
    value = meta.get(key)
    return "?" if value is None else f"{value:.3f}"


def print_forecast(meta: dict) -> None:
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


def print_headlines(settings: Settings) -> None:
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


def print_where_to_look(settings: Settings) -> None:
    console.print(
        "\n[bold]where to look[/]\n"
        "  Dagster UI (the asset graph, runs, checks): make dev\n"
        f"  MLflow UI (runs, metrics, calibration plots, registry): .venv/bin/mlflow ui "
        f"--backend-store-uri {settings.mlflow_tracking_uri}\n"
        "  dashboards for managers (Streamlit, on the serving snapshot): make dashboard\n"
        f"  the warehouse (DuckDB): {settings.warehouse_path}"
    )


def print_ingest_results(results: list[Any], title: str) -> None:
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


def status_table(con: Any, title: str) -> Table:
    """Rows loaded and quarantined per canonical table, top reasons, last load.

    Args:
        con: a read-only connection (the serving snapshot).
        title: the table's title.

    Returns:
        The table, to print.
    """
    from crmlens.contracts import TABLES
    from crmlens.warehouse import table_exists

    table = Table(title=title)
    for col, justify in [
        ("table", "left"),
        ("raw rows", "right"),
        ("quarantined", "right"),
        ("top reasons", "left"),
        ("last load", "left"),
    ]:
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
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
    return table
