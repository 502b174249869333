"""The workbench: one call to a mart, a training set, a variant compared with the champion."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from crmlens.settings import get_settings
from workbench import Workbench


@pytest.fixture(scope="module")
def wb(tiny_home: Path) -> Workbench:
    return Workbench(get_settings(home=tiny_home))


def test_lists_marts_and_scores_with_their_columns(wb):
    listing = wb.marts()
    names = set(listing["name"])
    assert {"fct_leads", "fct_opportunities", "fct_mrr_monthly", "lead_scores"} <= names
    assert "lead_id" in listing.filter(pl.col("name") == "fct_leads")["columns"][0].to_list()
    assert "raw" not in set(listing["schema"])  # raw and quarantine are the pipeline's


def test_reads_a_mart_as_polars_or_pandas(wb):
    leads = wb.read("fct_leads")
    assert leads.height > 0 and "is_converted" in leads.columns
    assert wb.read("marts.fct_leads", pandas=True).shape == leads.shape
    assert wb.read("lead_scores", where="score >= 0").height > 0
    with pytest.raises(KeyError, match="no table or view named"):
        wb.read("fct_nothing")


def test_a_variant_trains_with_the_pipelines_code_and_is_compared(wb):
    ts = wb.training_set("lead_scoring")
    assert {"lead_id", "as_of", "label"} <= set(ts.frame.columns)
    richer = ts.with_feature(
        "pricing_share", pl.col("pricing_view_30d") / (pl.col("page_view_30d") + 1)
    )
    variant = wb.train_variant("lead_scoring", richer, name="+ pricing share", skip_gate=True)
    assert variant.outcome.trained and variant.mlflow_run_id
    assert "pricing_share" in variant.outcome.model.layout.numeric
    table = wb.compare_with_champion(variant)
    assert table["model"].to_list()[0] == "variant: + pricing share"
    assert {"rule_based", "logistic_regression"} <= set(table["model"])
    assert table["roc_auc"].is_between(0, 1).all()


def test_the_workbench_never_opens_the_pipelines_warehouse(wb):
    # It holds the snapshot (a link to it), so the pipeline can still open the warehouse for
    # writing: in one process DuckDB refuses that if a read-only connection to it existed.
    from crmlens.warehouse import connect

    wb.read("fct_leads")
    connect(wb.settings.warehouse_path).close()


def test_sql_and_columns(wb):
    counts = wb.sql("select count(*) as n from marts.fct_leads where source = ?", ["web"])
    assert counts["n"][0] >= 0
    assert "lead_id" in wb.columns("fct_leads")["column"].to_list()
