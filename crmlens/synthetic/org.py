"""Teams, users, companies and people: the cast of the simulation.

* Teams: per region a sales team (SDRs and AEs) and a customer-success team
  (CSMs), plus one marketing team; each has a manager. Users carry an
  ``hourly_cost`` by role. Every AE has a latent *skill* (never written) that
  raises the win probability of its deals.
* Companies: industry (with a product-fit weight), log-normal employee count,
  revenue from size, country within region, tier from size (< 100 SMB,
  < 1,000 mid-market, else enterprise). About 70 % of the CRM's own accounts
  arrive in an import in the first days of history (``crm_import_batch`` is a
  pure-noise label), the rest are created over time; 30 % of the imported ones
  are customers already (their subscriptions began before the window).
  Companies of new-company leads exist only as profiles until the lead converts.
  ``uses_competitor`` (a custom attribute) lowers deal outcomes.
* People: ~``contacts_per_account`` per company (more at bigger companies),
  with seniority and a title that reveals it (or not).
"""

from __future__ import annotations

import numpy as np

from crmlens.synthetic import vocab
from crmlens.synthetic.common import choice, day_weights, sample_times, stream
from crmlens.synthetic.world import World

ROLE_COST = {"sdr": (32, 45), "ae": (60, 95), "csm": (48, 65), "manager": (90, 125)}
ROLE_COST.update({"marketing": (45, 60), "admin": (40, 55)})

TIER_NAMES = ("smb", "mid_market", "enterprise")


def tier_of(employees: np.ndarray) -> np.ndarray:
    """0 SMB (< 100), 1 mid-market (< 1,000), 2 enterprise."""
    return np.searchsorted(np.array([100, 1000]), employees, side="right")


def build_users(world: World) -> None:
    """Teams per region and their users (SDRs, AEs, CSMs, managers, marketing, admin)."""
    rng = stream(world.seed, "users")
    sc = world.scale
    n_regions = len(world.regions)
    w = np.array(vocab.REGION_WEIGHTS[:n_regions])
    w = w / w.sum()
    base = sc.accounts * 0.75
    n_ae = np.maximum(2, np.round(w * max(6, base / 45))).astype(int)
    n_sdr = np.maximum(1, np.round(w * max(3, sc.leads / 600))).astype(int)
    n_csm = np.maximum(1, np.round(w * max(3, sc.accounts / 150))).astype(int)

    team_name, team_region, team_manager = [], [], []
    role, region, team = [], [], []
    for r, reg in enumerate(world.regions):
        teams = (
            ("Sales", (("sdr", n_sdr[r]), ("ae", n_ae[r]))),
            ("Customer Success", (("csm", n_csm[r]),)),
        )
        for kind, members in teams:
            t = len(team_name)
            team_name.append(f"{kind} {reg}")
            team_region.append(reg)
            team_manager.append(len(role))
            role.append("manager")
            region.append(r)
            team.append(t)
            for rl, k in members:
                role += [rl] * int(k)
                region += [r] * int(k)
                team += [t] * int(k)
    t = len(team_name)
    team_name.append("Marketing")
    team_region.append("Global")
    team_manager.append(len(role))
    n_mkt = 2 + sc.campaigns // 40
    role += ["manager"] + ["marketing"] * n_mkt + ["admin"]
    region += [-1] * (n_mkt + 2)
    team += [t] * (n_mkt + 2)

    world.teams = {
        "name": np.array(team_name, dtype=object),
        "region": np.array(team_region, dtype=object),
        "manager": np.array(team_manager),
    }
    role_a = np.array(role, dtype=object)
    n = len(role_a)
    lo = np.array([ROLE_COST[r][0] for r in role_a], dtype=float)
    hi = np.array([ROLE_COST[r][1] for r in role_a], dtype=float)
    world.users = {
        "role": role_a,
        "region": np.array(region),
        "team": np.array(team),
        "hourly_cost": np.round(rng.uniform(lo, hi), 2),
        # Reps who left still own their old records.
        "active": rng.random(n) > 0.06,
        "first": rng.integers(0, len(vocab.FIRST_NAMES), n),
        "last": rng.integers(0, len(vocab.LAST_NAMES), n),
        # Latent rep skill: moves deal outcomes, never written.
        "skill": rng.normal(0.0, 0.45, n) * (role_a == "ae"),
    }


