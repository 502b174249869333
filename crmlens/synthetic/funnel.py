"""Campaigns, leads, their engagement, and the lead → opportunity decision.

The causal story a lead-scoring model can find (and what it should miss):

* Every lead has a latent **intent** (never written). Intent raises the rate of
  engagement events between the lead's creation and its decision (page views,
  pricing views, e-mail opens and clicks, replies, demo requests), and the
  high-intent ones (pricing_view, demo_request, email_click) bunch up in the
  weeks just before the decision (recency). Intent also shapes the SDR's custom
  fields: ``budget_confirmed``, ``timeline`` and ``decision_maker``.
* **Fit**: industry, company size (tier), the person's seniority and the lead
  source each add to the conversion logit.
* The conversion logit is ``0.8·fit + g(size)·engagement + 0.55·intent +
  custom fields + noise`` where ``g`` is large for mid-market companies and
  small for SMB (an interaction), e-mail opens saturate (diminishing returns),
  a demo request acts as a threshold, heavy browsing without a single pricing
  view marks a tire-kicker (−0.9), and a ``N(0, 0.7)`` noise term is never
  visible. The intercept is calibrated to convert ~12 % of leads.
* The decision comes 1-88 days after creation (high intent decides sooner).
  Converted leads keep engaging heavily for ~60 days *after* conversion, and
  rejected ones receive nurture e-mail: any feature counted past the decision
  leaks the label.
* ``form_variant`` and ``preferred_language`` are noise.

Leads come from campaigns (their time falls inside the campaign, source from
the channel) or organically (web, referral, outbound, partner), with volume
growing ~45 % a year. About 40 % are people already in the CRM (``contact_id``
and ``account_id`` set); the rest are new companies, whose account and contacts
are created only when the lead converts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crmlens.synthetic import catalog, vocab
from crmlens.synthetic.catalog import EVENT_CODE
from crmlens.synthetic.common import (
    calibrate_offset,
    choice,
    day_weights,
    sample_times,
    sigmoid,
    stream,
)
from crmlens.synthetic.org import add_people, add_prospect_companies, users_of
from crmlens.synthetic.world import World, activity_rows

CONVERSION_RATE = 0.12

# Engagement before the decision: event type, base rate per day, intent loading,
# and whether its timing bunches up towards the decision.
PRE_DECISION = (
    ("page_view", 0.30, 0.45, False),
    ("pricing_view", 0.030, 0.95, True),
    ("email_open", 0.14, 0.40, False),
    ("email_click", 0.035, 0.75, True),
    ("email_reply", 0.008, 0.80, True),
    ("content_download", 0.015, 0.30, False),
    ("webinar_attend", 0.004, 0.30, False),
    ("demo_request", 0.0035, 1.30, True),
)
# Engagement after the decision: (type, rate per day) for converted / not converted.
AFTER_CONVERSION = (
    ("page_view", 0.40),
    ("pricing_view", 0.10),
    ("email_open", 0.25),
    ("email_click", 0.08),
    ("email_reply", 0.05),
    ("content_download", 0.03),
)
AFTER_REJECTION = (("email_open", 0.06), ("page_view", 0.03), ("email_click", 0.006))
WEB_TYPES = {"page_view", "pricing_view", "form_submit", "demo_request", "content_download"}
EMAIL_TYPES = {"email_open", "email_click", "email_reply"}


def _pick_linked_people(world: World, rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """For each time, a contact created before it at a non-customer account (or -1)."""
    ppl, comp = world.people, world.companies
    ok = ~np.isnan(ppl["created"]) & ~comp["legacy"][ppl["company"]]
    cand = np.flatnonzero(ok)
    cand = cand[np.argsort(ppl["created"][cand], kind="stable")]
    avail = np.searchsorted(ppl["created"][cand], t, side="left")
    pick = np.floor(rng.random(len(t)) * avail).astype(np.int64)
    return np.where(avail > 0, cand[np.minimum(pick, len(cand) - 1)], -1)


def build_leads(world: World) -> None:
    """Create leads, draw their intent and engagement, and decide their conversion."""
    # Every draw comes from this one stream, in this order: reordering changes the CRM.
    rng = stream(world.seed, "leads")
    n = world.scale.leads
    t0, campaign, source = _arrivals(world, rng, n)
    person, linked, company = _people_of(world, rng, t0)
    comp, ppl, camp = world.companies, world.people, world.campaigns

    # --- latent intent and fit ---------------------------------------------------
    quality = np.where(campaign >= 0, camp["quality"][np.maximum(campaign, 0)], 0.0)
    z = rng.normal(0.0, 1.0, n) + quality
    seniority = ppl["seniority"][person]
    sen_fit = np.array([vocab.SENIORITY_FIT[s] for s in seniority])
    src_fit = np.array([vocab.LEAD_SOURCE_FIT[s] for s in source])
    fit = comp["fit"][company] + sen_fit + src_fit
    fields = _custom_fields(rng, z, seniority)

    # --- engagement before the decision, and the decision --------------------------
    delay = np.clip(rng.gamma(2.0, 13.0 * np.exp(-0.15 * z)), 1.0, 88.0)
    t_dec = t0 + delay
    counts, batches = _engagement(rng, z, fit, t0, delay, source)
    logit = _conversion_logit(counts, fit, z, comp["tier"][company], fields)
    logit = logit + rng.normal(0.0, 0.7, n)
    p = sigmoid(logit + calibrate_offset(logit, CONVERSION_RATE))
    decided = t_dec < world.clock.days
    converted = decided & (rng.random(n) < p)
    rejected = decided & ~converted
    disqualified = rejected & (rng.random(n) < 0.65)

    batches += _after_decision(rng, z, t0, t_dec, converted, rejected)
    lead_events = _identify(world, rng, batches, linked, person, company, campaign)
    status = _statuses(world, rng, t0, converted, disqualified, rejected, fields)

    world.leads = {
        "t0": t0,
        "t_dec": t_dec,
        "person": person,
        "company": company,
        "linked": linked,
        "source": source,
        "campaign": campaign,
        "owner": users_of(world, "sdr", comp["region"][company], rng),
        "intent": z,
        "fit": fit,
        "budget": fields.budget,
        "timeline": fields.timeline,
        "decision_maker": fields.decision_maker,
        "form_variant": rng.integers(0, 3, n),
        "language": choice(rng, vocab.LANGUAGES, n),
        "converted": converted,
        "disqualified": disqualified,
        "dq_reason": rng.integers(0, len(vocab.DISQUALIFY_REASONS), n),
        "status": status,
        "webinar": counts["webinar_attend"],
        "clicks": counts["email_click"],
        "opens": counts["email_open"],
    }
    world.sparse_events = lead_events
    _lead_members(world, rng)
    _sdr_activities(world, rng)


def _arrivals(
    world: World, rng: np.random.Generator, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """When each lead arrives and from where: a campaign (or -1) and a source.

    Sorted by time, since keys follow creation order.
    """
    clock, camp = world.clock, world.campaigns
    from_campaign = rng.random(n) < 0.5
    n_c = int(from_campaign.sum())
    ch_weight = {"paid_search": 3.0, "social": 2.0, "webinar": 2.0, "event": 2.5, "content": 2.0}
    cw = np.array([ch_weight.get(c, 1.0) for c in camp["channel"]])
    cw = cw * np.exp(0.4 * camp["start"] / 365.0)
    campaign = np.full(n, -1, dtype=np.int64)
    campaign[from_campaign] = rng.choice(len(cw), size=n_c, p=cw / cw.sum())
    c = campaign[from_campaign]
    t0 = np.empty(n)
    t0[from_campaign] = camp["start"][c] + rng.random(n_c) * (
        np.minimum(camp["end"][c], clock.days) - camp["start"][c]
    )
    t0[~from_campaign] = rng.permutation(sample_times(rng, n - n_c, day_weights(clock, 0.45, 0.3)))
    source = np.empty(n, dtype=object)
    source[from_campaign] = np.array([vocab.CHANNEL_SOURCE[x] for x in camp["channel"][c]])
    organic = np.array([s for s, _ in vocab.ORGANIC_SOURCES], dtype=object)
    source[~from_campaign] = organic[choice(rng, vocab.ORGANIC_SOURCES, n - n_c)]
    order = np.argsort(t0, kind="stable")
    return t0[order], campaign[order], source[order]


def _people_of(
    world: World, rng: np.random.Generator, t0: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The person behind each lead (a contact already in the CRM, or a new one) and company."""
    n = len(t0)
    person = np.where(rng.random(n) < 0.40, _pick_linked_people(world, rng, t0), -1)
    linked = person >= 0
    n_new = int((~linked).sum())
    # A new company is a profile (not an account) and the lead its only known person,
    # until the lead converts.
    new_company = add_prospect_companies(world, n_new, rng)
    company = np.empty(n, dtype=np.int64)
    company[linked] = world.people["company"][person[linked]]
    company[~linked] = new_company
    person[~linked] = add_people(world, new_company, np.full(n_new, np.nan), rng)
    return person, linked, company


