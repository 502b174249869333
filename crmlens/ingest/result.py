"""What one load did: :class:`IngestResult`, whose counts reconcile or the load raised."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any


class ReconciliationError(RuntimeError):
    """rows_in != rows_loaded + rows_quarantined: a row went missing or was counted twice."""


@dataclass
class IngestResult:
    """What one load did; the counts reconcile or the load raised."""

    table: str
    source: str
    partitions: list[str] | None = None
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    superseded: int = 0
    reasons: Counter = field(default_factory=Counter)
    files: int = 0
    custom_attributes: list[str] = field(default_factory=list)
    # What a user should know though nothing was lost (a file with a header and no rows).
    warnings: list[str] = field(default_factory=list)
    # The columns the source gave (None: it gave none, its files unreadable), and how
    # they differ from the contract and from the previous load (schema drift).
    columns: list[str] | None = None
    schema_changes: list[str] = field(default_factory=list)
    # Rows of raw marked deleted once the load is done (when the spec declares deletions).
    marked_deleted: int = 0
    seconds: float = 0.0

    @property
    def reconciles(self) -> bool:
        """Whether every row read was loaded or quarantined, exactly once."""
        return self.rows_in == self.rows_loaded + self.rows_quarantined

    def check(self) -> None:
        """Raise :class:`ReconciliationError` unless the counts reconcile."""
        if not self.reconciles:
            raise ReconciliationError(
                f"{self.table}: {self.rows_in} rows in but {self.rows_loaded} loaded + "
                f"{self.rows_quarantined} quarantined"
            )

    def absorb(self, part: IngestResult) -> None:
        """Add the counts of one committed chunk of this load."""
        for name in ("rows_in", "rows_loaded", "rows_quarantined", "inserted", "updated"):
            setattr(self, name, getattr(self, name) + getattr(part, name))
        for name in ("unchanged", "superseded", "files"):
            setattr(self, name, getattr(self, name) + getattr(part, name))
        self.reasons.update(part.reasons)
        self.warnings += part.warnings
        self.schema_changes += part.schema_changes
        if part.columns is not None:
            self.columns = sorted(set(self.columns or []) | set(part.columns))
        self.custom_attributes = sorted(set(self.custom_attributes) | set(part.custom_attributes))

    def metadata(self) -> dict[str, Any]:
        """Flat figures for Dagster asset metadata and the CLI."""
        out = {k: v for k, v in asdict(self).items() if k not in ("reasons", "partitions")}
        out["reconciled"] = self.reconciles
        out["quarantine_reasons"] = dict(self.reasons)
        if self.partitions is not None:
            out["partitions"] = (
                f"{self.partitions[0]}..{self.partitions[-1]} ({len(self.partitions)})"
                if len(self.partitions) > 1
                else ",".join(self.partitions)
            )
        return out