def users_of(world: World, role: str, region: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random user of ``role`` in each given region (active or not).

    Args:
        world: the simulation (its users).
        role: e.g. ``sdr``.
        region: region indices, one per pick.
        rng: the stream to draw from.

    Returns:
        User indices, one per region given.
    """
    users = world.users
    out = np.empty(len(region), dtype=np.int64)
    for r in range(len(world.regions)):
        pool = np.flatnonzero((users["role"] == role) & (users["region"] == r))
        sel = region == r
        out[sel] = pool[rng.integers(0, len(pool), sel.sum())]
    return out


def build_companies(world: World, n_base: int) -> None:
    """The CRM's own accounts: most imported at the start, the rest created over time.

    Args:
        world: the simulation; its ``companies`` are set here.
        n_base: how many accounts.
    """
    rng = stream(world.seed, "companies")
    clock = world.clock
    world.companies = _company_arrays(world, rng, n_base)
    comp = world.companies
    imported = rng.random(n_base) < 0.70
    created = np.empty(n_base)
    created[imported] = rng.uniform(0.0, 10.0, imported.sum()) + 0.3
    created[~imported] = rng.permutation(
        sample_times(rng, int((~imported).sum()), day_weights(clock, 0.3, 0.15))
    )
    legacy = imported & (rng.random(n_base) < 0.30)
    comp["is_base"][:] = True
    comp["imported"] = imported
    comp["legacy"] = legacy
    comp["created"] = created
    comp["partner"] = ~legacy & (rng.random(n_base) < 0.02)


def add_prospect_companies(world: World, n: int, rng: np.random.Generator) -> np.ndarray:
    """Append ``n`` company profiles that are not (yet) accounts.

    Args:
        world: the simulation; its ``companies`` grow.
        n: how many.
        rng: the stream to draw from.

    Returns:
        Their indices.
    """
    comp = world.companies
    new = _company_arrays(world, rng, n)
    new.update(
        imported=np.zeros(n, dtype=bool),
        legacy=np.zeros(n, dtype=bool),
        created=np.full(n, np.nan),
        partner=np.zeros(n, dtype=bool),
    )
    first = len(comp["region"])
    for k in comp:
        comp[k] = np.concatenate([comp[k], new[k]])
    return np.arange(first, first + n)


def _company_arrays(world: World, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    n_regions = len(world.regions)
    rw = np.array(vocab.REGION_WEIGHTS[:n_regions])
    region = rng.choice(n_regions, size=n, p=rw / rw.sum())
    country = np.empty(n, dtype=object)
    for r, reg in enumerate(world.regions):
        sel = np.flatnonzero(region == r)
        pairs = vocab.COUNTRIES[reg]
        country[sel] = np.array([c for c, _ in pairs], dtype=object)[choice(rng, pairs, len(sel))]
    industry = choice(rng, [(i, w) for i, w, _ in vocab.INDUSTRIES], n)
    employees = np.clip(np.round(rng.lognormal(np.log(90), 1.55, n)), 2, 250_000).astype(np.int64)
    tier = tier_of(employees)
    industry_fit = np.array([f for _, _, f in vocab.INDUSTRIES])[industry]
    size_fit = np.array([-0.25, 0.35, 0.10])[tier]
    # Name: pattern 0 "<A> <B> <Suffix>", 1 "<Last> <B> <Suffix>", 2 "<Last> & <Last> <Suffix>",
    # 3 "<Last>, <Last> & Co" (a comma, so the CSV must quote it).
    pattern = choice(rng, [(0, 0.5), (1, 0.3), (2, 0.17), (3, 0.03)], n)
    return {
        "region": region,
        "country": country,
        "industry": industry,
        "industry_known": rng.random(n) > 0.05,
        "employees": employees,
        "employees_known": rng.random(n) > 0.04,
        "tier": tier,
        "revenue": np.round(employees * rng.lognormal(np.log(140_000), 0.5, n), -3),
        "revenue_known": rng.random(n) > 0.15,
        "fit": industry_fit + size_fit,
        "uses_competitor": rng.random(n) < 0.35,
        "is_base": np.zeros(n, dtype=bool),
        "owner": users_of(world, "ae", region, rng),
        "csm": users_of(world, "csm", region, rng),
        "pattern": pattern,
        "part_a": rng.integers(0, len(vocab.NAME_PARTS_A), n),
        "part_b": rng.integers(0, len(vocab.NAME_PARTS_B), n),
        "last_a": rng.integers(0, len(vocab.LAST_NAMES), n),
        "last_b": rng.integers(0, len(vocab.LAST_NAMES), n),
        "suffix": rng.integers(0, len(vocab.NAME_SUFFIXES), n),
        "import_batch": rng.integers(1, 13, n),
        # Long-run customer health (drives usage, tickets, NPS, payments, churn).
        "health_mean": rng.normal(0.25, 0.7, n) + 0.3 * (industry_fit + size_fit),
        "churned_at": np.full(n, np.nan),
        "nps_noise": rng.normal(0.0, 1.3, n),
    }


def people_per_company(world: World, company: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """How many people each company has in the CRM (bigger companies, more).

    Args:
        world: the simulation.
        company: company indices.
        rng: the stream to draw from.

    Returns:
        A count per company given, at least 1.
    """
    tier_mult = np.array([0.7, 1.25, 2.2])[world.companies["tier"][company]]
    lam = (world.scale.contacts_per_account - 1.0) * tier_mult / 1.05
    return 1 + rng.poisson(lam)


def build_people(world: World) -> None:
    """Contacts of the CRM's own accounts: the first at account creation, others later."""
    rng = stream(world.seed, "people")
    comp = world.companies
    base = np.flatnonzero(comp["is_base"])
    per = people_per_company(world, base, rng)
    company = np.repeat(base, per)
    first_of_company = np.r_[True, company[1:] != company[:-1]]
    later = comp["created"][company] + rng.exponential(140.0, len(company))
    created = np.where(first_of_company, comp["created"][company], later)
    created[created >= world.clock.days] = np.nan
    world.people = _people_arrays(world, rng, company, created)
    world.people["source"][:] = np.where(comp["imported"][company], "import", None)


def add_people(
    world: World, company: np.ndarray, created: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Append people at ``company`` (one per entry) created at ``created``.

    Args:
        world: the simulation; its ``people`` grow.
        company: the company of each new person.
        created: when each becomes a contact (nan: not yet).
        rng: the stream to draw from.

    Returns:
        Their indices.
    """
    ppl = world.people
    new = _people_arrays(world, rng, company, created)
    first = len(ppl["company"])
    for k in ppl:
        ppl[k] = np.concatenate([ppl[k], new[k]])
    return np.arange(first, first + len(company))


def _people_arrays(
    world: World, rng: np.random.Generator, company: np.ndarray, created: np.ndarray
) -> dict[str, np.ndarray]:
    n = len(company)
    seniority = choice(rng, vocab.SENIORITY_WEIGHTS, n)
    sen_names = np.array([s for s, _ in vocab.SENIORITY_WEIGHTS], dtype=object)
    title = np.empty(n, dtype=object)
    for s, name in enumerate(sen_names):
        sel = np.flatnonzero(seniority == s)
        titles = np.array(vocab.TITLES[name], dtype=object)
        title[sel] = titles[rng.integers(0, len(titles), len(sel))]
    no_title = rng.random(n) < 0.08
    title[no_title] = None
    seniority_name = sen_names[seniority].copy()
    seniority_name[no_title] = "unknown"
    return {
        "company": np.asarray(company, dtype=np.int64),
        "first": rng.integers(0, len(vocab.FIRST_NAMES), n),
        "last": rng.integers(0, len(vocab.LAST_NAMES), n),
        "seniority": seniority_name,
        "title": title,
        "phone_known": rng.random(n) > 0.35,
        "phone_digits": rng.integers(1_000_000, 9_999_999, n),
        "opt_in": rng.random(n) < 0.7,
        "do_not_contact": rng.random(n) < 0.03,
        "created": np.asarray(created, dtype=float),
        "source": np.full(n, None, dtype=object),
        # Propensity to open marketing e-mail (heterogeneous readers).
        "email_affinity": rng.lognormal(0.0, 0.6, n),
        # Product power users vs occasional users.
        "usage_affinity": rng.lognormal(0.0, 0.7, n),
        "is_user": rng.random(n) < 0.75,
    }
