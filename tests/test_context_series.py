"""Context series: dated values a spec attaches, joined to every snapshot as of its date.

A spec's ``context:`` section (crmlens.sources.context) is checked in one line per
problem, stored by ingest in ``context.<series>`` on every run, and joined by
features.context: a value dated (or published) after a snapshot never reaches it, and a
source without context series gets no column.
"""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from crmlens.ingest import ingest_table
from crmlens.ingest.context import ingest_context
from crmlens.sources import shipped_spec
from crmlens.sources.spec import SpecError, load_spec
from features import context
from features.common import FeatureSet
from models.common.splits import Split
from models.common.time_proxies import drop_time_proxies
from tests.conftest import NOW, REAL_DATA
from tests.test_export_shapes import run_crmlens

LEADS = "lead_id,status,created_at\nL1,new,2024-01-05 10:00:00\n"
RATES = "day,rate,mood\n2024-01-01,1.0,calm\n2024-02-01,2.0,tense\n2024-03-01,3.0,calm\n"


def _spec(tmp_path: Path, context_yaml: str, rates: str = RATES) -> Path:
    (tmp_path / "leads.csv").write_text(LEADS)
    (tmp_path / "rates.csv").write_text(rates)
    text = textwrap.dedent(
        """
        name: tiny
        files:
          leads: {path: leads.csv}
          rates: {path: rates.csv}
        tables:
          leads:
            select: select lead_id, status, created_at, created_at as updated_at, _source_file, _source_row from leads
        """
    )
    path = tmp_path / "spec.yml"
    path.write_text(text + textwrap.dedent(context_yaml))
    return path


RATES_SERIES = """
context:
  rates:
    available_after_days: {lag}
    select: select day::date as date, rate::double as rate, mood from rates
"""


def _stored(tmp_path: Path, lag: int = 0) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ingest_context(con, load_spec(_spec(tmp_path, RATES_SERIES.format(lag=lag))))
    return con


def _snapshots(*moments: str) -> FeatureSet:
    frame = pl.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(len(moments))],
            "as_of": [datetime.fromisoformat(m) for m in moments],
            "age": [float(i) for i in range(len(moments))],
        }
    )
    return FeatureSet(frame, "lead_id", ["age"], [])


@pytest.mark.parametrize(
    ("select", "words"),
    [
        ("select rate::double as rate from rates", "the select returns no `date` column"),
        ("select day as date, rate::double as rate from rates", "column 'date': VARCHAR"),
        (
            "select '2024-01-01'::date as date, rate::double as rate from rates",
            "column 'date': 2024-01-01 appears more than once",
        ),
        ("select day::date as date from rates", "no value column"),
    ],
)
def test_a_bad_series_is_one_line_naming_spec_series_and_column(
    tmp_path: Path, select: str, words: str
):
    spec = load_spec(_spec(tmp_path, f"context:\n  rates:\n    select: {select}\n"))
    with pytest.raises(SpecError) as error:
        ingest_context(duckdb.connect(), spec)
    message = str(error.value)
    assert "\n" not in message
    assert "source spec 'tiny'" in message
    assert "context series 'rates'" in message
    assert words in message


def test_a_series_reading_no_alias_of_the_spec_is_refused_on_load(tmp_path: Path):
    path = _spec(tmp_path, "context:\n  rates:\n    select: select * from raw.leads\n")
    with pytest.raises(SpecError, match="context series 'rates'"):
        load_spec(path)


def test_the_cli_says_a_bad_series_in_one_line(tmp_path: Path):
    root = tmp_path / "export"
    root.mkdir()
    spec = _spec(root, "context:\n  rates:\n    select: select day as date, rate from rates\n")
    result = run_crmlens(tmp_path / "home", "ingest", "--spec", str(spec), "--root", str(root))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if "context series 'rates'" in line]
    assert len(lines) == 1, output
    assert "column 'date': VARCHAR, not a DATE or TIMESTAMP" in lines[0]


def test_a_value_dated_after_a_snapshot_never_reaches_it(tmp_path: Path):
    con = _stored(tmp_path)
    moments = ("2023-12-31 23:00:00", "2024-01-31 23:59:59", "2024-02-01 00:00:00", "2025-01-01")
    built = context.attach(con, _snapshots(*moments))
    frame = built.frame
    assert frame["ctx_rates_rate"].to_list() == [None, 1.0, 2.0, 3.0]
    assert frame["ctx_rates_mood"].to_list() == [None, "calm", "tense", "calm"]
    assert built.numeric == ["age", "ctx_rates_rate"]
    assert built.categorical == ["ctx_rates_mood"]
    assert frame["lead_id"].to_list() == ["L0", "L1", "L2", "L3"]  # the rows keep their order


