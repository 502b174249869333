"""A CRM's own vocabularies end to end: its stages, statuses and types in, its labels out.

The exports of tests/export_shapes.py go through `crmlens ingest --spec` (as a user runs
it), dbt builds the marts, and the deal features are built on them:

- a two-step funnel of the CRM's own (Engaging → Won / Lost), undeclared: the stages are
  inferred from the data, and the stage analytics read Engaging → Won, never a canonical
  stage no deal entered;
- declared stages and statuses (no events): the CRM's labels stay in the marts beside the
  canonical values, stages in the declared order with the declared probabilities;
- deals without accounts: kept under one "Unknown account", and every pipeline total is
  the sum of all open deals' amounts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

from crmlens.warehouse import connect
from features import opportunity
from tests.dbt_support import query, run_dbt
from tests.export_shapes import deals_without_accounts, no_events, two_stage_funnel

CRMLENS = Path(sys.executable).parent / "crmlens"
CANONICAL_OPEN = {"prospecting", "qualification", "needs_analysis", "proposal", "negotiation"}


def crmlens(home: Path, *args: str) -> subprocess.CompletedProcess:
    """`crmlens ARGS` as a user runs it, with its own home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMLENS_")}
    env |= {"CRMLENS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    return subprocess.run(
        [str(CRMLENS), *args], cwd=home.parent, env=env, capture_output=True, text=True
    )


class Built:
    """An export ingested by the CLI, with the marts built on it."""

    def __init__(self, tmp: Path, shape) -> None:
        root = tmp / "export"
        spec = shape(root)
        self.home = tmp / "home"
        self.ingest = crmlens(self.home, "ingest", "--spec", str(spec), "--root", str(root))
        assert self.ingest.returncode == 0, self.ingest.stdout + self.ingest.stderr
        self.warehouse = self.home / "warehouse.duckdb"
        run_dbt(self.warehouse, ["build"])
        self.root = root

    @property
    def output(self) -> str:
        return self.ingest.stdout + self.ingest.stderr

    def rows(self, sql: str) -> list[dict]:
        return query(self.warehouse, sql).to_dicts()

    def csv(self, name: str) -> pl.DataFrame:
        return pl.read_csv(self.root / f"{name}.csv", infer_schema_length=0)


def _built(tmp_path_factory: pytest.TempPathFactory, shape) -> Built:
    return Built(tmp_path_factory.mktemp(shape.__name__), shape)