@dataclass
class _Fields:
    """The custom fields the SDR fills in (tied to intent)."""

    budget: np.ndarray  # 1 confirmed, 0 not, -1 not asked yet
    timeline: np.ndarray  # index into vocab.TIMELINES
    decision_maker: np.ndarray


def _custom_fields(rng: np.random.Generator, z: np.ndarray, seniority: np.ndarray) -> _Fields:
    n = len(z)
    budget = np.where(rng.random(n) < sigmoid(-0.2 + 1.1 * z), 1, 0)
    budget = np.where(rng.random(n) < 0.35, -1, budget)  # -1: not asked yet
    tl_logits = np.stack([0.8 * z, 0.3 * z + 0.2, -0.3 * z + 0.2, -0.6 * z + 0.3], axis=1)
    timeline = np.argmax(tl_logits + rng.gumbel(size=(n, 4)), axis=1)
    senior = np.isin(seniority, ("c_level", "vp", "director"))
    decision_maker = rng.random(n) < sigmoid(-1.2 + 1.6 * senior + 0.5 * z)
    return _Fields(budget, timeline, decision_maker)


def _engagement(
    rng: np.random.Generator,
    z: np.ndarray,
    fit: np.ndarray,
    t0: np.ndarray,
    delay: np.ndarray,
    source: np.ndarray,
) -> tuple[dict[str, np.ndarray], list[dict[str, np.ndarray]]]:
    """Engagement events between creation and decision: counts per type, and the events."""
    n = len(z)
    counts = {}
    batches = []
    for name, base, load, late in PRE_DECISION:
        lam = base * np.exp(load * z + 0.15 * fit) * delay
        k = rng.poisson(lam)
        counts[name] = k
        idx = np.repeat(np.arange(n), k)
        u = rng.beta(2.0, 1.0, len(idx)) if late else rng.random(len(idx))
        batches.append(_lead_events(name, idx, t0[idx] + u * delay[idx]))
    # The form that created an inbound lead.
    inbound = np.flatnonzero(source != "outbound")
    batches.append(_lead_events("form_submit", inbound, t0[inbound]))
    return counts, batches


