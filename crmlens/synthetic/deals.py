"""Opportunities, their stage history, and the sales activity around them.

Deals come from converted leads (created at ``converted_at``; a new company's
account and contacts are created at that moment) and from reps prospecting
known accounts (outbound). Each deal has a latent **quality**::

    0.5·account fit + 0.5·lead intent (0.25 lower for outbound) + rep skill
    − 0.6·competitor present − 0.45·account uses_competitor + N(0, 0.8)

and walks prospecting → qualification → needs_analysis → proposal →
negotiation. At each stage good deals move faster (stage time ∝ e^(−0.3·q)),
get more activity (calls, e-mails, meetings, demos by the owner, rate
∝ e^(0.35·q)) with more distinct stakeholders, and advance with probability
``σ(α_k + 1.1·q − 1.3·stalled)``. A deal *stalls* in a stage (25-80 days with no
activity at all) with probability ``σ(−2.4 − 0.8·q)``; stalls push the expected
close date (a history row each time), and stalled deals mostly lose. Weak deals
entering negotiation are often discounted heavily (amount cut 15-35 %), which
lowers the final win probability by itself. Around 40 % of deals are created
without an amount (set at qualification). The intercept is calibrated for a win
rate of ~27 % of closed deals. Won deals cluster in the last weeks of a quarter:
half of the wins that would close within 40 days of a quarter end slip to its
last 12 days.

Every change is an ``opportunity_stage_history`` row: creation (from_stage
null), each stage change, each amount change and each close-date push (from and
to stage equal). Anything after ``end_date`` is cut: such deals are open.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crmlens.synthetic import vocab
from crmlens.synthetic.common import (
    choice,
    day_weights,
    sample_times,
    sigmoid,
    stream,
)
from crmlens.synthetic.org import add_people, people_per_company
from crmlens.synthetic.world import World, activity_rows

WIN_RATE = 0.27
STAGES = ("prospecting", "qualification", "needs_analysis", "proposal", "negotiation")
STAGE_DAYS = np.array([9.0, 13.0, 17.0, 15.0, 11.0])
ADVANCE_ALPHA = np.array([1.2, 1.5, 1.8, 2.1, 0.6])
# Activity mix per stage: (call, email, meeting, demo, note, task).
ACTIVITY_KINDS = np.array(["call", "email", "meeting", "demo", "note", "task"], dtype=object)
ACTIVITY_MIX = np.array(
    [
        [0.48, 0.42, 0.03, 0.00, 0.03, 0.04],
        [0.33, 0.33, 0.26, 0.00, 0.04, 0.04],
        [0.15, 0.18, 0.30, 0.29, 0.04, 0.04],
        [0.28, 0.37, 0.27, 0.00, 0.04, 0.04],
        [0.38, 0.38, 0.16, 0.00, 0.04, 0.04],
    ]
)
LOST_COMPETITOR = "lost_to_competitor"


def _pick_outbound_accounts(world: World, rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    comp = world.companies
    ok = comp["is_base"] & ~comp["legacy"] & ~comp["partner"]
    cand = np.flatnonzero(ok)
    cand = cand[np.argsort(comp["created"][cand], kind="stable")]
    avail = np.searchsorted(comp["created"][cand], t, side="left")
    pick = np.floor(rng.random(len(t)) * avail).astype(np.int64)
    return np.where(avail > 0, cand[np.minimum(pick, len(cand) - 1)], -1)


@dataclass
class _Deals:
    """Every deal as it opens: when, where, whose, and its latent quality."""

    created: np.ndarray
    company: np.ndarray
    lead: np.ndarray  # the converted lead, or -1 for outbound deals
    owner: np.ndarray
    tier: np.ndarray
    competitor_present: np.ndarray
    q: np.ndarray

    @property
    def n(self) -> int:
        return len(self.created)


@dataclass
class _Course:
    """The random course of every deal through the stages, drawn up front."""

    stall: np.ndarray  # (n, 5): stalled in each stage
    d_active: np.ndarray  # (n, 5): active days in each stage
    heavy: np.ndarray  # discounted heavily entering negotiation
    light: np.ndarray  # discounted lightly at proposal
    won: np.ndarray
    last_stage: np.ndarray  # index of the last stage entered
    entry: np.ndarray  # (n, 6): when each stage was entered; column k+1 = left stage k


def build_deals(world: World) -> None:
    """Create every opportunity, simulate its stages, and log history and activities."""
    # Every draw comes from this one stream, in this order: reordering changes the CRM.
    rng = stream(world.seed, "deals")
    conv, t_conv = _convert_leads(world, rng)
    deals = _open_deals(world, rng, conv, t_conv)
    line_name, seats, price, list_amount = _products(world, rng, deals)
    course = _course(world, rng, deals)
    hist, amount_after = _history(world, rng, deals, course, list_amount)
    world.history = hist

    # Final state as of end_date: the last history row of each deal.
    n = deals.n
    last = np.r_[hist["opp"][1:] != hist["opp"][:-1], True]
    final = {c: v[last] for c, v in hist.items()}
    assert np.array_equal(final["opp"], np.arange(n))
    closed = np.isin(final["to"], ("closed_won", "closed_lost"))
    is_won = np.where(closed, final["to"] == "closed_won", None)
    won = course.won
    reason, competitor = _lost_reasons(rng, deals, course)

    world.opps = {
        "company": deals.company,
        "lead": deals.lead,
        "owner": deals.owner,
        "created": deals.created,
        "quality": deals.q,
        "line": line_name,
        "seats": seats,
        "price": price,
        "list_amount": list_amount,
        "amount": final["amount"],
        "final_amount": amount_after,
        "stage": final["to"],
        "ecd": final["ecd"],
        "closed": np.where(closed, final["t"], np.nan),
        "is_won": is_won,
        "won_eventually": won,
        "lost_reason": np.where(closed & ~won, reason, None),
        "competitor": competitor,
        "updated": final["t"],
    }
    leads, lead = world.leads, deals.lead
    leads["opp"] = np.full(len(leads["t0"]), -1)
    leads["opp"][lead[lead >= 0]] = np.flatnonzero(lead >= 0)

    _deal_activities(
        world, rng, course.entry, course.d_active, course.last_stage, deals.tier, deals.q
    )


def _convert_leads(world: World, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Converted leads; a new company becomes an account, with its people, at conversion."""
    comp, ppl, leads = world.companies, world.people, world.leads
    conv = np.flatnonzero(leads["converted"])
    t_conv = leads["t_dec"][conv]
    new = conv[~leads["linked"][conv]]
    new_company = leads["company"][new]
    comp["created"][new_company] = leads["t_dec"][new]
    # The converted person becomes the first contact; colleagues are added with it.
    ppl["created"][leads["person"][new]] = leads["t_dec"][new]
    ppl["source"][leads["person"][new]] = leads["source"][new]
    per = people_per_company(world, new_company, rng) - 1
    more = np.repeat(new_company, per)
    added = add_people(world, more, comp["created"][more], rng)
    world.people["source"][added] = "lead_conversion"
    return conv, t_conv


