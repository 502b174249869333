"""The shipped specs bring the public datasets into the canonical model, row for row."""

from __future__ import annotations

import hashlib

import pytest

from crmlens.ingest import ingest_table
from crmlens.sources import shipped_spec
from crmlens.sources.spec import load_spec
from tests.conftest import NOW, REAL_DATA

pytestmark = pytest.mark.skipif(
    not REAL_DATA.exists(), reason=f"real datasets not found at {REAL_DATA}"
)


def test_bank_marketing_loads_every_call_as_a_lead(warehouse):
    root = REAL_DATA / "bank_marketing"
    digest = hashlib.sha256((root / "bank-full.csv").read_bytes()).hexdigest()
    assert digest == "d1513ec63b385506f7cfce9f2c5caa9fe99e7ba4e8c3fa264b3aaf0f849ed32d"
    result = ingest_table(
        warehouse, load_spec(shipped_spec("bank_marketing"), root), "leads", now=NOW
    )

    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (45211, 45211, 0)
    rate, first, last, years = warehouse.execute(
        "select avg((status = 'converted')::int), min(created_at), max(created_at), "
        "count(distinct year(created_at)) from raw.leads"
    ).fetchall()[0]
    assert round(rate, 4) == 0.1170  # the published 11.70 % yes
    assert (first.year, first.month, last.year, last.month, years) == (2008, 5, 2010, 11, 3)
    columns = {r[0] for r in warehouse.execute("describe raw.leads").fetchall()}
    assert "duration" not in columns  # known only after the call: it would leak the outcome
    assert {"age", "job", "balance", "previous_outcome"} <= columns


def test_telco_loads_every_customer_as_an_account_with_a_subscription(warehouse):
    root = REAL_DATA / "telco_customer_churn"
    spec = load_spec(shipped_spec("telco_churn"), root)
    accounts = ingest_table(warehouse, spec, "accounts", now=NOW)
    subscriptions = ingest_table(warehouse, spec, "subscriptions", now=NOW)

    assert (accounts.rows_in, accounts.rows_loaded, accounts.rows_quarantined) == (7043, 7043, 0)
    assert (subscriptions.rows_loaded, subscriptions.rows_quarantined) == (7043, 0)
    churn, blank_total = warehouse.execute(
        "select avg((s.status = 'cancelled')::int), count(*) filter (where a.total_charges is null) "
        "from raw.subscriptions s join raw.accounts a using (account_id)"
    ).fetchall()[0]
    assert round(churn, 4) == 0.2654  # the published 26.54 % churn
    assert blank_total == 11  # TotalCharges blank for the tenure-0 customers: null, not zero
