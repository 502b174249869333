"""The sales tables: leads, opportunities and their stage history, activities, campaigns
and their members."""

from __future__ import annotations

import numpy as np
import polars as pl

from crmlens.synthetic import vocab
from crmlens.synthetic.common import key_strings
from crmlens.synthetic.tables import Tables, key_width, keys_of, nullable_float, nullable_int

FORECAST = {
    "prospecting": "pipeline",
    "qualification": "pipeline",
    "needs_analysis": "best_case",
    "proposal": "best_case",
    "negotiation": "commit",
    "closed_won": "closed",
    "closed_lost": "omitted",
}


def leads(tables: Tables) -> pl.DataFrame:
    """Leads, with the custom fields the SDR fills in."""
    w, k = tables.w, tables.keys
    L, comp, ppl = w.leads, w.companies, w.people
    n = len(L["t0"])
    end = float(tables.clock.days)
    conv, dq = L["converted"], L["disqualified"]
    decided_at = np.where(L["t_dec"] < end, L["t_dec"], np.nan)
    updated = np.where(np.isnan(decided_at), L["t0"], decided_at)
    updated = np.maximum(updated, np.minimum(L["t0"] + tables.rng.exponential(5.0, n), end - 1e-6))
    person, company, linked = L["person"], L["company"], L["linked"]
    budget = pl.Series(L["budget"]).replace_strict(
        {1: True, 0: False, -1: None}, return_dtype=pl.Boolean
    )
    emp = np.where(comp["employees_known"][company], comp["employees"][company], -1)
    industry = np.array([i for i, _, _ in vocab.INDUSTRIES], dtype=object)[
        comp["industry"][company]
    ]
    # New-company leads often leave size and industry blank on the form.
    blank = (~linked) & (tables.rng.random(n) < 0.3)
    return tables.frame(
        "leads",
        {
            "lead_id": k["leads"],
            "contact_id": np.where(linked, k["contacts"][person], None),
            "account_id": np.where(linked, k["accounts"][company], None),
            "company": tables.names.company.gather(company),
            "email": tables.names.email.gather(person),
            "source": L["source"],
            "status": L["status"],
            "owner_user_id": k["users"][L["owner"]],
            "created_at": tables.ts(L["t0"]),
            "converted_at": tables.ts(np.where(conv, L["t_dec"], np.nan)),
            "converted_opportunity_id": keys_of(k["opportunities"], L["opp"]),
            "disqualified_at": tables.ts(np.where(dq, L["t_dec"], np.nan)),
            "disqualified_reason": np.where(
                dq, np.array(vocab.DISQUALIFY_REASONS, dtype=object)[L["dq_reason"]], None
            ),
            "updated_at": tables.ts(updated),
            "budget_confirmed": budget,
            "timeline": np.array(vocab.TIMELINES, dtype=object)[L["timeline"]],
            "decision_maker": L["decision_maker"],
            "form_variant": np.array(["A", "B", "C"], dtype=object)[L["form_variant"]],
            "preferred_language": np.array([x for x, _ in vocab.LANGUAGES], dtype=object)[
                L["language"]
            ],
            "title": ppl["title"][person],
            "industry": np.where(blank | ~comp["industry_known"][company], None, industry),
            "employee_count": nullable_int(np.where(blank | (emp < 0), np.nan, emp)),
        },
    )


def opportunities(tables: Tables) -> pl.DataFrame:
    """Opportunities as of the end date; updated by their last activity."""
    w, k = tables.w, tables.keys
    o = w.opps
    acts = tables.activity_columns()
    last_act = np.full(len(o["created"]), -np.inf)
    has = acts["opp"] >= 0
    np.maximum.at(last_act, acts["opp"][has], acts["t"][has])
    updated = np.maximum(o["updated"], last_act)
    name = (
        tables.names.company.gather(o["company"])
        + " - "
        + pl.Series(o["line"], dtype=pl.Utf8)
        + " ("
        + pl.Series(o["seats"]).cast(pl.Utf8)
        + " seats)"
    )
    return tables.frame(
        "opportunities",
        {
            "opportunity_id": k["opportunities"],
            "account_id": k["accounts"][o["company"]],
            "owner_user_id": k["users"][o["owner"]],
            "name": name,
            "stage": o["stage"],
            "amount": nullable_float(o["amount"]),
            "currency": np.full(len(o["created"]), "USD", dtype=object),
            "expected_close_date": tables.dt(o["ecd"]),
            "created_at": tables.ts(o["created"]),
            "closed_at": tables.ts(o["closed"]),
            "is_won": pl.Series("is_won", o["is_won"].tolist(), dtype=pl.Boolean),
            "lost_reason": o["lost_reason"],
            "competitor": o["competitor"],
            "product_line": o["line"],
            "forecast_category": np.array([FORECAST[s] for s in o["stage"]], dtype=object),
            "updated_at": tables.ts(updated),
        },
    )


