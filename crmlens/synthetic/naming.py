"""Names the CRM shows: company names and web domains, people's names and e-mail addresses.

Every choice was drawn during the simulation (name parts, patterns, countries);
this only spells them out, so it draws nothing. Domains and addresses that would
collide get a number (``acme2.com``, ``jane.doe2@acme.com``).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from crmlens.synthetic import vocab
from crmlens.synthetic.world import Arrays, World

_TLD = {
    **{c: f".{c.lower()}" for c in ("DE", "FR", "NL", "SE", "ES", "JP", "IN", "MX")},
    **{"GB": ".co.uk", "AU": ".com.au", "BR": ".com.br"},
}


@dataclass(frozen=True)
class Names:
    """Per company: name and domain; per person: first and last name, e-mail."""

    company: pl.Series
    domain: pl.Series
    first_name: pl.Series
    last_name: pl.Series
    email: pl.Series


def spell_names(world: World) -> Names:
    """Company names and domains, person names and e-mail addresses of every entity.

    Args:
        world: the finished simulation.

    Returns:
        The names, indexed like ``world.companies`` and ``world.people``.
    """
    company, domain = _companies(world.companies)
    first, last, email = _people(world.people, domain)
    return Names(company=company, domain=domain, first_name=first, last_name=last, email=email)


def _companies(comp: Arrays) -> tuple[pl.Series, pl.Series]:
    """Name and web domain of every company."""
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
        .otherwise(pl.concat_str(pl.col("la") + ",", pl.col("lb"), pl.lit("& Co"), separator=" ")),
        stem=pl.when(pl.col("pat") == 0)
        .then(pl.col("a") + pl.col("b"))
        .when(pl.col("pat") == 1)
        .then(pl.col("la") + pl.col("b"))
        .otherwise(pl.col("la") + pl.col("lb")),
    )
    df = df.with_columns(
        stem=pl.col("stem").str.to_lowercase().str.replace_all(r"[^a-z0-9]", ""),
        tld=pl.Series([_TLD.get(c, ".com") for c in comp["country"]]),
    )
    df = df.with_columns(n=pl.int_range(pl.len()).over("stem"))
    df = df.with_columns(
        domain=pl.when(pl.col("n") == 0)
        .then(pl.col("stem") + pl.col("tld"))
        .otherwise(pl.col("stem") + (pl.col("n") + 1).cast(pl.Utf8) + pl.col("tld"))
    )
    return df["name"], df["domain"]


def _people(ppl: Arrays, domain: pl.Series) -> tuple[pl.Series, pl.Series, pl.Series]:
    """First name, last name and e-mail address (at the company's domain) of every person."""
    first = pl.Series(vocab.FIRST_NAMES).gather(ppl["first"])
    last = pl.Series(vocab.LAST_NAMES).gather(ppl["last"])
    dom = domain.gather(ppl["company"])
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
    return pf["first"], pf["last"], pf["email"]
