"""The registry ingest works from: each canonical table's schema, key and references."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from crmlens.contracts.fields import ContractSchema
from crmlens.contracts.schemas import (
    AccountsSchema,
    ActivitiesSchema,
    CampaignMembersSchema,
    CampaignsSchema,
    ContactsSchema,
    EventsSchema,
    InvoicesSchema,
    LeadsSchema,
    OpportunitiesSchema,
    OpportunityStageHistorySchema,
    SubscriptionsSchema,
    TeamsSchema,
    TicketsSchema,
    UsersSchema,
)


@dataclass(frozen=True)
class TableContract:
    """What ingest needs to know about a canonical table beyond its schema."""

    name: str
    schema: type[ContractSchema]
    key: tuple[str, ...]
    updated_at: str | None = None
    # Columns whose values must exist in another raw table (column -> (table, column)).
    # Checked against what is loaded or quarantined there: an event for a contact
    # the CRM never had is a defect; one for a contact with a typo in its e-mail is not.
    references: dict[str, tuple[str, str]] = field(default_factory=dict)
    json_columns: tuple[str, ...] = ()
    # The column whose day names the partition of partitioned tables.
    partition_column: str | None = None

    @property
    def columns(self) -> dict[str, pl.DataType]:
        """Canonical column -> polars dtype, in contract order."""
        return {name: col.dtype.type for name, col in self.schema.to_schema().columns.items()}

    @property
    def required(self) -> tuple[str, ...]:
        """The columns that may not be empty, in contract order."""
        return tuple(
            name for name, col in self.schema.to_schema().columns.items() if not col.nullable
        )

    @property
    def descriptions(self) -> dict[str, str]:
        """Canonical column -> its sentence, in contract order."""
        return {
            name: col.description or "" for name, col in self.schema.to_schema().columns.items()
        }


CONTRACTS: dict[str, TableContract] = {
    c.name: c
    for c in (
        TableContract("teams", TeamsSchema, ("team_id",)),
        TableContract("users", UsersSchema, ("user_id",)),
        TableContract("accounts", AccountsSchema, ("account_id",), "updated_at"),
        TableContract(
            "contacts",
            ContactsSchema,
            ("contact_id",),
            "updated_at",
        ),
        TableContract("leads", LeadsSchema, ("lead_id",), "updated_at"),
        TableContract("opportunities", OpportunitiesSchema, ("opportunity_id",), "updated_at"),
        TableContract(
            "opportunity_stage_history",
            OpportunityStageHistorySchema,
            ("opportunity_id", "changed_at"),
            references={"opportunity_id": ("opportunities", "opportunity_id")},
        ),
        TableContract("activities", ActivitiesSchema, ("activity_id",)),
        TableContract("campaigns", CampaignsSchema, ("campaign_id",)),
        TableContract(
            "campaign_members",
            CampaignMembersSchema,
            ("campaign_id", "member_id"),
            references={"campaign_id": ("campaigns", "campaign_id")},
        ),
        TableContract("subscriptions", SubscriptionsSchema, ("subscription_id",)),
        TableContract("invoices", InvoicesSchema, ("invoice_id",)),
        TableContract("tickets", TicketsSchema, ("ticket_id",)),
        TableContract(
            "events",
            EventsSchema,
            ("event_id",),
            references={"contact_id": ("contacts", "contact_id")},
            json_columns=("properties",),
            partition_column="occurred_at",
        ),
    )
}

TABLES: tuple[str, ...] = tuple(CONTRACTS)


def contract(table: str) -> TableContract:
    """The contract of a canonical table, with a clear error for an unknown name."""
    try:
        return CONTRACTS[table]
    except KeyError:
        raise KeyError(
            f"unknown canonical table {table!r}; the canonical tables are: {', '.join(TABLES)}"
        ) from None
