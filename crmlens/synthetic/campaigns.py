"""Marketing campaigns, and the e-mail campaigns sent to contacts.

Campaigns come first in the timeline (leads arrive through them): each has a
channel, dates, a cost and a latent lead quality. E-mail campaigns are sent
later, once the contacts exist, to opted-in contacts: members, opens and clicks.
"""

from __future__ import annotations

import numpy as np

from crmlens.synthetic import catalog, vocab
from crmlens.synthetic.catalog import EVENT_CODE
from crmlens.synthetic.common import choice, day_weights, sample_times, stream
from crmlens.synthetic.world import World


def build_campaigns(world: World) -> None:
    """Campaigns over the window: channel, dates, cost and a latent lead quality."""
    rng = stream(world.seed, "campaigns")
    clock = world.clock
    n = world.scale.campaigns
    ch = choice(rng, [(c, w) for c, w, _, _ in vocab.CAMPAIGN_CHANNELS], n)
    start = rng.permutation(sample_times(rng, n, day_weights(clock, 0.3, 0.05)))
    length_lo = np.array([lo for _, _, _, (lo, _) in vocab.CAMPAIGN_CHANNELS])[ch]
    length_hi = np.array([hi for _, _, _, (_, hi) in vocab.CAMPAIGN_CHANNELS])[ch]
    end = start + rng.uniform(length_lo, length_hi)
    cost_lo = np.array([lo for _, _, (lo, _), _ in vocab.CAMPAIGN_CHANNELS])[ch]
    cost_hi = np.array([hi for _, _, (_, hi), _ in vocab.CAMPAIGN_CHANNELS])[ch]
    order = np.argsort(start, kind="stable")
    world.campaigns = {
        "channel": np.array([c for c, *_ in vocab.CAMPAIGN_CHANNELS], dtype=object)[ch][order],
        "start": start[order],
        "end": end[order],
        "cost": np.round(rng.uniform(cost_lo, cost_hi), -1)[order],
        "topic": rng.integers(0, len(vocab.CAMPAIGN_TOPICS), n)[order],
        "quality": rng.normal(0.0, 0.3, n)[order],
    }


def build_email_campaigns(world: World) -> None:
    """E-mail campaigns sent to opted-in contacts: members and open/click events."""
    rng = stream(world.seed, "email_campaigns")
    camp, ppl, clock = world.campaigns, world.people, world.clock
    created = ppl["created"]
    ok = ~np.isnan(created) & ppl["opt_in"] & ~ppl["do_not_contact"]
    members, batches = [], []
    for c in np.flatnonzero(camp["channel"] == "email"):
        cand = np.flatnonzero(ok & (created < camp["start"][c]))
        if len(cand) == 0:
            continue
        sel = cand[rng.random(len(cand)) < 0.06]
        m = len(sel)
        aff = ppl["email_affinity"][sel]
        opened = rng.random(m) < np.clip(0.25 * aff, 0.0, 0.9)
        clicked = opened & (rng.random(m) < np.clip(0.22 * aff, 0.0, 0.8))
        unsub = rng.random(m) < 0.01
        t_sent = camp["start"][c] + rng.random(m) * 0.3
        t_open = t_sent + rng.exponential(1.2, m)
        t_click = t_open + rng.exponential(0.05, m)
        status = np.where(
            unsub, "unsubscribed", np.where(clicked, "clicked", np.where(opened, "opened", "sent"))
        )
        members.append(
            {
                "campaign": np.full(m, c),
                "member": sel,
                "is_lead": np.zeros(m, dtype=bool),
                "t": t_sent,
                "status": status.astype(object),
            }
        )
        for name, mask, tt in (("email_open", opened, t_open), ("email_click", clicked, t_click)):
            rows = np.flatnonzero(mask)
            b = catalog.batch(len(rows))
            b["t"] = tt[rows]
            b["etype"][:] = EVENT_CODE[name]
            b["contact"] = sel[rows]
            b["account"] = ppl["company"][sel[rows]]
            b["campaign"][:] = c
            b["prop"] = catalog.random_props(rng, b["etype"])
            batches.append(b)
    world.members.extend(members)
    ev = catalog.concat(batches)
    ev = catalog.take(ev, np.flatnonzero(ev["t"] < clock.days))
    world.sparse_events = catalog.concat([world.sparse_events, ev])
