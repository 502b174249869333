"""The sizes the generator knows: tiny (tests), small (demo), medium (benchmarks), large."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """How much CRM and how many events one generation produces.

    Attributes:
        name: The scale's name (the key in :data:`SCALES`).
        years: Length of the history window, ending on ``end_date``.
        accounts: Target number of accounts, including those created when a lead
            from a new company converts (the realised count varies a little).
        contacts_per_account: Mean number of contacts per account.
        leads: Number of leads created over the window.
        outbound_opportunities: Deals that reps open directly at known accounts,
            on top of the deals created by lead conversion.
        campaigns: Marketing campaigns started over the window.
        events: Target number of behavioural events (the realised count is within
            a few per cent).
        regions: How many sales regions (3 or 4) the company sells in.
    """

    name: str
    years: int
    accounts: int
    contacts_per_account: float
    leads: int
    outbound_opportunities: int
    campaigns: int
    events: int
    regions: int = 4


SCALES: dict[str, Scale] = {
    s.name: s
    for s in (
        Scale("tiny", 1, 220, 11.0, 1_500, 140, 24, 100_000, regions=3),
        Scale("small", 2, 2_000, 11.0, 10_000, 1_700, 60, 1_000_000),
        Scale("medium", 2, 20_000, 11.0, 100_000, 17_000, 150, 10_000_000),
        Scale("large", 2, 60_000, 11.0, 300_000, 51_000, 300, 100_000_000),
    )
}
