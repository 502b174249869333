"""Models: are the scores any good, are they honest, are they drifting, and which model
publishes them."""

import polars as pl
import streamlit as st

from crmlens.settings import get_settings
from dashboards import filters, ui
from dashboards.charts import models as charts
from dashboards.charts.style import show
from dashboards.processing import models as processing
from dashboards.queries import models as queries


def render() -> None:
    """Draw the page for the family chosen in the sidebar, and the checks of every family."""
    filters.current()
    filters.page_heading()
    family = st.sidebar.radio(
        "Model", list(queries.FAMILIES), format_func=queries.FAMILIES.get, key="models_family"
    )
    ui.page_header(
        "Models",
        "How each scoring model does on leads, deals or customers it never saw in training, "
        "against the simple baselines it must beat; whether its probabilities are honest; "
        "whether its scores drift; and which model publishes them. The sidebar's period, "
        "team, owner and segment do not apply here.",
    )

    with ui.section(None):
        _headline(queries.publishing_model(family), queries.evaluations(family))

    left, right = st.columns(2)
    with (
        left,
        ui.section(
            "Against the baselines",
            help="Test-set metrics of the latest training: ROC AUC and PR AUC (higher ranks "
            "better), lift in the top 10 % (how many times the average rate the best-scored tenth "
            "achieves), Brier score (lower is better).",
        ),
    ):
        _baselines(family)
    with (
        right,
        ui.section(
            "Calibration",
            help="Test set in ten groups by predicted probability: a model whose dots sit on the "
            "diagonal means what it says (30 % predicted, 30 % happened).",
        ),
    ):
        _calibration(family)

    settings = get_settings()
    with ui.section(
        "Score drift",
        help=f"How the published scores are spread at each publication. A shift (PSI over "
        f"{settings.drift_block_psi:g}) means the population or the model changed: worth a look "
        "before trusting trends.",
    ):
        _drift(family, settings.drift_warn_psi, settings.drift_block_psi)

    with ui.section(
        "Drift and calibration checks over time",
        help="The pipeline's checks after every scoring run, for every model (not only the one "
        "chosen in the sidebar). Drift: the spread of today's scores against the model's first "
        "day in production (PSI; a warning past the lower dashed line, scores held back past "
        "the upper one). Calibration: the average gap between predicted and observed rates on "
        "the newest leads, deals or customers whose outcome is known (ECE; a warning past the "
        "dashed line).",
    ):
        _monitoring(queries.model_monitoring())

    with ui.section(
        "How would the scores have done for us?",
        help="A replay of the schedule (`crmlens backtest --family …`): at each weekly or "
        "monthly step the model is retrained on exactly what was known then, as the scheduled "
        "jobs would have, and the next window's scores are measured once their outcomes are "
        "in. The line is each window's ROC AUC beside the rule score's; 0.5 is chance.",
    ):
        _backtest(family)

    with ui.section(
        "Champion and challenger",
        help="Every promotion decision: a newly trained challenger replaces the champion only "
        "if it beats it on the same holdout.",
    ):
        _promotions(family)


PATH_NAMES = {"rule_based": "rules", "no_reliable_signal": "base rate (no signal)"}
PATH_HELP = {
    "model": "a trained model that cleared the promotion floor",
    "rule_based": "cold start: the rule-based score, until there is enough history",
    "no_reliable_signal": "no reliable signal in this data: every record gets the base rate",
}