def _conversion_logit(
    counts: dict[str, np.ndarray],
    fit: np.ndarray,
    z: np.ndarray,
    tier: np.ndarray,
    fields: _Fields,
) -> np.ndarray:
    """The conversion logit before noise and calibration (module docstring)."""
    eng = (
        0.5 * np.log1p(counts["pricing_view"])
        + 1.1 * (counts["demo_request"] > 0)
        + 0.4 * np.log1p(counts["email_click"])
        + 0.5 * (1.0 - np.exp(-counts["email_open"] / 2.0))
        + 0.35 * (counts["email_reply"] > 0)
        + 0.2 * np.log1p(counts["webinar_attend"] + counts["content_download"])
    )
    g_size = np.array([0.3, 1.8, 0.6])[tier]
    # Browsing a lot without ever looking at prices: researchers, students, job seekers.
    tire_kicker = (counts["page_view"] >= 10) & (counts["pricing_view"] == 0)
    custom = (
        np.array([-0.35, 0.45, 0.0])[fields.budget]
        + np.array([0.55, 0.15, -0.15, -0.35])[fields.timeline]
        + 0.4 * fields.decision_maker
    )
    return 0.8 * fit + g_size * eng - 0.9 * tire_kicker + 0.55 * z + custom


def _after_decision(
    rng: np.random.Generator,
    z: np.ndarray,
    t0: np.ndarray,
    t_dec: np.ndarray,
    converted: np.ndarray,
    rejected: np.ndarray,
) -> list[dict[str, np.ndarray]]:
    """Engagement after the decision (the leak), and anonymous views before creation."""
    batches = []
    for rows, span, spec in (
        (np.flatnonzero(converted), 60.0, AFTER_CONVERSION),
        (np.flatnonzero(rejected), 90.0, AFTER_REJECTION),
    ):
        for name, rate in spec:
            k = rng.poisson(rate * span * np.exp(0.2 * z[rows]))
            idx = np.repeat(rows, k)
            batches.append(_lead_events(name, idx, t_dec[idx] + rng.random(len(idx)) * span))
    # Anonymous browsing before the lead identified itself (same browser id).
    k = rng.poisson(1.0 + np.maximum(z, 0.0))
    idx = np.repeat(np.arange(len(z)), k)
    pre = _lead_events("page_view", idx, t0[idx] - rng.random(len(idx)) * 14.0)
    pre["lead"][:] = -1
    batches.append(pre)
    return batches