def opportunity_stage_history(tables: Tables) -> pl.DataFrame:
    """Every stage change of every deal; same-second changes nudged apart."""
    h, k = tables.w.history, tables.keys
    secs = tables.clock.to_seconds(h["t"])
    # (opportunity_id, changed_at) is the key: nudge same-second changes apart.
    while True:
        same = np.r_[False, (h["opp"][1:] == h["opp"][:-1]) & (secs[1:] <= secs[:-1])]
        if not same.any():
            break
        secs[same] = secs[np.flatnonzero(same) - 1] + 1
    return tables.frame(
        "opportunity_stage_history",
        {
            "opportunity_id": k["opportunities"][h["opp"]],
            "changed_at": pl.from_epoch(pl.Series(secs), time_unit="s"),
            "from_stage": h["from"],
            "to_stage": h["to"],
            "amount": nullable_float(h["amount"]),
            "expected_close_date": tables.dt(h["ecd"]),
        },
    )


def activities(tables: Tables) -> pl.DataFrame:
    """Activities in time order; tasks get a due date and maybe a completion."""
    k, rng = tables.keys, tables.rng
    a = tables.activity_columns()
    n = len(a["t"])
    end = float(tables.clock.days)
    task = a["kind"] == "task"
    due = np.where(task, a["t"] + rng.uniform(1.0, 7.0, n), np.nan)
    done = due - rng.uniform(0.0, 2.0, n)
    completed = np.where(
        task & (rng.random(n) < 0.85) & (done < end), np.maximum(done, a["t"]), np.nan
    )
    outcome = a["outcome"].copy()
    outcome[task] = np.where(np.isnan(completed[task]), "open", "completed")
    return tables.frame(
        "activities",
        {
            "activity_id": key_strings("ACT", n, key_width(8, n)),
            "activity_type": a["kind"],
            "account_id": keys_of(k["accounts"], a["account"]),
            "contact_id": keys_of(k["contacts"], a["contact"]),
            "lead_id": keys_of(k["leads"], a["lead"]),
            "opportunity_id": keys_of(k["opportunities"], a["opp"]),
            "user_id": keys_of(k["users"], a["user"]),
            "occurred_at": tables.ts(a["t"]),
            "duration_minutes": nullable_float(a["duration"]),
            "outcome": outcome,
            "due_at": tables.ts(due),
            "completed_at": tables.ts(completed),
        },
    )


def campaigns(tables: Tables) -> pl.DataFrame:
    """Campaigns, named by month, channel and topic."""
    c, k = tables.w.campaigns, tables.keys
    end = float(tables.clock.days)
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
    month = tables.dt(c["start"]).dt.strftime("%Y-%m")
    name = (
        month
        + " "
        + pl.Series([label[x] for x in c["channel"]], dtype=pl.Utf8)
        + ": "
        + pl.Series(vocab.CAMPAIGN_TOPICS).gather(c["topic"])
    )
    return tables.frame(
        "campaigns",
        {
            "campaign_id": k["campaigns"],
            "name": name,
            "channel": c["channel"],
            "started_at": tables.ts(c["start"]),
            "ended_at": tables.ts(np.where(c["end"] < end, c["end"], np.nan)),
            "cost": c["cost"],
        },
    )


def campaign_members(tables: Tables) -> pl.DataFrame:
    """Campaign members: leads from campaigns and contacts e-mailed."""
    k = tables.keys
    parts = tables.w.members
    m = {c: np.concatenate([p[c] for p in parts]) for c in parts[0]}
    o = np.lexsort((m["t"], m["campaign"]))
    m = {c: v[o] for c, v in m.items()}
    lead_key = k["leads"][np.where(m["is_lead"], m["member"], 0)]
    contact_key = k["contacts"][np.where(m["is_lead"], 0, m["member"])]
    member = np.where(m["is_lead"], lead_key, contact_key)
    return tables.frame(
        "campaign_members",
        {
            "campaign_id": k["campaigns"][m["campaign"]],
            "member_id": member,
            "member_type": np.where(m["is_lead"], "lead", "contact").astype(object),
            "enrolled_at": tables.ts(m["t"]),
            "status": m["status"],
        },
    )