def _headline(publishing: pl.DataFrame, evaluations: pl.DataFrame) -> None:
    a, b, c = st.columns(3)
    if publishing.is_empty():
        a.metric("Publishing", "nothing yet", border=True)
    else:
        row = publishing.sort("rows", descending=True).row(0, named=True)
        path = row["scoring_path"]
        a.metric(
            "Scores come from",
            f"model v{row['model_version']}" if path == "model" else PATH_NAMES.get(path, path),
            help=f"{row['model_name']} version {row['model_version']} ({PATH_HELP.get(path, path)})"
            f"; {row['rows']:,} scores as of {row['scored_at']:%Y-%m-%d}.",
            border=True,
        )
        if path == "no_reliable_signal":
            st.warning(
                "No reliable signal in this data: neither a trained model nor the rule ranks "
                "these records better than chance on the held-out test set, so every one gets "
                "the base rate and no per-record reasons or next actions are published."
            )
    test = processing.on_test_set(evaluations)
    chosen = test.filter(pl.col("published"))
    rule = test.filter(pl.col("model") == "rule_based")
    if chosen.height and chosen["roc_auc"][0] is not None:
        auc = chosen["roc_auc"][0]
        delta = f"{auc - rule['roc_auc'][0]:+.3f} vs rules" if rule.height else None
        b.metric("Test ROC AUC", f"{auc:.3f}", delta=delta, border=True)
        c.metric(
            "Calibration error",
            f"{chosen['ece'][0]:.3f}",
            help="Expected calibration error: the average gap between predicted and observed "
            "rates. Lower is better.",
            border=True,
        )
    elif test.height:  # trained, but the promotion floor held every candidate back
        b.metric("Test ROC AUC", "–", border=True)
        c.metric(
            "Training",
            "held back",
            help="No candidate ranked the held-out test set reliably better than chance "
            "and the base rate: none is published.",
            border=True,
        )
    else:
        gate = evaluations["gate"].drop_nulls()
        b.metric("Test ROC AUC", "–", border=True)
        c.metric("Training", "not yet", help=gate[0] if gate.len() else None, border=True)


def _baselines(family: str) -> None:
    evaluations = queries.evaluations(family)
    long = processing.metrics_long(evaluations)
    if long.is_empty():
        gate = evaluations["gate"].drop_nulls()
        st.info(
            "No model has been trained for this family yet"
            + (f" ({gate[0]})" if gate.len() else "")
            + ": the rule-based score is published until there is enough history."
        )
        return
    show(charts.metric_bars(processing.model_names(long)))
    ui.table(
        processing.model_names(processing.on_test_set(evaluations)),
        name=f"{family}_evaluation",
        columns={
            "model": ui.text_col("Model"),
            "published": st.column_config.CheckboxColumn("Published"),
            "roc_auc": ui.number_col("ROC AUC", "%.3f"),
            "pr_auc": ui.number_col("PR AUC", "%.3f"),
            "lift_top_decile": ui.number_col("Lift top 10 %", "%.2f"),
            "brier": ui.number_col("Brier", "%.4f"),
            "ece": ui.number_col("Calibration error", "%.3f"),
            "rows": ui.number_col("Test rows", "localized"),
            "positive_rate": ui.pct_col("Positive rate"),
        },
    )


def _calibration(family: str) -> None:
    deciles = queries.calibration(family)
    if deciles.is_empty():
        st.info("No calibration figures: no model has been trained for this family yet.")
    else:
        show(charts.calibration(processing.model_names(deciles)))


def _drift(family: str, warn: float, block: float) -> None:
    grades, psi = processing.drift(queries.score_drift(family))
    if grades.is_empty():
        st.info("No scores have been published for this family yet.")
        return
    last = psi.row(-1, named=True)
    a, b = st.columns([1, 3])
    a.metric("Publications", f"{psi.height:,}", border=True)
    a.metric(
        "Shift since the first (PSI)",
        f"{last['psi']:.3f}",
        delta=processing.psi_verdict(last["psi"], warn, block),
        delta_color="off",
        border=True,
    )
    with b:
        show(charts.drift(grades))


