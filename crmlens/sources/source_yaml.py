"""The dbt sources of the raw tables, rendered from the contracts.

``dbt_project/models/staging/_crm__sources.yml`` is this module's output, committed
so dbt and reviewers see it; a test renders it again and compares, so the contract
and the dbt documentation of the raw tables never drift apart. Re-render with
``python -m crmlens.sources.source_yaml``.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from crmlens.contracts import CONTRACTS, TABLES

SOURCES_PATH = (
    Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "staging" / "_crm__sources.yml"
)

# The column a table's freshness is judged by (the newest value it holds).
LOADED_AT = {
    "accounts": "updated_at",
    "contacts": "updated_at",
    "leads": "updated_at",
    "opportunities": "updated_at",
    "opportunity_stage_history": "changed_at",
    "activities": "occurred_at",
    "campaign_members": "enrolled_at",
    "subscriptions": "started_at",
    "invoices": "issued_at",
    "tickets": "created_at",
    "events": "occurred_at",
}

HEADER = """\
# Rendered from crmlens/contracts/ by crmlens/sources/source_yaml.py: edit the
# contract, then re-render (python -m crmlens.sources.source_yaml). A test fails if
# this file and the contracts disagree.
"""


def render() -> str:
    """The dbt sources YAML of the raw tables: a table per contract, a column per field."""
    tables = []
    for name in TABLES:
        contract = CONTRACTS[name]
        table: dict = {
            "name": name,
            "description": " ".join((contract.schema.__doc__ or "").split()),
            "meta": {"dagster": {"asset_key": ["raw", name]}},
            "columns": [
                {"name": column, "description": description}
                for column, description in contract.descriptions.items()
            ],
        }
        if name in LOADED_AT:
            table["loaded_at_field"] = LOADED_AT[name]
            table["freshness"] = {
                "warn_after": {"count": 2, "period": "day"},
                "error_after": {"count": 7, "period": "day"},
            }
        tables.append(table)
    document = {
        "version": 2,
        "sources": [
            {
                "name": "crm",
                "description": "Canonical CRM tables as ingest loaded them (valid rows only).",
                "schema": "raw",
                "tables": tables,
            }
        ],
    }
    return HEADER + yaml.safe_dump(document, sort_keys=False, width=100, allow_unicode=True)


if __name__ == "__main__":
    SOURCES_PATH.write_text(render())
    print(f"wrote {SOURCES_PATH}")
