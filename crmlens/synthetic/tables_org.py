"""The organisation's tables: teams, users, accounts and contacts."""

from __future__ import annotations

import numpy as np
import polars as pl

from crmlens.synthetic import vocab
from crmlens.synthetic.org import TIER_NAMES
from crmlens.synthetic.tables import Tables, keys_of, nullable_float, nullable_int


def teams(tables: Tables) -> pl.DataFrame:
    """Teams, keyed in order of creation, with their managers."""
    t, k = tables.w.teams, tables.keys
    return tables.frame(
        "teams",
        {
            "team_id": k["teams"],
            "name": t["name"],
            "region": t["region"],
            "manager_user_id": k["users"][t["manager"]],
        },
    )


def users(tables: Tables) -> pl.DataFrame:
    """Users: reps, managers and marketers, with a work e-mail address."""
    u, k = tables.w.users, tables.keys
    first = pl.Series(vocab.FIRST_NAMES).gather(u["first"])
    last = pl.Series(vocab.LAST_NAMES).gather(u["last"])
    n = len(u["role"])
    local = (
        first.str.to_lowercase()
        + "."
        + last.str.to_lowercase().str.replace_all(r"[^a-z]", "")
        + pl.Series(np.arange(1, n + 1)).cast(pl.Utf8)
    )
    return tables.frame(
        "users",
        {
            "user_id": k["users"],
            "name": first + " " + last,
            "email": local + "@crmlens-demo.com",
            "team_id": k["teams"][u["team"]],
            "role": u["role"],
            "hourly_cost": u["hourly_cost"],
            "active": u["active"],
        },
    )


def accounts(tables: Tables) -> pl.DataFrame:
    """Accounts in order of creation, with parents, type and the last change."""
    w, k = tables.w, tables.keys
    comp, rng = w.companies, tables.rng
    idx = tables.account_order
    n = len(idx)
    end = float(tables.clock.days)
    # Parents: a few accounts belong to an enterprise account created before them.
    ent = idx[comp["tier"][idx] == 2]
    parent = np.full(n, -1, dtype=np.int64)
    if len(ent):
        want = (rng.random(n) < 0.03) & (comp["tier"][idx] < 2)
        cand = ent[rng.integers(0, len(ent), n)]
        ok = want & (comp["created"][cand] < comp["created"][idx])
        parent[ok] = cand[ok]
    acc_type = np.where(
        comp["customer_now"][idx],
        "customer",
        np.where(
            comp["customer_ever"][idx],
            "former_customer",
            np.where(comp["partner"][idx], "partner", "prospect"),
        ),
    )
    # Last change: creation, subscription starts and ends, deal updates.
    updated = comp["created"][idx].copy()
    last = np.full(len(comp["created"]), -np.inf)
    subs = w.subscriptions
    for t in (subs["start"], subs["ended"]):
        ok = ~np.isnan(t) & (t < end)
        np.maximum.at(last, subs["company"][ok], t[ok])
    np.maximum.at(last, w.opps["company"], w.opps["updated"])
    updated = np.maximum(updated, last[idx])
    region_names = np.array(tables.w.regions, dtype=object)
    nps = comp["nps"][idx]
    return tables.frame(
        "accounts",
        {
            "account_id": k["accounts"][idx],
            "name": tables.names.company.gather(idx),
            "domain": tables.names.domain.gather(idx),
            "industry": np.where(
                comp["industry_known"][idx],
                np.array([i for i, _, _ in vocab.INDUSTRIES], dtype=object)[comp["industry"][idx]],
                None,
            ),
            "employee_count": nullable_int(
                np.where(comp["employees_known"][idx], comp["employees"][idx], np.nan)
            ),
            "annual_revenue": nullable_float(
                np.where(comp["revenue_known"][idx], comp["revenue"][idx], np.nan)
            ),
            "country": comp["country"][idx],
            "region": region_names[comp["region"][idx]],
            "parent_account_id": keys_of(k["accounts"], parent),
            "owner_user_id": k["users"][comp["owner"][idx]],
            "account_type": acc_type.astype(object),
            "tier": np.array(TIER_NAMES, dtype=object)[comp["tier"][idx]],
            "created_at": tables.ts(comp["created"][idx]),
            "updated_at": tables.ts(updated),
            "nps_score": nullable_int(nps),
            "uses_competitor": comp["uses_competitor"][idx],
            "crm_import_batch": "batch_"
            + pl.Series(comp["import_batch"][idx]).cast(pl.Utf8).str.zfill(2),
        },
    )


def contacts(tables: Tables) -> pl.DataFrame:
    """Contacts in order of creation, with a lifecycle stage from their story."""
    w, k, rng = tables.w, tables.keys, tables.rng
    ppl, comp, leads = w.people, w.companies, w.leads
    idx = tables.contact_order
    n = len(idx)
    end = float(tables.clock.days)
    company = ppl["company"][idx]
    # Lifecycle from what happened to the person and their account.
    stage = np.where(ppl["opt_in"][idx], "subscriber", "lead").astype(object)
    lead_status = np.full(len(ppl["created"]), None, dtype=object)
    lead_status[leads["person"]] = leads["status"]
    ls = lead_status[idx]
    stage[np.isin(ls, ("new", "working", "nurturing"))] = "lead"
    stage[ls == "qualified"] = "sql"
    stage[(ls == "working") & (rng.random(n) < 0.4)] = "mql"
    open_deal = np.zeros(len(comp["created"]), dtype=bool)
    open_deal[w.opps["company"][np.isnan(w.opps["closed"])]] = True
    stage[open_deal[company] | (ls == "converted")] = "opportunity"
    stage[comp["customer_ever"][company] & ~comp["customer_now"][company]] = "other"
    cust = comp["customer_now"][company]
    stage[cust] = np.where(rng.random(int(cust.sum())) < 0.08, "evangelist", "customer")
    prefix = np.array([vocab.PHONE_PREFIX[c] for c in comp["country"][company]], dtype=object)
    digits = ppl["phone_digits"][idx]
    phone = (
        pl.Series(prefix, dtype=pl.Utf8)
        + " "
        + pl.Series(digits // 10_000).cast(pl.Utf8)
        + " "
        + pl.Series(digits % 10_000).cast(pl.Utf8).str.zfill(4)
    ).scatter(np.flatnonzero(~ppl["phone_known"][idx]), None)
    created = ppl["created"][idx]
    updated = np.minimum(created + rng.exponential(90.0, n), end - 1e-6)
    updated = np.maximum(updated, created)
    return tables.frame(
        "contacts",
        {
            "contact_id": k["contacts"][idx],
            "account_id": k["accounts"][company],
            "first_name": tables.names.first_name.gather(idx),
            "last_name": tables.names.last_name.gather(idx),
            "email": tables.names.email.gather(idx),
            "phone": phone,
            "title": ppl["title"][idx],
            "seniority": ppl["seniority"][idx],
            "lifecycle_stage": stage,
            "lead_source": ppl["source"][idx],
            "opt_in": ppl["opt_in"][idx],
            "do_not_contact": ppl["do_not_contact"][idx],
            "created_at": tables.ts(created),
            "updated_at": tables.ts(updated),
        },
    )