@pytest.fixture(scope="module")
def two_stages(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _built(tmp_path_factory, two_stage_funnel)


@pytest.fixture(scope="module")
def declared(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _built(tmp_path_factory, no_events)


@pytest.fixture(scope="module")
def no_accounts(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _built(tmp_path_factory, deals_without_accounts)


def _vocabulary(built: Built, field: str) -> list[dict]:
    return built.rows(
        "select label, value, meaning, position, probability, origin from raw.vocabulary "
        f"where field = '{field}' order by position"
    )


# --- stages of the CRM's own, undeclared ------------------------------------------------


def test_undeclared_stages_of_its_own_are_inferred_and_said_once(two_stages: Built):
    stages = _vocabulary(two_stages, "opportunity_stages")
    assert [(s["label"], s["meaning"], s["position"], s["origin"]) for s in stages] == [
        ("Engaging", "open", 1, "inferred"),
        ("Won", "won", 2, "inferred"),
        ("Lost", "lost", 3, "inferred"),
    ]
    # Engaging's probability is the observed win rate of the deals that reached it.
    deals = two_stages.csv("deals")
    closed = deals.filter(pl.col("Stage").is_in(["Won", "Lost"]))
    observed = (closed["Stage"] == "Won").mean()
    assert stages[0]["probability"] == pytest.approx(observed, abs=0.02)
    assert (stages[1]["probability"], stages[2]["probability"]) == (1.0, 0.0)
    assert two_stages.output.count("inferred from the data") == 1, two_stages.output
    # Nothing lost: every deal is in raw, none quarantined.
    loaded = two_stages.rows("select count(*) as n from raw.opportunities")[0]["n"]
    assert loaded == deals.height
    assert two_stages.rows("select count(*) as n from quarantine.opportunities")[0]["n"] == 0


def test_stage_analytics_read_the_crms_own_stages(two_stages: Built):
    conversion = two_stages.rows(
        "select distinct from_stage, to_stage from marts.fct_stage_conversion"
    )
    assert conversion == [{"from_stage": "Engaging", "to_stage": "Won"}]
    pipeline = two_stages.rows("select distinct stage, stage_order from marts.fct_pipeline_daily")
    assert pipeline == [{"stage": "Engaging", "stage_order": 1}]
    deals = two_stages.rows(
        "select stage, stage_meaning, count(*) as n, bool_and(is_won = (stage = 'Won')) as ok "
        "from marts.fct_opportunities group by all order by stage"
    )
    assert {d["stage"]: d["stage_meaning"] for d in deals} == {
        "Engaging": "open",
        "Lost": "lost",
        "Won": "won",
    }
    assert all(d["ok"] for d in deals)
    # The CRM keeps no history: each deal still has its stage visits, in its own stages.
    visits = two_stages.rows(
        "select distinct stage from intermediate.int_opportunities_stage_durations order by 1"
    )
    assert {v["stage"] for v in visits} <= {"Engaging", "Won", "Lost"}
    assert not CANONICAL_OPEN & {v["stage"] for v in visits}


def test_deal_features_and_scores_use_the_crms_stages(two_stages: Built):
    con = connect(two_stages.warehouse)
    try:
        today = con.sql("select max(as_of_at) from intermediate.int_sales_as_of").fetchall()[0][0]
        population = opportunity.scoring_population(con, today)
        features = opportunity.build(con, population).frame
    finally:
        con.close()
    assert population.height == len(
        [s for s in two_stages.csv("deals")["Stage"].to_list() if s == "Engaging"]
    )
    assert set(features["stage"]) == {"Engaging"}
    assert set(features["stage_rank"]) == {1}
    engaging = _vocabulary(two_stages, "opportunity_stages")[0]["probability"]
    assert features["stage_probability"].to_list() == [engaging] * features.height


def test_the_pipeline_pages_show_the_crms_own_stages(
    two_stages: Built, monkeypatch: pytest.MonkeyPatch
):
    from streamlit.testing.v1 import AppTest

    from crmlens.serving import refresh_snapshot
    from crmlens.settings import Settings
    from dashboards.catalog import APP

    refresh_snapshot(Settings(home=two_stages.home))
    monkeypatch.setenv("CRMLENS_HOME", str(two_stages.home))
    monkeypatch.delenv("CRMLENS_SERVING_PATH", raising=False)
    for page in ("overview", "pipeline"):
        at = AppTest.from_file(str(APP), default_timeout=120)  # a safety net, not a limit
        at.switch_page(f"views/{page}.py")
        at.run()
        assert not at.exception, f"{page}: {[e.value for e in at.exception]}"
        charts = "".join(str(chart.proto) for chart in at.get("vega_lite_chart"))
        assert "Engaging" in charts, page
        assert not any(s in charts for s in ("Qualification", "qualification")), page


# --- declared vocabularies --------------------------------------------------------------


def test_declared_stages_keep_their_order_probability_and_labels(declared: Built):
    stages = _vocabulary(declared, "opportunity_stages")
    assert [(s["label"], s["meaning"], s["probability"], s["origin"]) for s in stages] == [
        ("Prospecting", "open", 0.1, "spec"),
        ("Proposal", "open", 0.4, "spec"),
        ("Negotiation", "open", 0.7, "spec"),
        ("Closed Won", "won", 1.0, "spec"),
        ("Closed Lost", "lost", 0.0, "spec"),
    ]
    assert "inferred" not in declared.output
    conversion = declared.rows(
        "select distinct from_stage, to_stage, stage_order from marts.fct_stage_conversion "
        "order by stage_order"
    )
    assert [(c["from_stage"], c["to_stage"]) for c in conversion] == [
        ("Prospecting", "Proposal"),
        ("Proposal", "Negotiation"),
        ("Negotiation", "Closed Won"),
    ][: len(conversion)]
    assert conversion and conversion[0]["from_stage"] == "Prospecting"


def test_declared_statuses_and_types_map_onto_canonical_values_and_keep_the_labels(
    declared: Built,
):
    leads = declared.rows(
        "select status_label, status, count(*) as n from marts.fct_leads group by all order by 1"
    )
    assert {(r["status_label"], r["status"]) for r in leads} == {
        ("Converted", "converted"),
        ("Dead", "disqualified"),
        ("Open", "new"),
        ("Working", "working"),
    }
    assert sum(r["n"] for r in leads) == declared.csv("leads").height  # none quarantined
    types = declared.rows(
        "select distinct activity_type_label, activity_type from staging.stg_crm__activities"
    )
    assert {(t["activity_type_label"], t["activity_type"]) for t in types} == {
        ("Call", "call"),
        ("Email", "email"),
        ("Meeting", "meeting"),
    }


# --- deals without accounts -------------------------------------------------------------


def test_deals_without_an_account_are_kept_and_counted_in_every_total(no_accounts: Built):
    deals = no_accounts.csv("deals")
    without = deals.filter(pl.col("AccountId").is_null()).height
    assert without > deals.height / 2
    assert no_accounts.rows("select count(*) as n from raw.opportunities")[0]["n"] == deals.height
    unknown = no_accounts.rows(
        "select account_id, name, open_opportunities, open_pipeline_amount "
        "from marts.dim_accounts where account_id = 'unknown_account'"
    )
    assert len(unknown) == 1 and unknown[0]["name"] == "Unknown account"

    open_deals = no_accounts.rows(
        "select count(*) as n, sum(amount) as amount from marts.fct_opportunities where is_open"
    )[0]
    by_account = no_accounts.rows(
        "select sum(open_opportunities) as n, sum(open_pipeline_amount) as amount "
        "from marts.dim_accounts"
    )[0]
    today = no_accounts.rows(
        "select sum(open_opportunities) as n, sum(open_amount) as amount "
        "from marts.fct_pipeline_daily where day = (select max(day) from marts.fct_pipeline_daily)"
    )[0]
    expected = (open_deals["n"], pytest.approx(open_deals["amount"]))
    assert open_deals["n"] > 0
    assert (by_account["n"], by_account["amount"]) == expected
    assert (today["n"], today["amount"]) == expected
    # And the raw export agrees: every deal in an open stage.
    open_in_export = deals.filter(pl.col("Stage").is_in(["Prospecting", "Proposal"]))
    assert open_deals["n"] == open_in_export.height
    assert open_deals["amount"] == pytest.approx(open_in_export["Amount"].cast(float).sum())


# --- closed and open lists at ingest ----------------------------------------------------

DEALS = """\
Id,Stage,Created,Modified
D1,Engaging,2025-01-01 10:00:00,2025-01-01 10:00:00
D2,Won,2025-01-02 10:00:00,2025-02-01 10:00:00
D3,Stage 9,2025-01-03 10:00:00,2025-01-03 10:00:00
"""
LEADS = """\
Id,Status,Created
L1,Open,2025-01-01 10:00:00
L2,Working,2025-01-01 10:00:00
L3,Hot,2025-01-01 10:00:00
"""
ACTIVITIES = """\
Id,Type,When
T1,Call,2025-01-01 10:00:00
T2,LinkedIn InMail,2025-01-01 11:00:00
"""


def _small_crm(tmp_path: Path, vocabularies: str) -> Path:
    for name, text in (("deals", DEALS), ("leads", LEADS), ("activities", ACTIVITIES)):
        (tmp_path / f"{name}.csv").write_text(text)
    spec = tmp_path / "spec.yml"
    spec.write_text(
        textwrap.dedent(
            """\
            name: small
            files:
              deals: {path: deals.csv}
              leads: {path: leads.csv}
              activities: {path: activities.csv}
            tables:
              opportunities:
                select: |
                  select "Id" as opportunity_id, "Stage" as stage, "Created" as created_at,
                         "Modified" as updated_at, _source_file, _source_row from deals
              leads:
                select: |
                  select "Id" as lead_id, "Status" as status, "Created" as created_at,
                         "Created" as updated_at, _source_file, _source_row from leads
              activities:
                select: |
                  select "Id" as activity_id, "Type" as activity_type, "When" as occurred_at,
                         _source_file, _source_row from activities
            """
        )
        + textwrap.dedent(vocabularies)
    )
    return spec


def test_closed_lists_quarantine_an_undeclared_label_and_say_how_to_declare_it(tmp_path: Path):
    spec = _small_crm(
        tmp_path,
        """\
        vocabularies:
          opportunity_stages:
            - {label: Engaging, meaning: open}
            - {label: Won, meaning: won}
          lead_statuses: {Open: new}
        """,
    )
    home = tmp_path / "home"
    result = crmlens(home, "ingest", "--spec", str(spec))
    assert result.returncode == 0, result.stdout + result.stderr
    con = connect(home / "warehouse.duckdb")
    try:
        deals = con.sql("select _source_row, reason_code, reason from quarantine.opportunities")
        ((row, code, reason),) = deals.fetchall()
        assert (row, code) == (4, "unknown_value")
        assert "'Stage 9'" in reason and "vocabularies: opportunity_stages:" in reason
        leads = con.sql("select _source_row, reason from quarantine.leads").fetchall()
        # Working is canonical whatever its case; Hot is neither declared nor canonical.
        assert [r for r, _ in leads] == [4]
        assert "vocabularies: lead_statuses:" in leads[0][1]
        # An open list keeps any value: raw has the CRM's label, the vocabulary says other.
        activity = con.sql(
            "select v.value from raw.activities as a join raw.vocabulary as v "
            "on v.field = 'activity_types' and v.label = a.activity_type "
            "where a.activity_id = 'T2'"
        ).fetchall()
        assert activity == [("other",)]
        assert con.sql("select count(*) from quarantine.activities").fetchall() == [(0,)]
    finally:
        con.close()


def test_a_label_mapped_onto_no_canonical_value_is_a_one_line_spec_error(tmp_path: Path):
    spec = _small_crm(
        tmp_path,
        """\
        vocabularies:
          lead_statuses: {Open: fresh}
        """,
    )
    result = crmlens(tmp_path / "home", "ingest", "--spec", str(spec))
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    assert "vocabularies.lead_statuses: 'Open' maps onto 'fresh'" in result.stdout + result.stderr


def test_stages_read_by_a_select_need_a_postgres_spec_and_one_select(tmp_path: Path):
    from crmlens.sources import SpecError, load_spec

    def spec(kind: str, select: str) -> Path:
        path = tmp_path / f"{kind}.yml"
        source = "files: {deals: {path: deals.csv}}\n" if kind == "files" else "dsn: x\n"
        path.write_text(
            f"name: own_stages\nkind: {kind}\n{source}"
            f"vocabularies:\n  opportunity_stages: {{select: '{select}'}}\n"
            "tables:\n  opportunities: {select: select * from deals}\n"
        )
        return path

    with pytest.raises(SpecError, match="only a postgres spec may give one"):
        load_spec(spec("files", "select name as label from stages"))
    with pytest.raises(SpecError, match="a spec may only select"):
        load_spec(spec("postgres", "delete from stages"))
    loaded = load_spec(spec("postgres", "select name as label from stages"))
    assert loaded.vocabularies.stages == []
    assert loaded.vocabularies.stages_select == "select name as label from stages"