def _identify(
    world: World,
    rng: np.random.Generator,
    batches: list[dict[str, np.ndarray]],
    linked: np.ndarray,
    person: np.ndarray,
    company: np.ndarray,
    campaign: np.ndarray,
) -> dict[str, np.ndarray]:
    """The leads' events with contact, account, browser and campaign, inside the window."""
    ev = catalog.concat(batches)
    src_lead = _event_owner(batches)
    et = ev["etype"]
    is_web = np.isin(et, [EVENT_CODE[x] for x in WEB_TYPES])
    is_email = np.isin(et, [EVENT_CODE[x] for x in EMAIL_TYPES])
    ev["contact"] = np.where(linked[src_lead], person[src_lead], -1)
    ev["account"] = np.where(linked[src_lead], company[src_lead], -1)
    ev["anon"] = np.where(is_web, catalog.LEAD_VISITOR_BASE + src_lead, -1)
    first_touch = (ev["lead"] >= 0) & (et == EVENT_CODE["form_submit"])
    ev["campaign"] = np.where(is_email | first_touch, campaign[src_lead], -1)
    ev["prop"] = catalog.random_props(rng, et)
    keep = (ev["t"] >= 0.0) & (ev["t"] < world.clock.days)
    return catalog.concat([catalog.take(ev, np.flatnonzero(keep))])


def _statuses(
    world: World,
    rng: np.random.Generator,
    t0: np.ndarray,
    converted: np.ndarray,
    disqualified: np.ndarray,
    rejected: np.ndarray,
    fields: _Fields,
) -> np.ndarray:
    """Each lead's status at the end date."""
    n = len(t0)
    decided = converted | rejected
    age = world.clock.days - t0
    status = np.where(
        converted,
        "converted",
        np.where(
            disqualified,
            "disqualified",
            np.where(
                rejected,
                "nurturing",
                np.where(age < 5, "new", np.where(rng.random(n) < 0.7, "working", "nurturing")),
            ),
        ),
    ).astype(object)
    open_qualified = ~decided & (fields.budget == 1) & (fields.timeline == 0) & (age > 10)
    status[open_qualified] = "qualified"
    return status


def _lead_events(name: str, lead: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    b = catalog.batch(len(lead))
    b["t"] = t
    b["etype"][:] = EVENT_CODE[name]
    b["lead"] = lead.astype(np.int32)
    # The lead behind the event, kept even where `lead` is blanked (anonymous views).
    b["owner"] = lead.astype(np.int64)
    return b


def _event_owner(batches: list[dict[str, np.ndarray]]) -> np.ndarray:
    """The lead behind every event of the batches, anonymous pre-creation views included."""
    return np.concatenate([b["owner"] for b in batches])


def _lead_members(world: World, rng: np.random.Generator) -> None:
    """Campaign membership of campaign-sourced leads, with their furthest response."""
    leads, camp = world.leads, world.campaigns
    rows = np.flatnonzero(leads["campaign"] >= 0)
    ch = camp["channel"][leads["campaign"][rows]]
    attended = leads["webinar"][rows] > 0
    status = np.where(
        np.isin(ch, ("webinar", "event")),
        np.where(attended | (rng.random(len(rows)) < 0.5), "attended", "registered"),
        np.where(
            leads["clicks"][rows] > 0,
            "clicked",
            np.where(leads["opens"][rows] > 0, "opened", "responded"),
        ),
    ).astype(object)
    world.members.append(
        {
            "campaign": leads["campaign"][rows],
            "member": rows,
            "is_lead": np.ones(len(rows), dtype=bool),
            "t": leads["t0"][rows],
            "status": status,
        }
    )


def _sdr_activities(world: World, rng: np.random.Generator) -> None:
    """SDR calls and e-mails while a lead is being worked."""
    leads, clock = world.leads, world.clock
    n = len(leads["t0"])
    stop = np.minimum(leads["t_dec"], clock.days)
    span = np.maximum(stop - leads["t0"], 0.0)
    k = rng.poisson(1.0 + span / 9.0)
    idx = np.repeat(np.arange(n), k)
    m = len(idx)
    t = leads["t0"][idx] + rng.random(m) * span[idx]
    kind = np.array(["call", "email", "sms", "task"], dtype=object)[
        choice(rng, [(0, 0.45), (1, 0.45), (2, 0.04), (3, 0.06)], m)
    ]
    connected = rng.random(m) < sigmoid(-0.8 + 0.6 * leads["intent"][idx])
    outcome = np.where(
        kind == "call",
        np.where(
            connected, "connected", np.where(rng.random(m) < 0.5, "no_answer", "left_voicemail")
        ),
        np.where(kind == "task", "completed", "sent"),
    ).astype(object)
    duration = np.where(
        kind == "call", np.where(connected, rng.uniform(4, 30, m), rng.uniform(0.5, 2, m)), np.nan
    )
    linked = leads["linked"][idx]
    world.activities.append(
        activity_rows(
            kind,
            t,
            leads["owner"][idx],
            account=np.where(linked, leads["company"][idx], -1),
            contact=np.where(linked, leads["person"][idx], -1),
            lead=idx,
            duration=np.round(duration, 1),
            outcome=outcome,
        )
    )
