"""Data contracts for the canonical CRM model (DESIGN.md, "The canonical CRM model").

One pandera ``DataFrameModel`` per canonical table, on pandera's polars backend
(it validates millions of rows in seconds and reports the row position of every
failure, which is what routing bad rows to quarantine needs). Ingest builds the
raw tables from these, and the dbt sources document the same columns.

- :mod:`.vocabulary`: the canonical values of the enumerated fields;
- :mod:`.checks`: "not in the future" (against a clock tests can pin) and
  "an end after its start";
- :mod:`.fields`: the kinds of field (timestamp, e-mail, money, key...);
- :mod:`.schemas`: the fourteen tables;
- :mod:`.registry`: what ingest needs beyond a schema (key, references, partitions).

Keys are strings as the CRM gives them; timestamps are naive and mean UTC.
"""

from crmlens.contracts.checks import (
    DEFAULT_FUTURE_TOLERANCE,
    latest_allowed_timestamp,
    validation_clock,
)
from crmlens.contracts.registry import CONTRACTS, TABLES, TableContract, contract
from crmlens.contracts.vocabulary import (
    ACCOUNT_TIERS,
    ACCOUNT_TYPES,
    ACTIVITY_TYPES,
    CAMPAIGN_CHANNELS,
    CANONICAL_STAGE_MEANING,
    CANONICAL_STAGE_PROBABILITY,
    CLOSED_STAGES,
    EVENT_TYPES,
    FORECAST_CATEGORIES,
    INVOICE_STATUSES,
    LEAD_STATUSES,
    LIFECYCLE_STAGES,
    MEMBER_STATUSES,
    MEMBER_TYPES,
    OPEN_STAGES,
    OPPORTUNITY_STAGES,
    OTHER,
    SENIORITIES,
    STAGE_MEANINGS,
    SUBSCRIPTION_STATUSES,
    TICKET_PRIORITIES,
    USER_ROLES,
    VOCABULARIES,
    Vocabulary,
    normalized,
    vocabularies_of,
    vocabulary_of,
)

__all__ = [
    "ACCOUNT_TIERS",
    "ACCOUNT_TYPES",
    "ACTIVITY_TYPES",
    "CAMPAIGN_CHANNELS",
    "CANONICAL_STAGE_MEANING",
    "CANONICAL_STAGE_PROBABILITY",
    "CLOSED_STAGES",
    "CONTRACTS",
    "DEFAULT_FUTURE_TOLERANCE",
    "EVENT_TYPES",
    "FORECAST_CATEGORIES",
    "INVOICE_STATUSES",
    "LEAD_STATUSES",
    "LIFECYCLE_STAGES",
    "MEMBER_STATUSES",
    "MEMBER_TYPES",
    "OPEN_STAGES",
    "OPPORTUNITY_STAGES",
    "OTHER",
    "SENIORITIES",
    "STAGE_MEANINGS",
    "SUBSCRIPTION_STATUSES",
    "TABLES",
    "TICKET_PRIORITIES",
    "USER_ROLES",
    "VOCABULARIES",
    "TableContract",
    "Vocabulary",
    "contract",
    "latest_allowed_timestamp",
    "normalized",
    "validation_clock",
    "vocabularies_of",
    "vocabulary_of",
]
