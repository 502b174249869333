"""Turn the simulated world into the canonical tables (typed polars frames).

Keys are given here, in order of creation. Columns follow the contract's order
(:data:`crmlens.contracts.CONTRACTS`), then the custom attributes.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crmlens.contracts import CONTRACTS
from crmlens.synthetic import vocab
from crmlens.synthetic.common import key_strings, stream
from crmlens.synthetic.org import TIER_NAMES
from crmlens.synthetic.world import World

CUSTOM_COLUMNS = {
    "accounts": ("nps_score", "uses_competitor", "crm_import_batch"),
    "leads": (
        "budget_confirmed",
        "timeline",
        "decision_maker",
        "form_variant",
        "preferred_language",
        "title",
        "industry",
        "employee_count",
    ),
}
FORECAST = {
    "prospecting": "pipeline",
    "qualification": "pipeline",
    "needs_analysis": "best_case",
    "proposal": "best_case",
    "negotiation": "commit",
    "closed_won": "closed",
    "closed_lost": "omitted",
}


def _width(prefix_min: int, n: int) -> int:
    return max(prefix_min, len(str(n)))


def _keys_for(prefix: str, width: int, order: np.ndarray, size: int) -> np.ndarray:
    """Keys by creation rank for entity indices ``order``; other indices get None."""
    keys = np.full(size, None, dtype=object)
    keys[order] = key_strings(prefix, len(order), _width(width, len(order)))
    return keys


def _nullable_int(x: np.ndarray) -> pl.Series:
    """Float array with nan for missing → Int64 series with nulls."""
    x = np.asarray(x, dtype=float)
    s = pl.Series(np.nan_to_num(x, nan=0.0).astype(np.int64))
    missing = np.flatnonzero(np.isnan(x))
    return s.scatter(missing, None) if len(missing) else s


def _nullable_float(x: np.ndarray) -> pl.Series:
    x = np.asarray(x, dtype=float)
    s = pl.Series(np.nan_to_num(x, nan=0.0))
    missing = np.flatnonzero(np.isnan(x))
    return s.scatter(missing, None) if len(missing) else s


def _opt(keys: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Keys of indices, None where the index is -1."""
    idx = np.asarray(idx, dtype=np.int64)
    out = keys[np.maximum(idx, 0)]
    return np.where(idx >= 0, out, None)