def _open_deals(
    world: World, rng: np.random.Generator, conv: np.ndarray, t_conv: np.ndarray
) -> _Deals:
    """Deals from conversions and from outbound prospecting, in order of creation."""
    clock, comp, leads = world.clock, world.companies, world.leads
    n_out = world.scale.outbound_opportunities
    t_out = sample_times(rng, n_out, day_weights(clock, 0.35, 0.08))
    acct_out = _pick_outbound_accounts(world, rng, t_out)
    t_out, acct_out = t_out[acct_out >= 0], acct_out[acct_out >= 0]

    created = np.r_[t_conv, t_out]
    order = np.argsort(created, kind="stable")
    created = created[order]
    company = np.r_[leads["company"][conv], acct_out][order]
    lead = np.r_[conv, np.full(len(t_out), -1)][order]
    n = len(created)
    owner = comp["owner"][company]

    competitor_present = rng.random(n) < 0.2 + 0.35 * comp["uses_competitor"][company]
    intent = np.where(lead >= 0, leads["intent"][np.maximum(lead, 0)], 0.0)
    q = (
        0.5 * comp["fit"][company]
        + 0.5 * intent
        - 0.25 * (lead < 0)
        + world.users["skill"][owner]
        - 0.6 * competitor_present
        - 0.45 * comp["uses_competitor"][company]
        + rng.normal(0.0, 0.8, n)
    )
    return _Deals(created, company, lead, owner, comp["tier"][company], competitor_present, q)