def _monitoring(checks: pl.DataFrame) -> None:
    if checks.is_empty():
        st.info(
            "No drift or calibration check has been recorded yet: they run after each scoring "
            "run, once a model has a reference population or matured outcomes."
        )
        return
    checks = processing.monitoring_labels(checks, queries.FAMILIES)
    titles = {"drift": "Score PSI", "calibration": "Calibration error (ECE)"}
    for column, (kind, title) in zip(st.columns(2), titles.items(), strict=True):
        with column:
            st.caption(processing.MONITORING_KINDS[kind])
            series = checks.filter(pl.col("kind") == kind)
            if series.is_empty():
                st.info(f"No {kind} check recorded yet.")
                continue
            show(
                charts.monitoring(series, processing.monitoring_limits(checks, kind), y_title=title)
            )
    ui.table(
        processing.monitoring_latest(checks),
        name="model_monitoring_latest",
        columns={
            "family_label": ui.text_col("Model"),
            "kind_label": ui.text_col("Check"),
            "status_label": ui.text_col("Status", "small"),
            "value": ui.number_col("Value", "%.3f"),
            "why": ui.text_col("Why", "large"),
            "checked_at": ui.datetime_col("Checked"),
            "model_version": ui.text_col("Version", "small"),
            "scoring_path": ui.text_col("Scored by", "small"),
        },
    )


BACKTEST_FAMILY = {"lead_scoring": "lead", "deal_scoring": "deal", "churn": "churn"}


def _backtest(family: str) -> None:
    windows = queries.backtest(family)
    if windows.is_empty():
        st.info(
            "This family's schedule has not been replayed yet: "
            f"`crmlens backtest --family {BACKTEST_FAMILY.get(family, family)}` retrains it "
            "month by month on what was known then and measures each month's scores."
        )
        return
    top = windows.row(0, named=True)
    a, b, c, d = st.columns(4)
    a.metric(
        "Replayed ROC AUC",
        _figure(top["replay_roc_auc"]),
        delta=_versus(top["replay_roc_auc"], top["replay_rule_roc_auc"]),
        help="Over every window's scores at once, as they would have been published.",
        border=True,
    )
    b.metric(
        "Windows", f"{top['replay_windows']:,}", help=f"retrained every {top['step']}", border=True
    )
    c.metric(
        "Windows a model published",
        f"{top['replay_model_windows']:,}",
        help="The others published the rule score (too little history) or the base rate "
        "(no reliable signal).",
        border=True,
    )
    d.metric("Calibration error", _figure(top["replay_ece"]), border=True)
    chart = processing.backtest_long(windows)
    if chart.height:
        show(charts.backtest(chart))
    ui.table(
        windows,
        name=f"{family}_backtest",
        columns={
            "start": ui.datetime_col("Window"),
            "rows": ui.number_col("Rows", "localized"),
            "positives": ui.number_col("Positives", "localized"),
            "path": ui.text_col("Published", "small"),
            "roc_auc": ui.number_col("ROC AUC", "%.3f"),
            "rule_roc_auc": ui.number_col("Rule ROC AUC", "%.3f"),
            "pr_auc": ui.number_col("PR AUC", "%.3f"),
            "ece": ui.number_col("Calibration error", "%.3f"),
            "lift_top_decile": ui.number_col("Lift top 10 %", "%.2f"),
            "known_rows": ui.number_col("Trained on", "localized"),
        },
    )


def _figure(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _versus(value: float | None, rule: float | None) -> str | None:
    return None if value is None or rule is None else f"{value - rule:+.3f} vs rules"


def _promotions(family: str) -> None:
    decisions = queries.promotions(family)
    if not decisions.is_empty() and decisions["challenger_auc"].drop_nulls().len():
        show(charts.champion_challenger(decisions))
    ui.table(
        decisions,
        name=f"{family}_promotions",
        columns={
            "decided_at": ui.datetime_col("Decided"),
            "promote": ui.text_col("Promoted", "small"),
            "reason": ui.text_col("Why", "large"),
            "challenger_version": ui.text_col("Challenger", "small"),
            "champion_version": ui.text_col("Champion", "small"),
            "challenger_auc": ui.number_col("Challenger AUC", "%.3f"),
            "champion_auc": ui.number_col("Champion AUC", "%.3f"),
            "holdout_rows": ui.text_col("Holdout rows", "small"),
        },
        empty="No promotion decision recorded yet.",
    )


render()