class Tables:
    """Builds every canonical CRM table from a finished :class:`World`."""

    def __init__(self, world: World) -> None:
        self.w = world
        self.clock = world.clock
        self.rng = stream(world.seed, "tables")
        w = world
        comp, ppl = w.companies, w.people
        self.account_order = np.flatnonzero(~np.isnan(comp["created"]))
        self.account_order = self.account_order[
            np.argsort(comp["created"][self.account_order], kind="stable")
        ]
        self.contact_order = np.flatnonzero(~np.isnan(ppl["created"]))
        self.contact_order = self.contact_order[
            np.argsort(ppl["created"][self.contact_order], kind="stable")
        ]
        self.keys = {
            "teams": key_strings("T", len(w.teams["name"]), 3),
            "users": key_strings("U", len(w.users["role"]), 4),
            "accounts": _keys_for("A", 6, self.account_order, len(comp["created"])),
            "contacts": _keys_for("C", 7, self.contact_order, len(ppl["created"])),
            "leads": key_strings("L", len(w.leads["t0"]), 7),
            "opportunities": key_strings("O", len(w.opps["created"]), 6),
            "campaigns": key_strings("CMP", len(w.campaigns["start"]), 4),
            "subscriptions": key_strings("SUB", len(w.subscriptions["start"]), 6),
        }
        self._names()

    # --- helpers -------------------------------------------------------------------
    def ts(self, t: np.ndarray) -> pl.Series:
        """Simulation days → naive datetime (seconds); nan → null."""
        t = np.asarray(t, dtype=float)
        secs = self.clock.to_seconds(np.nan_to_num(t, nan=0.0))
        s = pl.from_epoch(pl.Series(secs), time_unit="s")
        missing = np.flatnonzero(np.isnan(t))
        return s.scatter(missing, None) if len(missing) else s

    def dt(self, t: np.ndarray) -> pl.Series:
        return self.ts(t).dt.date()

    def _names(self) -> None:
        """Company names and domains, person names and e-mail addresses."""
        comp, ppl = self.w.companies, self.w.people
        a = pl.Series(vocab.NAME_PARTS_A).gather(comp["part_a"])
        b = pl.Series(vocab.NAME_PARTS_B).gather(comp["part_b"])
        la = pl.Series(vocab.LAST_NAMES).gather(comp["last_a"])
        lb = pl.Series(vocab.LAST_NAMES).gather(comp["last_b"])
        sfx = pl.Series(vocab.NAME_SUFFIXES).gather(comp["suffix"])
        pat = pl.Series(comp["pattern"])
        df = pl.DataFrame({"a": a, "b": b, "la": la, "lb": lb, "sfx": sfx, "pat": pat})
        df = df.with_columns(
            name=pl.when(pl.col("pat") == 0)
            .then(pl.concat_str("a", "b", "sfx", separator=" "))
            .when(pl.col("pat") == 1)
            .then(pl.concat_str("la", "b", "sfx", separator=" "))
            .when(pl.col("pat") == 2)
            .then(pl.concat_str(pl.col("la"), pl.lit("&"), "lb", "sfx", separator=" "))
            .otherwise(
                pl.concat_str(pl.col("la") + ",", pl.col("lb"), pl.lit("& Co"), separator=" ")
            ),
            stem=pl.when(pl.col("pat") == 0)
            .then(pl.col("a") + pl.col("b"))
            .when(pl.col("pat") == 1)
            .then(pl.col("la") + pl.col("b"))
            .otherwise(pl.col("la") + pl.col("lb")),
        )
        tld = {
            **{c: f".{c.lower()}" for c in ("DE", "FR", "NL", "SE", "ES", "JP", "IN", "MX")},
            **{"GB": ".co.uk", "AU": ".com.au", "BR": ".com.br"},
        }
        df = df.with_columns(
            stem=pl.col("stem").str.to_lowercase().str.replace_all(r"[^a-z0-9]", ""),
            tld=pl.Series([tld.get(c, ".com") for c in comp["country"]]),
        )
        df = df.with_columns(n=pl.int_range(pl.len()).over("stem"))
        df = df.with_columns(
            domain=pl.when(pl.col("n") == 0)
            .then(pl.col("stem") + pl.col("tld"))
            .otherwise(pl.col("stem") + (pl.col("n") + 1).cast(pl.Utf8) + pl.col("tld"))
        )
        self.company_name = df["name"]
        self.company_suffix = df["sfx"]
        self.domain = df["domain"]

        first = pl.Series(vocab.FIRST_NAMES).gather(ppl["first"])
        last = pl.Series(vocab.LAST_NAMES).gather(ppl["last"])
        dom = self.domain.gather(ppl["company"])
        pf = pl.DataFrame({"first": first, "last": last, "dom": dom})
        pf = pf.with_columns(
            local=(
                pl.col("first").str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")
                + "."
                + pl.col("last").str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")
            )
        )
        pf = pf.with_columns(n=pl.int_range(pl.len()).over("local", "dom"))
        pf = pf.with_columns(
            email=pl.when(pl.col("n") == 0)
            .then(pl.col("local") + "@" + pl.col("dom"))
            .otherwise(pl.col("local") + (pl.col("n") + 1).cast(pl.Utf8) + "@" + pl.col("dom"))
        )
        self.first_name, self.last_name, self.email = pf["first"], pf["last"], pf["email"]

    def _frame(self, table: str, cols: dict[str, object]) -> pl.DataFrame:
        """Columns in contract order, then custom attributes; every canonical column present."""
        canonical = list(CONTRACTS[table].columns)
        missing = set(canonical) - set(cols)
        extra = [c for c in cols if c not in canonical]
        assert not missing, f"{table}: missing {missing}"
        assert extra == list(CUSTOM_COLUMNS.get(table, ())), f"{table}: extra {extra}"
        out = {}
        for c in canonical + extra:
            v = cols[c]
            if isinstance(v, np.ndarray) and v.dtype == object:
                v = pl.Series(c, v.tolist(), dtype=pl.Utf8)
            out[c] = v
        return pl.DataFrame(out)

    # --- tables ----------------------------------------------------------------------------
    def teams(self) -> pl.DataFrame:
        t, k = self.w.teams, self.keys
        return self._frame(
            "teams",
            {
                "team_id": k["teams"],
                "name": t["name"],
                "region": t["region"],
                "manager_user_id": k["users"][t["manager"]],
            },
        )

    def users(self) -> pl.DataFrame:
        u, k = self.w.users, self.keys
        first = pl.Series(vocab.FIRST_NAMES).gather(u["first"])
        last = pl.Series(vocab.LAST_NAMES).gather(u["last"])
        n = len(u["role"])
        local = (
            first.str.to_lowercase()
            + "."
            + last.str.to_lowercase().str.replace_all(r"[^a-z]", "")
            + pl.Series(np.arange(1, n + 1)).cast(pl.Utf8)
        )
        return self._frame(
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

    def accounts(self) -> pl.DataFrame:
        w, k = self.w, self.keys
        comp, rng = w.companies, self.rng
        idx = self.account_order
        n = len(idx)
        end = float(self.clock.days)
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
        region_names = np.array(self.w.regions, dtype=object)
        nps = comp["nps"][idx]
        return self._frame(
            "accounts",
            {
                "account_id": k["accounts"][idx],
                "name": self.company_name.gather(idx),
                "domain": self.domain.gather(idx),
                "industry": np.where(
                    comp["industry_known"][idx],
                    np.array([i for i, _, _ in vocab.INDUSTRIES], dtype=object)[
                        comp["industry"][idx]
                    ],
                    None,
                ),
                "employee_count": _nullable_int(
                    np.where(comp["employees_known"][idx], comp["employees"][idx], np.nan)
                ),
                "annual_revenue": _nullable_float(
                    np.where(comp["revenue_known"][idx], comp["revenue"][idx], np.nan)
                ),
                "country": comp["country"][idx],
                "region": region_names[comp["region"][idx]],
                "parent_account_id": _opt(k["accounts"], parent),
                "owner_user_id": k["users"][comp["owner"][idx]],
                "account_type": acc_type.astype(object),
                "tier": np.array(TIER_NAMES, dtype=object)[comp["tier"][idx]],
                "created_at": self.ts(comp["created"][idx]),
                "updated_at": self.ts(updated),
                "nps_score": _nullable_int(nps),
                "uses_competitor": comp["uses_competitor"][idx],
                "crm_import_batch": "batch_"
                + pl.Series(comp["import_batch"][idx]).cast(pl.Utf8).str.zfill(2),
            },
        )

    def contacts(self) -> pl.DataFrame:
        w, k, rng = self.w, self.keys, self.rng
        ppl, comp, leads = w.people, w.companies, w.leads
        idx = self.contact_order
        n = len(idx)
        end = float(self.clock.days)
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
        return self._frame(
            "contacts",
            {
                "contact_id": k["contacts"][idx],
                "account_id": k["accounts"][company],
                "first_name": self.first_name.gather(idx),
                "last_name": self.last_name.gather(idx),
                "email": self.email.gather(idx),
                "phone": phone,
                "title": ppl["title"][idx],
                "seniority": ppl["seniority"][idx],
                "lifecycle_stage": stage,
                "lead_source": ppl["source"][idx],
                "opt_in": ppl["opt_in"][idx],
                "do_not_contact": ppl["do_not_contact"][idx],
                "created_at": self.ts(created),
                "updated_at": self.ts(updated),
            },
        )

    def leads(self) -> pl.DataFrame:
        w, k = self.w, self.keys
        L, comp, ppl = w.leads, w.companies, w.people
        n = len(L["t0"])
        end = float(self.clock.days)
        conv, dq = L["converted"], L["disqualified"]
        decided_at = np.where(L["t_dec"] < end, L["t_dec"], np.nan)
        updated = np.where(np.isnan(decided_at), L["t0"], decided_at)
        updated = np.maximum(
            updated, np.minimum(L["t0"] + self.rng.exponential(5.0, n), end - 1e-6)
        )
        person, company, linked = L["person"], L["company"], L["linked"]
        budget = pl.Series(L["budget"]).replace_strict(
            {1: True, 0: False, -1: None}, return_dtype=pl.Boolean
        )
        emp = np.where(comp["employees_known"][company], comp["employees"][company], -1)
        industry = np.array([i for i, _, _ in vocab.INDUSTRIES], dtype=object)[
            comp["industry"][company]
        ]
        # New-company leads often leave size and industry blank on the form.
        blank = (~linked) & (self.rng.random(n) < 0.3)
        return self._frame(
            "leads",
            {
                "lead_id": k["leads"],
                "contact_id": np.where(linked, k["contacts"][person], None),
                "account_id": np.where(linked, k["accounts"][company], None),
                "company": self.company_name.gather(company),
                "email": self.email.gather(person),
                "source": L["source"],
                "status": L["status"],
                "owner_user_id": k["users"][L["owner"]],
                "created_at": self.ts(L["t0"]),
                "converted_at": self.ts(np.where(conv, L["t_dec"], np.nan)),
                "converted_opportunity_id": _opt(k["opportunities"], L["opp"]),
                "disqualified_at": self.ts(np.where(dq, L["t_dec"], np.nan)),
                "disqualified_reason": np.where(
                    dq, np.array(vocab.DISQUALIFY_REASONS, dtype=object)[L["dq_reason"]], None
                ),
                "updated_at": self.ts(updated),
                "budget_confirmed": budget,
                "timeline": np.array(vocab.TIMELINES, dtype=object)[L["timeline"]],
                "decision_maker": L["decision_maker"],
                "form_variant": np.array(["A", "B", "C"], dtype=object)[L["form_variant"]],
                "preferred_language": np.array([x for x, _ in vocab.LANGUAGES], dtype=object)[
                    L["language"]
                ],
                "title": ppl["title"][person],
                "industry": np.where(blank | ~comp["industry_known"][company], None, industry),
                "employee_count": _nullable_int(np.where(blank | (emp < 0), np.nan, emp)),
            },
        )

    def opportunities(self) -> pl.DataFrame:
        w, k = self.w, self.keys
        o = w.opps
        acts = self.activity_columns()
        last_act = np.full(len(o["created"]), -np.inf)
        has = acts["opp"] >= 0
        np.maximum.at(last_act, acts["opp"][has], acts["t"][has])
        updated = np.maximum(o["updated"], last_act)
        name = (
            self.company_name.gather(o["company"])
            + " - "
            + pl.Series(o["line"], dtype=pl.Utf8)
            + " ("
            + pl.Series(o["seats"]).cast(pl.Utf8)
            + " seats)"
        )
        return self._frame(
            "opportunities",
            {
                "opportunity_id": k["opportunities"],
                "account_id": k["accounts"][o["company"]],
                "owner_user_id": k["users"][o["owner"]],
                "name": name,
                "stage": o["stage"],
                "amount": _nullable_float(o["amount"]),
                "currency": np.full(len(o["created"]), "USD", dtype=object),
                "expected_close_date": self.dt(o["ecd"]),
                "created_at": self.ts(o["created"]),
                "closed_at": self.ts(o["closed"]),
                "is_won": pl.Series("is_won", o["is_won"].tolist(), dtype=pl.Boolean),
                "lost_reason": o["lost_reason"],
                "competitor": o["competitor"],
                "product_line": o["line"],
                "forecast_category": np.array([FORECAST[s] for s in o["stage"]], dtype=object),
                "updated_at": self.ts(updated),
            },
        )

    def opportunity_stage_history(self) -> pl.DataFrame:
        h, k = self.w.history, self.keys
        secs = self.clock.to_seconds(h["t"])
        # (opportunity_id, changed_at) is the key: nudge same-second changes apart.
        while True:
            same = np.r_[False, (h["opp"][1:] == h["opp"][:-1]) & (secs[1:] <= secs[:-1])]
            if not same.any():
                break
            secs[same] = secs[np.flatnonzero(same) - 1] + 1
        return self._frame(
            "opportunity_stage_history",
            {
                "opportunity_id": k["opportunities"][h["opp"]],
                "changed_at": pl.from_epoch(pl.Series(secs), time_unit="s"),
                "from_stage": h["from"],
                "to_stage": h["to"],
                "amount": _nullable_float(h["amount"]),
                "expected_close_date": self.dt(h["ecd"]),
            },
        )

    def activity_columns(self) -> dict[str, np.ndarray]:
        """All activities, sorted by time (cached)."""
        if not hasattr(self, "_acts"):
            parts = self.w.activities
            acts = {c: np.concatenate([p[c] for p in parts]) for c in parts[0]}
            o = np.argsort(acts["t"], kind="stable")
            self._acts = {c: v[o] for c, v in acts.items()}
        return self._acts

    def activities(self) -> pl.DataFrame:
        k, rng = self.keys, self.rng
        a = self.activity_columns()
        n = len(a["t"])
        end = float(self.clock.days)
        task = a["kind"] == "task"
        due = np.where(task, a["t"] + rng.uniform(1.0, 7.0, n), np.nan)
        done = due - rng.uniform(0.0, 2.0, n)
        completed = np.where(
            task & (rng.random(n) < 0.85) & (done < end), np.maximum(done, a["t"]), np.nan
        )
        outcome = a["outcome"].copy()
        outcome[task] = np.where(np.isnan(completed[task]), "open", "completed")
        return self._frame(
            "activities",
            {
                "activity_id": key_strings("ACT", n, _width(8, n)),
                "activity_type": a["kind"],
                "account_id": _opt(k["accounts"], a["account"]),
                "contact_id": _opt(k["contacts"], a["contact"]),
                "lead_id": _opt(k["leads"], a["lead"]),
                "opportunity_id": _opt(k["opportunities"], a["opp"]),
                "user_id": _opt(k["users"], a["user"]),
                "occurred_at": self.ts(a["t"]),
                "duration_minutes": _nullable_float(a["duration"]),
                "outcome": outcome,
                "due_at": self.ts(due),
                "completed_at": self.ts(completed),
            },
        )

    def campaigns(self) -> pl.DataFrame:
        c, k = self.w.campaigns, self.keys
        end = float(self.clock.days)
        label = {
            "email": "Newsletter",
            "paid_search": "Paid Search",
            "social": "Social Ads",
            "webinar": "Webinar",
            "event": "Event",
            "content": "Content Syndication",
            "direct_mail": "Direct Mail",
            "partner": "Partner Program",
            "telemarketing": "Telemarketing",
        }
        month = self.dt(c["start"]).dt.strftime("%Y-%m")
        name = (
            month
            + " "
            + pl.Series([label[x] for x in c["channel"]], dtype=pl.Utf8)
            + ": "
            + pl.Series(vocab.CAMPAIGN_TOPICS).gather(c["topic"])
        )
        return self._frame(
            "campaigns",
            {
                "campaign_id": k["campaigns"],
                "name": name,
                "channel": c["channel"],
                "started_at": self.ts(c["start"]),
                "ended_at": self.ts(np.where(c["end"] < end, c["end"], np.nan)),
                "cost": c["cost"],
            },
        )

    def campaign_members(self) -> pl.DataFrame:
        k = self.keys
        parts = self.w.members
        m = {c: np.concatenate([p[c] for p in parts]) for c in parts[0]}
        o = np.lexsort((m["t"], m["campaign"]))
        m = {c: v[o] for c, v in m.items()}
        lead_key = k["leads"][np.where(m["is_lead"], m["member"], 0)]
        contact_key = k["contacts"][np.where(m["is_lead"], 0, m["member"])]
        member = np.where(m["is_lead"], lead_key, contact_key)
        return self._frame(
            "campaign_members",
            {
                "campaign_id": k["campaigns"][m["campaign"]],
                "member_id": member,
                "member_type": np.where(m["is_lead"], "lead", "contact").astype(object),
                "enrolled_at": self.ts(m["t"]),
                "status": m["status"],
            },
        )

    def subscriptions(self) -> pl.DataFrame:
        s, k = self.w.subscriptions, self.keys
        return self._frame(
            "subscriptions",
            {
                "subscription_id": k["subscriptions"],
                "account_id": k["accounts"][s["company"]],
                "plan": s["line"],
                "seats": s["seats"],
                "mrr": np.round(s["mrr"], 2),
                "started_at": self.ts(s["start"]),
                "renewal_date": self.dt(s["renewal"]),
                "ended_at": self.ts(s["ended"]),
                "status": s["status"],
                "cancel_reason": s["reason"],
            },
        )

    def invoices(self) -> pl.DataFrame:
        inv, k = self.w.invoices, self.keys
        o = np.argsort(inv["issued"], kind="stable")
        inv = {c: v[o] for c, v in inv.items()}
        n = len(o)
        return self._frame(
            "invoices",
            {
                "invoice_id": key_strings("INV", n, _width(7, n)),
                "account_id": k["accounts"][inv["company"]],
                "subscription_id": k["subscriptions"][inv["sub"]],
                "amount": np.round(inv["amount"], 2),
                "issued_at": self.ts(inv["issued"]),
                "due_at": self.ts(inv["due"]),
                "paid_at": self.ts(inv["paid"]),
                "status": inv["status"],
            },
        )

    def tickets(self) -> pl.DataFrame:
        t, k = self.w.tickets, self.keys
        o = np.argsort(t["created"], kind="stable")
        t = {c: v[o] for c, v in t.items()}
        n = len(o)
        return self._frame(
            "tickets",
            {
                "ticket_id": key_strings("TCK", n, _width(6, n)),
                "account_id": k["accounts"][t["company"]],
                "contact_id": _opt(k["contacts"], t["contact"]),
                "priority": t["priority"],
                "created_at": self.ts(t["created"]),
                "resolved_at": self.ts(t["resolved"]),
                "csat": _nullable_int(t["csat"]),
            },
        )