def _products(
    world: World, rng: np.random.Generator, deals: _Deals
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What each deal sells: product line (by tier), seats, list price and list amount."""
    n, tier, company = deals.n, deals.tier, deals.company
    line_by_tier = (
        [(0, 0.66), (1, 0.26), (3, 0.08)],
        [(0, 0.12), (1, 0.70), (2, 0.10), (3, 0.08)],
        [(1, 0.27), (2, 0.65), (3, 0.08)],
    )
    line = np.empty(n, dtype=np.int64)
    for tr, pairs in enumerate(line_by_tier):
        s = np.flatnonzero(tier == tr)
        line[s] = np.array([p for p, _ in pairs])[choice(rng, pairs, len(s))]
    line_name = np.array(vocab.PRODUCT_LINES, dtype=object)[line]
    price = np.array([vocab.PLAN_PRICE[x] for x in vocab.PRODUCT_LINES])[line]
    seats = np.clip(
        np.round(world.companies["employees"][company] * rng.uniform(0.03, 0.25, n)), 3, 3000
    ).astype(np.int64)
    list_amount = np.round(seats * price * 12.0 * (1.0 + 0.08 * deals.created / 365.0), -2)
    return line_name, seats, price, list_amount


def _course(world: World, rng: np.random.Generator, deals: _Deals) -> _Course:
    """Stalls, stage durations, discounts and advances; the win rate calibrated."""
    n, q = deals.n, deals.q
    stall = rng.random((n, 5)) < sigmoid(-2.4 - 0.8 * q)[:, None]
    d_active = rng.gamma(2.0, (STAGE_DAYS / 2.0)[None, :] * np.exp(-0.3 * q)[:, None])
    d_stall = np.where(stall, rng.uniform(25.0, 80.0, (n, 5)), 0.0)
    heavy = rng.random(n) < sigmoid(-1.3 - 0.7 * q)
    light = rng.random(n) < 0.3
    adv_logit = ADVANCE_ALPHA[None, :] + 1.1 * q[:, None] - 1.3 * stall
    adv_logit[:, 4] -= 0.9 * heavy
    # Expected win probability as a function of the offset, for calibration.
    lo, hi = -10.0, 10.0
    for _ in range(50):
        mid = (lo + hi) / 2
        if np.prod(sigmoid(adv_logit + mid), axis=1).mean() < WIN_RATE:
            lo = mid
        else:
            hi = mid
    advance = rng.random((n, 5)) < sigmoid(adv_logit + (lo + hi) / 2)
    # Stage reached (index of the last stage entered) and whether it was won.
    reached = np.minimum(np.argmin(np.c_[advance, np.zeros(n, bool)], axis=1), 4)
    won = advance.all(axis=1)
    last_stage = np.where(won, 4, reached)

    entry = np.empty((n, 6))
    entry[:, 0] = deals.created
    for k in range(5):
        entry[:, k + 1] = entry[:, k] + d_active[:, k] + d_stall[:, k]
    close = entry[np.arange(n), last_stage + 1]
    # Quarter-end pressure: many wins slip to the last days of the quarter.
    qe = world.clock.quarter_ends()
    next_qe = qe[np.minimum(np.searchsorted(qe, close), len(qe) - 1)]
    slip = won & (next_qe - close < 40.0) & (rng.random(n) < 0.5)
    target = next_qe - rng.uniform(0.1, 12.0, n)
    close = np.where(slip & (target > close), target, close)
    entry[np.arange(n), last_stage + 1] = close
    return _Course(stall, d_active, heavy, light, won, last_stage, entry)


def _history(
    world: World,
    rng: np.random.Generator,
    deals: _Deals,
    course: _Course,
    list_amount: np.ndarray,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every change of every deal up to the end date, sorted by deal and time.

    Returns:
        The history columns, and each deal's amount after its last discount.
    """
    n, created = deals.n, deals.created
    last_stage, entry, d_active = course.last_stage, course.entry, course.d_active
    qe = world.clock.quarter_ends()
    amount_known0 = rng.random(n) > 0.4
    planned = created + rng.gamma(3.0, 25.0, n)
    ecd0 = np.where(
        rng.random(n) < 0.5, qe[np.minimum(np.searchsorted(qe, planned), len(qe) - 1)] - 1, planned
    )
    rows = _HistoryRows()
    rows.add(
        np.arange(n),
        created,
        None,
        "prospecting",
        np.where(amount_known0, list_amount, np.nan),
        ecd0,
    )
    ecd = ecd0.copy()
    amount = list_amount.copy()
    # Stage -> (deals discounted, share of the amount kept, when in the stage's active time):
    # a light discount in the proposal, a heavy one in negotiation.
    discounts = {
        3: (course.light, (0.90, 0.97), (0.2, 0.8)),
        4: (course.heavy, (0.65, 0.85), (0.2, 0.9)),
    }
    for k in range(5):
        inside = np.flatnonzero(last_stage >= k)
        t_out = entry[inside, k + 1]
        # Close-date pushes whenever the expected close date passes inside this stage.
        for _ in range(4):
            due = (ecd[inside] + rng.uniform(0.0, 3.0, len(inside))) < t_out
            pushed = inside[due]
            if len(pushed) == 0:
                break
            t_push = np.maximum(ecd[pushed] + rng.uniform(0.0, 3.0, len(pushed)), entry[pushed, k])
            ecd[pushed] = t_push + rng.uniform(14.0, 45.0, len(pushed))
            amt = np.where((k == 0) & ~amount_known0[pushed], np.nan, amount[pushed])
            rows.add(pushed, t_push, STAGES[k], STAGES[k], amt, ecd[pushed])
        if k in discounts:
            discounted, cut, when = discounts[k]
            cuts = inside[discounted[inside]]
            amount[cuts] = np.round(amount[cuts] * rng.uniform(*cut, len(cuts)), -1)
            t_d = entry[cuts, k] + rng.uniform(*when, len(cuts)) * d_active[cuts, k]
            rows.add(cuts, t_d, STAGES[k], STAGES[k], amount[cuts], ecd[cuts])
        # Leaving the stage: up, won, or lost.
        ends_here = last_stage[inside] == k
        up = inside[~ends_here]
        if k < 4:
            rows.add(up, entry[up, k + 1], STAGES[k], STAGES[k + 1], amount[up], ecd[up])
        fin = inside[ends_here]
        to = np.where(course.won[fin], "closed_won", "closed_lost")
        amt = np.where((k == 0) & ~amount_known0[fin], np.nan, amount[fin])
        rows.add(fin, entry[fin, k + 1], STAGES[k], to, amt, entry[fin, k + 1])
    return rows.sorted_until(world.clock.days), amount


class _HistoryRows:
    """Stage-history rows collected in batches: deal, time, from, to, amount, close date."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {
            c: [] for c in ("opp", "t", "from", "to", "amount", "ecd")
        }

    def add(self, rows: np.ndarray, t: np.ndarray, frm: object, to: object, amt, ecd) -> None:
        self.parts["opp"].append(rows)
        self.parts["t"].append(t)
        self.parts["from"].append(np.broadcast_to(np.asarray(frm, dtype=object), rows.shape))
        self.parts["to"].append(np.broadcast_to(np.asarray(to, dtype=object), rows.shape))
        self.parts["amount"].append(np.asarray(amt, dtype=float))
        self.parts["ecd"].append(np.asarray(ecd, dtype=float))

    def sorted_until(self, end: float) -> dict[str, np.ndarray]:
        """The rows before ``end``, sorted by deal, then time."""
        hist = {c: np.concatenate(v) for c, v in self.parts.items()}
        keep = hist["t"] < end
        hist = {c: v[keep] for c, v in hist.items()}
        o = np.lexsort((hist["t"], hist["opp"]))
        return {c: v[o] for c, v in hist.items()}


def _lost_reasons(
    rng: np.random.Generator, deals: _Deals, course: _Course
) -> tuple[np.ndarray, np.ndarray]:
    """Why each deal would be lost, and the competitor in it (if any)."""
    n = deals.n
    stalled_any = course.stall.any(axis=1)
    reason = np.array(vocab.LOST_REASONS, dtype=object)[rng.integers(0, len(vocab.LOST_REASONS), n)]
    reason = np.where(stalled_any & (rng.random(n) < 0.6), "went_dark", reason)
    reason = np.where(deals.competitor_present & (rng.random(n) < 0.5), LOST_COMPETITOR, reason)
    reason = np.where(course.heavy & (rng.random(n) < 0.3), "price", reason)
    competitor = np.where(
        deals.competitor_present,
        np.array(vocab.COMPETITORS, dtype=object)[rng.integers(0, len(vocab.COMPETITORS), n)],
        None,
    )
    return reason, competitor


def _deal_activities(
    world: World,
    rng: np.random.Generator,
    entry: np.ndarray,
    d_active: np.ndarray,
    last_stage: np.ndarray,
    tier: np.ndarray,
    q: np.ndarray,
) -> None:
    """Activities of every deal, in the active (not stalled) part of each stage."""
    opps, ppl, clock = world.opps, world.people, world.clock
    # The contacts a deal can involve: its account's contacts that exist when it opens.
    exists = np.flatnonzero(~np.isnan(ppl["created"]))
    key = ppl["company"][exists] * 1e5 + ppl["created"][exists]
    o = np.argsort(key, kind="stable")
    people_sorted, key = exists[o], key[o]
    lo = np.searchsorted(key, opps["company"] * 1e5 - 1.0)
    hi = np.searchsorted(key, opps["company"] * 1e5 + opps["created"], side="right")
    n_elig = hi - lo
    stakeholders = 1 + rng.poisson(0.6 + 0.9 * sigmoid(q) + np.array([0.0, 0.7, 1.6])[tier])
    pool = np.maximum(np.minimum(stakeholders, n_elig), 1)

    rows = []
    for k in range(5):
        inside = np.flatnonzero(last_stage >= k)
        span = d_active[inside, k]
        cnt = rng.poisson(0.22 * span * np.exp(0.35 * q[inside]))
        idx = np.repeat(inside, cnt)
        m = len(idx)
        t = entry[idx, k] + rng.random(m) * d_active[idx, k]
        mix = ACTIVITY_MIX[k]
        kind = ACTIVITY_KINDS[rng.choice(len(mix), size=m, p=mix)]
        slot = np.floor(rng.random(m) * pool[idx]).astype(np.int64)
        at = np.minimum(lo[idx] + slot, len(people_sorted) - 1)
        contact = np.where(n_elig[idx] > 0, people_sorted[at], -1)
        connected = rng.random(m) < 0.55
        duration = np.select(
            [kind == "call", kind == "meeting", kind == "demo"],
            [
                np.where(connected, rng.uniform(5, 40, m), rng.uniform(0.5, 2, m)),
                rng.choice([15.0, 30.0, 45.0, 60.0], size=m),
                rng.choice([45.0, 60.0, 90.0], size=m),
            ],
            np.nan,
        )
        outcome = np.select(
            [kind == "call", np.isin(kind, ("meeting", "demo")), kind == "email", kind == "task"],
            [
                np.where(connected, "connected", "no_answer"),
                np.where(rng.random(m) < 0.92, "completed", "no_show"),
                "sent",
                "completed",
            ],
            None,
        ).astype(object)
        rows.append(
            activity_rows(
                kind,
                t,
                opps["owner"][idx],
                account=opps["company"][idx],
                contact=contact,
                opp=idx,
                duration=np.round(duration, 1),
                outcome=outcome,
            )
        )
    acts = {c: np.concatenate([r[c] for r in rows]) for c in rows[0]}
    keep = acts["t"] < clock.days
    world.activities.append({c: v[keep] for c, v in acts.items()})
    world.opps["stakeholders"] = stakeholders