def test_the_publication_lag_shifts_when_a_value_is_known(tmp_path: Path):
    con = _stored(tmp_path, lag=10)
    moments = ("2024-02-05 12:00:00", "2024-02-11 00:00:00", "2024-01-10 12:00:00")
    frame = context.attach(con, _snapshots(*moments)).frame
    # February's value is known from Feb 11 on; before, January's; before Jan 11, nothing.
    assert frame["ctx_rates_rate"].to_list() == [1.0, 2.0, None]


def test_a_source_without_context_gets_no_column(tmp_path: Path):
    snapshots = _snapshots("2024-02-05 12:00:00")
    con = duckdb.connect()
    assert context.attach(con, snapshots) is snapshots  # nothing ingested at all
    con = _stored(tmp_path)
    ingest_context(con, load_spec(_spec(tmp_path, "")))  # the spec dropped its series
    assert context.attach(con, snapshots) is snapshots
    assert (
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'context'"
        ).fetchall()[0][0]
        == 0
    )


def test_context_columns_are_kept_under_a_time_split_unless_the_spec_says_check(tmp_path: Path):
    n = 100
    frame = pl.DataFrame({"trend": np.arange(n, dtype=float), "ctx_x_trend": np.arange(n) * 2.0})
    as_of = np.array([np.datetime64("2024-01-01") + np.timedelta64(i, "D") for i in range(n)])
    split = Split(kind="time", train=np.arange(60), valid=np.arange(60, 80), test=np.arange(80, n))
    kept, dropped = drop_time_proxies(
        split, ["trend", "ctx_x_trend"], frame, as_of, exempt=["ctx_x_trend"]
    )
    assert (kept, dropped) == (["ctx_x_trend"], ["trend"])
    con = _stored(tmp_path)
    assert context.attach(con, _snapshots("2024-02-05")).time_exempt == ["ctx_rates_rate"]
    checked = RATES_SERIES.format(lag=0) + "    check_time_proxy: true\n"
    ingest_context(con, load_spec(_spec(tmp_path, checked)))
    assert context.attach(con, _snapshots("2024-02-05")).time_exempt == []


BANK_ADDITIONAL = REAL_DATA / "bank_marketing" / "bank-additional-full.csv"
needs_bank_additional = pytest.mark.skipif(
    not BANK_ADDITIONAL.exists(), reason=f"real datasets not found at {REAL_DATA}"
)


@needs_bank_additional
def test_bank_additional_loads_every_call_and_the_economy_by_date(warehouse):
    spec = load_spec(shipped_spec("bank_additional"), BANK_ADDITIONAL.parent)
    result = ingest_table(warehouse, spec, "leads", now=NOW)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (41188, 41188, 0)
    stored = ingest_context(warehouse, spec)
    assert stored.rows == {"economy": 470}
    rate, first, last, backwards = warehouse.execute(
        "select avg((status = 'converted')::int), min(created_at), max(created_at), "
        "count(*) filter (where created_at < previous) from (select status, created_at, "
        "lag(created_at) over (order by _source_row) as previous from raw.leads)"
    ).fetchall()[0]
    assert round(rate, 4) == 0.1127  # the published 4,640 yes of 41,188
    assert (first.date().isoformat(), last.date().isoformat()) == ("2008-05-05", "2010-11-26")
    assert backwards == 0  # the derived dates keep the rows' order
    columns = {r[0] for r in warehouse.execute("describe raw.leads").fetchall()}
    assert not columns & {"duration", "euribor3m", "nr_employed", "emp_var_rate"}
    assert {"age", "job", "previous_outcome", "call_weekday"} <= columns


@needs_bank_additional
def test_bank_additional_brings_the_economy_into_the_lead_features(tmp_path: Path):
    spec = Path(__file__).resolve().parents[1] / "crmlens" / "specs" / "bank_additional.yml"
    root = REAL_DATA / "bank_marketing"
    home = tmp_path / "home"
    result = run_crmlens(home, "run", "--spec", str(spec), "--root", str(root))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    con = duckdb.connect(str(home / "serving" / "current.duckdb"), read_only=True)
    columns = [r[0] for r in con.execute("describe features.lead_training").fetchall()]
    ctx = sorted(c for c in columns if c.startswith("ctx_economy_"))
    assert ctx == [
        "ctx_economy_cons_conf_idx",
        "ctx_economy_cons_price_idx",
        "ctx_economy_emp_var_rate",
        "ctx_economy_euribor3m",
        "ctx_economy_nr_employed",
    ]
    assert "euribor3m" not in columns  # the economy is context, not a lead attribute
    nulls = con.execute(
        "select count(*) filter (where ctx_economy_euribor3m is null), count(*) "
        "from features.lead_training"
    ).fetchall()[0]
    assert nulls[0] == 0 and nulls[1] == 41188
