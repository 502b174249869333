"""The in-memory state of one simulation, shared by the stage modules.

Every entity is a ``dict`` of equal-length numpy arrays indexed by an internal
integer id (its position). Timestamps are simulation days (float, see
:class:`~crmlens.synthetic.common.Clock`); ``nan`` means "did not happen (yet)".
CRM keys (``A000001``…) are given only when tables are written, in order of
creation, so they read chronologically like a real CRM's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from crmlens.synthetic.common import Clock
from crmlens.synthetic.scales import Scale

Arrays = dict[str, np.ndarray]


@dataclass
class World:
    """Everything simulated so far. Stage modules add to it in causal order."""

    seed: int
    scale: Scale
    clock: Clock
    regions: tuple[str, ...]
    teams: Arrays = field(default_factory=dict)
    users: Arrays = field(default_factory=dict)
    # Every company the simulation knows: accounts already in the CRM and the
    # companies of new-company leads (they become accounts when the lead converts).
    companies: Arrays = field(default_factory=dict)
    # Every person at those companies; a person is a CRM contact once `created` is set.
    people: Arrays = field(default_factory=dict)
    campaigns: Arrays = field(default_factory=dict)
    leads: Arrays = field(default_factory=dict)
    opps: Arrays = field(default_factory=dict)
    history: Arrays = field(default_factory=dict)
    activities: list[Arrays] = field(default_factory=list)
    members: list[Arrays] = field(default_factory=list)
    subscriptions: Arrays = field(default_factory=dict)
    invoices: Arrays = field(default_factory=dict)
    tickets: Arrays = field(default_factory=dict)
    # Monthly health of each company (companies × months, see `health_months`).
    health: np.ndarray | None = None
    health_months: np.ndarray | None = None
    # Events known before the day-by-day pass (lead and e-mail engagement).
    sparse_events: Arrays = field(default_factory=dict)

    def health_at(self, company: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Effective health of companies at simulation times.

        The monthly latent, minus a decline over the 120 days before a churn (the
        customer disengages before it leaves, which is what usage, tickets and
        late payments show).

        Args:
            company: company indices.
            t: simulation times, one per company given.

        Returns:
            The health, one per pair.
        """
        assert self.health is not None and self.health_months is not None
        m = np.clip(np.searchsorted(self.health_months, t, side="right") - 1, 0, None)
        h = self.health[company, m]
        churn_at = self.companies["churned_at"][company]
        with np.errstate(invalid="ignore"):
            lead_time = np.clip(1.0 - (churn_at - t) / 120.0, 0.0, 1.0)
        return h - 1.4 * np.nan_to_num(lead_time, nan=0.0)


def activity_rows(
    kind: np.ndarray,
    t: np.ndarray,
    user: np.ndarray,
    *,
    account: np.ndarray | None = None,
    contact: np.ndarray | None = None,
    lead: np.ndarray | None = None,
    opp: np.ndarray | None = None,
    duration: np.ndarray | None = None,
    outcome: np.ndarray | None = None,
) -> Arrays:
    """Activity rows as columns; missing references are -1, missing numbers nan.

    Args:
        kind: activity type per row.
        t: when.
        user: who did it.
        account: the account, if any.
        contact: the contact, if any.
        lead: the lead, if any.
        opp: the opportunity, if any.
        duration: minutes, if any.
        outcome: as logged, if any.

    Returns:
        The rows' columns.
    """
    n = len(t)

    def ref(a: np.ndarray | None) -> np.ndarray:
        return np.full(n, -1, dtype=np.int64) if a is None else np.asarray(a, dtype=np.int64)

    return {
        "kind": np.asarray(kind, dtype=object),
        "t": np.asarray(t, dtype=float),
        "user": ref(user),
        "account": ref(account),
        "contact": ref(contact),
        "lead": ref(lead),
        "opp": ref(opp),
        "duration": np.full(n, np.nan) if duration is None else np.asarray(duration, dtype=float),
        "outcome": np.full(n, None, dtype=object) if outcome is None else outcome,
    }
