"""The customers' tables: subscriptions, invoices and tickets."""

from __future__ import annotations

import numpy as np
import polars as pl

from crmlens.synthetic.common import key_strings
from crmlens.synthetic.tables import Tables, in_order, key_width, keys_of, nullable_int


def subscriptions(tables: Tables) -> pl.DataFrame:
    """Subscription terms."""
    s, k = tables.w.subscriptions, tables.keys
    return tables.frame(
        "subscriptions",
        {
            "subscription_id": k["subscriptions"],
            "account_id": k["accounts"][s["company"]],
            "plan": s["line"],
            "seats": s["seats"],
            "mrr": np.round(s["mrr"], 2),
            "started_at": tables.ts(s["start"]),
            "renewal_date": tables.dt(s["renewal"]),
            "ended_at": tables.ts(s["ended"]),
            "status": s["status"],
            "cancel_reason": s["reason"],
        },
    )


def invoices(tables: Tables) -> pl.DataFrame:
    """Invoices in order of issue."""
    inv, k = in_order(tables.w.invoices, "issued"), tables.keys
    n = len(inv["issued"])
    return tables.frame(
        "invoices",
        {
            "invoice_id": key_strings("INV", n, key_width(7, n)),
            "account_id": k["accounts"][inv["company"]],
            "subscription_id": k["subscriptions"][inv["sub"]],
            "amount": np.round(inv["amount"], 2),
            "issued_at": tables.ts(inv["issued"]),
            "due_at": tables.ts(inv["due"]),
            "paid_at": tables.ts(inv["paid"]),
            "status": inv["status"],
        },
    )


def tickets(tables: Tables) -> pl.DataFrame:
    """Support tickets in order of creation."""
    t, k = in_order(tables.w.tickets, "created"), tables.keys
    n = len(t["created"])
    return tables.frame(
        "tickets",
        {
            "ticket_id": key_strings("TCK", n, key_width(6, n)),
            "account_id": k["accounts"][t["company"]],
            "contact_id": keys_of(k["contacts"], t["contact"]),
            "priority": t["priority"],
            "created_at": tables.ts(t["created"]),
            "resolved_at": tables.ts(t["resolved"]),
            "csat": nullable_int(t["csat"]),
        },
    )
