"""Customers: subscriptions, renewals and churn, invoices, tickets, CSM activity.

Every company has a monthly **health** latent (never written): a mean-reverting
random walk around a company-level mean that leans on fit. A customer's
subscription is one row per yearly term (``renewal_date`` = end of term). At each
renewal the customer churns with probability ``σ(c − 1.5·health + 0.4·uses
competitor)``, ``c`` calibrated for ~13 % logo churn a year; the row then ends
at or just before the renewal date with status ``cancelled`` and a
``cancel_reason``. Otherwise the term is ``expired`` and a new row starts at
the renewal, with seats expanded (healthy customers) or contracted (unhealthy
ones). A deal won while a term runs adds seats in a co-termed row.

What health shows, with a further decline over the 120 days before a churn
(:meth:`World.health_at`): product usage (events), tickets (more, more urgent,
slower, lower CSAT), late invoices (``paid_at`` after ``due_at``), NPS (custom
attribute ``nps_score`` on accounts, the latest survey).

Customers that were customers before the window started (``legacy``) have
subscriptions whose ``started_at`` predates the window; their invoices start
with the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crmlens.synthetic import vocab
from crmlens.synthetic.common import calibrate_offset, sigmoid, stream
from crmlens.synthetic.world import World, activity_rows

CHURN_RATE = 0.13
YEAR = 365.25
MONTH = YEAR / 12.0


def build_health(world: World) -> None:
    """Monthly health of every company, from 13 months before the window to its end."""
    rng = stream(world.seed, "health")
    comp = world.companies
    months = world.clock.month_starts(before_months=13)
    n, m = len(comp["region"]), len(months)
    h = np.empty((n, m), dtype=np.float32)
    mean = comp["health_mean"]
    h[:, 0] = mean + rng.normal(0.0, 0.6, n)
    for j in range(1, m):
        h[:, j] = h[:, j - 1] + 0.15 * (mean - h[:, j - 1]) + rng.normal(0.0, 0.3, n)
    world.health, world.health_months = h, months


@dataclass
class _Starts:
    """Where subscription chains start: legacy customers (before the window) and won deals."""

    company: np.ndarray
    time: np.ndarray
    seats: np.ndarray
    pps: np.ndarray  # price per seat per month
    line: np.ndarray


def build_subscriptions(world: World) -> None:
    """Subscription terms of every customer: new business, renewals, churn, co-terms."""
    # Every draw comes from this one stream, in this order: reordering changes the CRM.
    rng = stream(world.seed, "subscriptions")
    comp = world.companies
    n_comp = len(comp["region"])
    starts = _starts(world, rng)
    order = np.lexsort((starts.time, starts.company))

    # Churn logit offset, calibrated on the health of customers over the window.
    months = world.health_months
    sample_h = world.health[starts.company][:, months >= 0].ravel()
    uc = np.repeat(comp["uses_competitor"][starts.company], int((months >= 0).sum()))
    c0 = calibrate_offset(-1.5 * sample_h + 0.4 * uc, CHURN_RATE)

    u = rng.random((len(order), 64))  # one row of uniforms per start, used in order
    rows = _TermRows()
    i = 0
    while i < len(order):
        c = int(starts.company[order[i]])
        j = i
        while j < len(order) and starts.company[order[j]] == c:
            j += 1
        _chain(world, starts, order[i:j], c0, u[i], rows)
        i = j

    subs = rows.arrays()
    o = np.argsort(subs["start"], kind="stable")
    world.subscriptions = {k: v[o] for k, v in subs.items()}

    active = np.zeros(n_comp, dtype=bool)
    active[subs["company"][np.isnan(subs["ended"])]] = True
    ever = np.zeros(n_comp, dtype=bool)
    ever[subs["company"]] = True
    comp["customer_now"] = active
    comp["customer_ever"] = ever
    comp["churned_at"][active] = np.nan  # won back: no decline at the end
    _billing(world, rng)


def _starts(world: World, rng: np.random.Generator) -> _Starts:
    comp, opps = world.companies, world.opps
    end = float(world.clock.days)
    legacy = np.flatnonzero(comp["legacy"])
    line_of_tier = np.array(["Starter", "Professional", "Enterprise"], dtype=object)
    leg_line = line_of_tier[comp["tier"][legacy]]
    leg_price = np.array([vocab.PLAN_PRICE[x] for x in leg_line])
    leg_seats = np.clip(
        np.round(comp["employees"][legacy] * rng.uniform(0.03, 0.25, len(legacy))), 3, 3000
    )
    won = np.flatnonzero(opps["is_won"] == True)  # noqa: E712 (object array of bools/None)
    won_start = opps["closed"][won] + rng.uniform(0.0, 5.0, len(won))
    keep = won_start < end
    won, won_start = won[keep], won_start[keep]
    return _Starts(
        company=np.r_[legacy, opps["company"][won]],
        time=np.r_[-rng.uniform(1.0, YEAR, len(legacy)), won_start],
        seats=np.r_[leg_seats, opps["seats"][won]].astype(float),
        pps=np.r_[
            leg_price * (1 - rng.uniform(0.0, 0.15, len(legacy))),
            opps["final_amount"][won] / 12.0 / opps["seats"][won],
        ],
        line=np.r_[leg_line, opps["line"][won]],
    )


class _TermRows:
    """Subscription terms collected one by one."""

    def __init__(self) -> None:
        self.cols: dict[str, list] = {
            k: []
            for k in (
                "company",
                "line",
                "seats",
                "mrr",
                "start",
                "renewal",
                "ended",
                "status",
                "reason",
            )
        }

    def emit(self, c, line, seats, pps, start, renewal, ended, status, reason) -> None:
        rows = self.cols
        rows["company"].append(c)
        rows["line"].append(line)
        rows["seats"].append(int(seats))
        rows["mrr"].append(round(seats * pps, 2))
        rows["start"].append(start)
        rows["renewal"].append(renewal)
        rows["ended"].append(ended)
        rows["status"].append(status)
        rows["reason"].append(reason)

    def arrays(self) -> dict[str, np.ndarray]:
        text = ("line", "status", "reason")
        subs = {k: np.array(v, dtype=object if k in text else None) for k, v in self.cols.items()}
        subs["company"] = subs["company"].astype(np.int64)
        subs["seats"] = subs["seats"].astype(np.int64)
        subs["mrr"] = subs["mrr"].astype(float)
        for k in ("start", "renewal", "ended"):
            subs[k] = subs[k].astype(float)
        return subs


def _chain(
    world: World,
    s: _Starts,
    starts: np.ndarray,
    c0: float,
    draws: np.ndarray,
    rows: _TermRows,
) -> None:
    """The terms of one account: renewals, co-terms, churn and win-backs, in time order.

    Args:
        world: the simulation (health; the account's churn time is set here).
        s: every start.
        starts: this account's starts, in time order.
        c0: the churn logit offset.
        draws: this account's uniforms, used in order (cycling).
        rows: where the terms go.
    """
    comp, end, months = world.companies, float(world.clock.days), world.health_months
    c = int(s.company[starts[0]])
    k = 0  # uniforms used for this account
    idx = 0
    while idx < len(starts):
        st = starts[idx]
        line, seats, pps, t = s.line[st], s.seats[st], s.pps[st], s.time[st]
        idx += 1
        renewal = t + YEAR
        while True:
            # Wins during the term are co-termed: the row ends, a bigger one starts.
            if idx < len(starts) and s.time[starts[idx]] < min(renewal, end):
                w = starts[idx]
                idx += 1
                t_w = s.time[w]
                rows.emit(c, line, seats, pps, t, renewal, t_w, "expired", None)
                seats, t = seats + s.seats[w], t_w
                continue
            if renewal >= end:
                rows.emit(c, line, seats, pps, t, renewal, np.nan, "active", None)
                break
            m = np.searchsorted(months, renewal, side="right") - 1
            h = float(world.health[c, m])
            p = sigmoid(c0 - 1.5 * h + 0.4 * comp["uses_competitor"][c])
            r1, r2, r3 = draws[k % 64], draws[(k + 1) % 64], draws[(k + 2) % 64]
            k += 3
            if r1 < p:
                ended = max(t + 1.0, renewal - 14.0 * r2)
                why = _cancel_reason(h, comp["uses_competitor"][c], r3)
                rows.emit(c, line, seats, pps, t, renewal, ended, "cancelled", why)
                comp["churned_at"][c] = ended
                # A later win is a win-back: it starts a fresh chain.
                while idx < len(starts) and s.time[starts[idx]] < ended:
                    idx += 1
                break
            rows.emit(c, line, seats, pps, t, renewal, renewal, "expired", None)
            if r2 < sigmoid(-1.2 + 1.0 * h):
                seats = np.ceil(seats * (1.05 + 0.35 * r3))
            elif r2 > 1.0 - sigmoid(-1.6 - 1.2 * h):
                seats = max(1.0, np.floor(seats * (0.9 - 0.3 * r3)))
            t, renewal = renewal, renewal + YEAR


def _cancel_reason(h: float, uses_competitor: bool, r: float) -> str:
    if uses_competitor and r < 0.5:
        return "switched_to_competitor"
    if h < -0.5 and r < 0.8:
        return "low_usage" if r < 0.5 else "poor_support"
    return vocab.CANCEL_REASONS[int(r * len(vocab.CANCEL_REASONS)) % len(vocab.CANCEL_REASONS)]


def _pick_contacts(
    world: World, company: np.ndarray, t: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A random contact of each company that exists at time ``t`` (or -1)."""
    ppl = world.people
    exists = np.flatnonzero(~np.isnan(ppl["created"]))
    key = ppl["company"][exists] * 1e5 + ppl["created"][exists]
    o = np.argsort(key, kind="stable")
    people_sorted, key = exists[o], key[o]
    lo = np.searchsorted(key, company * 1e5 - 1.0)
    hi = np.searchsorted(key, company * 1e5 + t, side="right")
    pick = lo + np.floor(rng.random(len(company)) * (hi - lo)).astype(np.int64)
    return np.where(hi > lo, people_sorted[np.minimum(pick, len(people_sorted) - 1)], -1)


def _billing(world: World, rng: np.random.Generator) -> None:
    """Monthly invoices, tickets and CSM touches for every subscription term; NPS."""
    months = _invoices(world, rng)
    _tickets(world, rng, months)
    _csm_touches(world, rng, months)
    _nps(world)


@dataclass
class _Months:
    """Every subscribed month: its term, company, start (the invoice date) and health."""

    row: np.ndarray  # the subscription term
    company: np.ndarray
    issued: np.ndarray
    health: np.ndarray
    stop: np.ndarray  # per term: when it stops (ended or the end date)


def _invoices(world: World, rng: np.random.Generator) -> _Months:
    """An invoice per subscribed month; late payers are unhealthy. Overdue terms are past due."""
    subs = world.subscriptions
    end = float(world.clock.days)
    stop = np.where(np.isnan(subs["ended"]), end, np.minimum(subs["ended"], end))
    first_k = np.maximum(np.ceil(-subs["start"] / MONTH), 0)
    last_k = np.ceil((stop - subs["start"]) / MONTH)
    count = np.maximum(last_k - first_k, 0).astype(np.int64)
    row = np.repeat(np.arange(len(stop)), count)
    k = np.arange(len(row)) - np.repeat(np.cumsum(count) - count, count) + first_k[row]
    issued = subs["start"][row] + k * MONTH
    ok = (issued >= 0) & (issued < stop[row])
    row, issued = row[ok], issued[ok]
    company = subs["company"][row]
    h = world.health_at(company, issued)
    m = len(row)
    late = rng.random(m) < sigmoid(-2.3 - 1.0 * h)
    paid = np.where(
        late, issued + 30.0 + rng.exponential(18.0, m), issued + rng.uniform(0.5, 28.0, m)
    )
    void = rng.random(m) < 0.01
    due = issued + 30.0
    unpaid = paid >= end
    status = np.where(
        void, "void", np.where(~unpaid, "paid", np.where(due < end, "overdue", "open"))
    ).astype(object)
    churned = ~np.isnan(subs["ended"][row]) & (subs["status"][row] == "cancelled")
    status[(status == "overdue") & churned & (end - due > 90)] = "uncollectible"
    world.invoices = {
        "sub": row,
        "company": company,
        "amount": subs["mrr"][row],
        "issued": issued,
        "due": due,
        "paid": np.where(unpaid | void, np.nan, paid),
        "status": status,
    }
    # A live subscription with an overdue invoice is past due.
    overdue_subs = np.unique(row[status == "overdue"])
    live = np.isnan(subs["ended"])
    subs["status"][np.intersect1d(overdue_subs, np.flatnonzero(live))] = "past_due"
    return _Months(row=row, company=company, issued=issued, health=h, stop=stop)


def _tickets(world: World, rng: np.random.Generator, months: _Months) -> None:
    """Tickets: per subscribed month, more (and worse) when health is low."""
    comp, end = world.companies, float(world.clock.days)
    company, issued, row = months.company, months.issued, months.row
    size = np.array([0.7, 1.2, 2.0])[comp["tier"][company]]
    nt = rng.poisson(0.35 * size * np.exp(-0.6 * months.health))
    ti = np.repeat(np.arange(len(row)), nt)
    t = issued[ti] + rng.random(len(ti)) * MONTH
    keep = t < np.minimum(months.stop[row[ti]], end)
    ti, t = ti[keep], t[keep]
    tc = company[ti]
    th = world.health_at(tc, t)
    n_t = len(ti)
    pr = np.stack(
        [0.30 + 0.1 * th, 0.45 * np.ones(n_t), 0.18 - 0.05 * th, 0.07 - 0.04 * th], axis=1
    )
    pr = np.clip(pr, 0.02, None)
    pr /= pr.sum(axis=1, keepdims=True)
    priority = np.array(["low", "normal", "high", "urgent"], dtype=object)[
        (rng.random(n_t)[:, None] > np.cumsum(pr, axis=1)).sum(axis=1)
    ]
    hours = rng.lognormal(np.log(20.0) - 0.4 * th, 1.0)
    resolved = t + hours / 24.0
    csat = np.clip(
        np.round(3.6 + 0.8 * th - 0.25 * np.log(hours / 24.0) + rng.normal(0, 0.8, n_t)), 1, 5
    )
    answered = (rng.random(n_t) < 0.6) & (resolved < end)
    world.tickets = {
        "company": tc,
        "contact": _pick_contacts(world, tc, t, rng),
        "priority": priority,
        "created": t,
        "resolved": np.where(resolved < end, resolved, np.nan),
        "csat": np.where(answered, csat, np.nan),
    }


def _csm_touches(world: World, rng: np.random.Generator, months: _Months) -> None:
    """CSM touches: check-ins and business reviews."""
    comp, end = world.companies, float(world.clock.days)
    company, issued = months.company, months.issued
    nc = rng.poisson(0.45, len(months.row))
    ci = np.repeat(np.arange(len(months.row)), nc)
    t = issued[ci] + rng.random(len(ci)) * MONTH
    keep = t < end
    ci, t = ci[keep], t[keep]
    kind = np.array(["meeting", "call", "email", "task"], dtype=object)[
        rng.choice(4, size=len(ci), p=[0.35, 0.25, 0.3, 0.1])
    ]
    duration = np.select(
        [kind == "meeting", kind == "call"],
        [rng.choice([30.0, 45.0, 60.0], size=len(ci)), rng.uniform(5, 30, len(ci))],
        np.nan,
    )
    world.activities.append(
        activity_rows(
            kind,
            t,
            comp["csm"][company[ci]],
            account=company[ci],
            contact=_pick_contacts(world, company[ci], t, rng),
            duration=np.round(duration, 1),
            outcome=np.where(kind == "email", "sent", "completed").astype(object),
        )
    )


def _nps(world: World) -> None:
    """NPS: the latest survey while a customer."""
    comp, end = world.companies, float(world.clock.days)
    c_ever = np.flatnonzero(comp["customer_ever"])
    last = np.where(
        np.isnan(comp["churned_at"][c_ever]), end - 1.0, comp["churned_at"][c_ever] - 10.0
    )
    last = np.clip(last, 0.0, end - 1.0)
    nps = np.full(len(comp["region"]), np.nan)
    nps[c_ever] = np.clip(
        np.round(7.0 + 1.6 * world.health_at(c_ever, last) + comp["nps_noise"][c_ever]), 0, 10
    )
    comp["nps"] = nps
