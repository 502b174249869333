"""Behavioural events, generated and written one day at a time.

Three streams meet in each day's file:

* **Lead and e-mail engagement** (simulated up front in :mod:`.funnel`, because
  it is what lead conversion depends on): page views, pricing views, e-mail
  opens, clicks and replies, form submits, demo requests, content downloads,
  webinar attendance, including the events *after* a lead's decision.
* **Product usage** (``login``, ``feature_use``) by the contacts of customers
  while their account subscribes: a Poisson rate per user and day ∝ the user's
  own activity level × e^(0.5·health) × a weekday rhythm. Health declines in the
  months before a churn, so usage does too.
* **Anonymous web traffic** (``anonymous_id`` only), growing over time.

Only one day of events is in memory at a time (plus the lead/e-mail stream,
a few per cent of the total); everything is vectorized with numpy and polars.
Product and anonymous volumes are scaled so the total lands near the scale's
target. Each day draws from its own seeded stream, so days are independent.

Seeded defects (``dirty_rate`` of rows): ``missing_required`` (event_type),
``future_timestamp`` (year + 900, the row stays in its true day's file) and
``unknown_reference`` (a contact_id that is in no contacts.csv).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import IO

import numpy as np
import polars as pl

from crmlens.contracts import EVENT_TYPES
from crmlens.synthetic import catalog
from crmlens.synthetic.catalog import EVENT_CODE
from crmlens.synthetic.common import stream
from crmlens.synthetic.world import World

BAD_EVENT_TYPES = ("pageview", "Page View", "pricing-view", "click", "signup")
# Event types are an open list (an unknown one is kept, as `other`): a missing one is the
# defect.
EVENT_DEFECT_KINDS = ("missing_required", "future_timestamp", "unknown_reference")
ANON_POOL_PER_EVENT = 0.08
WEEKEND_PRODUCT = 0.18


class EventWriter:
    """Generates and writes the events of every day of the window."""

    def __init__(
        self,
        world: World,
        keys: dict[str, np.ndarray],
        out_dir: Path,
        fmt: str,
        dirty_rate: float,
    ) -> None:
        self.world = world
        self.out_dir = out_dir
        self.fmt = fmt
        self.dirty_rate = dirty_rate
        self.clock = world.clock
        # Key lookups with null at position 0, so index -1 + 1 gathers a null.
        self.contact_keys = _with_null(keys["contacts"])
        self.lead_keys = _with_null(keys["leads"])
        self.account_keys = _with_null(keys["accounts"])
        self.campaign_keys = _with_null(keys["campaigns"])
        self.type_names = pl.Series(EVENT_TYPES, dtype=pl.Utf8)
        self.props = pl.Series(catalog.PROP_STRINGS, dtype=pl.Utf8)
        sp = world.sparse_events
        o = np.argsort(sp["t"], kind="stable")
        self.sparse = catalog.take(sp, o)
        # One sorted copy is enough; the world's is not needed again.
        world.sparse_events = {}
        self._prepare_product()

    # --- product usage -------------------------------------------------------------
    def _prepare_product(self) -> None:
        w = self.world
        ppl, comp, subs = w.people, w.companies, w.subscriptions
        end = float(self.clock.days)
        n_comp = len(comp["region"])
        first = np.full(n_comp, np.inf)
        last = np.full(n_comp, -np.inf)
        stop = np.where(np.isnan(subs["ended"]), end, subs["ended"])
        np.minimum.at(first, subs["company"], subs["start"])
        np.maximum.at(last, subs["company"], stop)
        users = np.flatnonzero(
            ppl["is_user"] & ~np.isnan(ppl["created"]) & np.isfinite(first[ppl["company"]])
        )
        self.u_person = users
        self.u_company = ppl["company"][users]
        self.u_from = np.maximum(first[self.u_company], ppl["created"][users])
        self.u_to = last[self.u_company]
        self.u_aff = ppl["usage_affinity"][users]
        weekday = self.clock.weekday(np.arange(self.clock.days))
        self.day_factor = np.where(weekday >= 5, WEEKEND_PRODUCT, 1.0)

    def _product_lambda(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        mid = day + 0.5
        active = np.flatnonzero((self.u_from <= mid) & (self.u_to > mid))
        h = self.world.health_at(self.u_company[active], np.full(len(active), mid))
        lam = self.day_factor[day] * self.u_aff[active] * np.exp(0.5 * h)
        return active, lam

    def plan(self, target: int) -> None:
        """Scale product and anonymous volumes so the total lands near ``target``."""
        days = self.clock.days
        sparse = len(self.sparse["t"])
        rest = max(target - sparse, int(0.2 * target))
        weight = np.array([self._product_lambda(d)[1].sum() for d in range(days)])
        self.product_scale = 0.75 * rest / max(weight.sum(), 1e-9)
        growth = np.exp(np.log1p(0.4) * np.arange(days) / 365.0)
        weekday = self.clock.weekday(np.arange(days))
        aw = growth * np.where(weekday >= 5, 0.55, 1.0)
        self.anon_per_day = 0.25 * rest * aw / aw.sum()
        self.anon_pool = max(1000, int(ANON_POOL_PER_EVENT * 0.25 * rest))

    def _day_batch(self, day: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        sp = self.sparse
        lo, hi = np.searchsorted(sp["t"], [day, day + 1])
        parts = [catalog.take(sp, np.arange(lo, hi))]

        active, lam = self._product_lambda(day)
        k = rng.poisson(lam * self.product_scale)
        ui = np.repeat(active, k)
        b = catalog.batch(len(ui))
        b["t"] = day + np.clip(rng.normal(14.0, 3.5, len(ui)), 0.0, 23.999) / 24.0
        login = rng.random(len(ui)) < 0.3
        b["etype"] = np.where(login, EVENT_CODE["login"], EVENT_CODE["feature_use"]).astype(np.int8)
        b["contact"] = self.u_person[ui]
        b["account"] = self.u_company[ui]
        b["prop"] = catalog.random_props(rng, b["etype"])
        parts.append(b)

        na = rng.poisson(self.anon_per_day[day])
        a = catalog.batch(na)
        a["t"] = day + rng.random(na)
        visitor = np.floor(self.anon_pool * rng.random(na) ** 2).astype(np.int64)
        a["anon"] = visitor
        r = rng.random(na)
        a["etype"] = np.select(
            [r < 0.93, r < 0.98],
            [EVENT_CODE["page_view"], EVENT_CODE["pricing_view"]],
            EVENT_CODE["content_download"],
        ).astype(np.int8)
        a["prop"] = catalog.random_props(rng, a["etype"])
        parts.append(a)

        ev = catalog.concat(parts)
        return catalog.take(ev, np.argsort(ev["t"], kind="stable"))

    # --- writing ------------------------------------------------------------------------
    def run(
        self,
        target: int,
        defects_out: IO[str],
        progress: Callable[[str, int, int], None] | None,
    ) -> tuple[int, int]:
        """Write every day's file.

        Args:
            target: about how many events to write over the window.
            defects_out: where each seeded event defect is written (one JSON per line).
            progress: called as ``progress("events", days done, days)``, if given.

        Returns:
            Events written and defect rows recorded.
        """
        self.plan(target)
        days = self.clock.days
        ev_dir = self.out_dir / "events"
        ev_dir.mkdir(parents=True, exist_ok=True)
        next_id, n_defects = 0, 0
        for day in range(days):
            rng = stream(self.world.seed, "events_day", day)
            ev = self._day_batch(day, rng)
            n = len(ev["t"])
            if n:
                name = (self.clock.start + timedelta(days=day)).isoformat()
                rel = f"events/{name}.{'parquet' if self.fmt == 'parquet' else 'jsonl'}"
                df, bad = self._frame(ev, day, next_id, rng, rel)
                if self.fmt == "parquet":
                    df.write_parquet(self.out_dir / rel, compression="zstd", statistics=True)
                else:
                    df.with_columns(
                        pl.col("occurred_at").dt.strftime("%Y-%m-%d %H:%M:%S%.6f")
                    ).write_ndjson(self.out_dir / rel)
                if bad is not None and bad.height:
                    defects_out.write(bad.write_ndjson())
                    n_defects += bad.height
                next_id += n
            if progress is not None:
                progress("events", day + 1, days)
        return next_id, n_defects

    def _frame(
        self,
        ev: dict[str, np.ndarray],
        day: int,
        first_id: int,
        rng: np.random.Generator,
        rel: str,
    ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        n = len(ev["t"])
        micros = self.clock.to_micros(ev["t"])
        event_id = "E" + pl.Series(np.arange(first_id + 1, first_id + n + 1)).cast(
            pl.Utf8
        ).str.zfill(10)
        etype = self.type_names.gather(ev["etype"].astype(np.int64))
        contact = self.contact_keys.gather(ev["contact"].astype(np.int64) + 1)

        bad_rows = np.flatnonzero(rng.random(n) < self.dirty_rate)
        kinds = rng.integers(0, len(EVENT_DEFECT_KINDS), len(bad_rows))
        values = np.empty(len(bad_rows), dtype=object)
        sel = kinds == 0
        # The draw is kept so that the stream, and every later value, stays as it was.
        rng.integers(0, len(BAD_EVENT_TYPES), int(sel.sum()))
        values[sel] = None
        etype = etype.scatter(bad_rows[sel], pl.Series([None] * int(sel.sum()), dtype=pl.Utf8))
        sel = kinds == 1
        micros[bad_rows[sel]] = plus_900_years(micros[bad_rows[sel]])
        values[sel] = format_micros(micros[bad_rows[sel]])
        sel = kinds == 2
        v = "C9" + pl.Series(rng.integers(0, 1_000_000, int(sel.sum()))).cast(pl.Utf8).str.zfill(6)
        v = (v + "x").to_numpy().astype(object)
        values[sel] = v
        contact = contact.scatter(bad_rows[sel], pl.Series(v, dtype=pl.Utf8))
        columns = np.array(["event_type", "occurred_at", "contact_id"], dtype=object)[kinds]

        def prefixed(prefix: str, ids: np.ndarray) -> pl.Series:
            s = pl.Series(ids)
            return pl.select(
                pl.when(s >= 0).then(pl.lit(prefix) + s.cast(pl.Utf8)).otherwise(None)
            ).to_series()

        df = pl.DataFrame(
            {
                "event_id": event_id,
                "occurred_at": pl.Series(micros).cast(pl.Datetime("us")),
                "event_type": etype,
                "contact_id": contact,
                "lead_id": self.lead_keys.gather(ev["lead"].astype(np.int64) + 1),
                "account_id": self.account_keys.gather(ev["account"].astype(np.int64) + 1),
                "anonymous_id": prefixed("v", ev["anon"]),
                "session_id": prefixed("s", catalog.sessions(ev, day)),
                "campaign_id": self.campaign_keys.gather(ev["campaign"].astype(np.int64) + 1),
                "properties": self.props.gather(ev["prop"].astype(np.int64)),
            }
        )
        if not len(bad_rows):
            return df, None
        bad = pl.DataFrame(
            {
                "table": pl.repeat("events", len(bad_rows), eager=True),
                "file": pl.repeat(rel, len(bad_rows), eager=True),
                "row": pl.Series(bad_rows + 1, dtype=pl.Int64),
                "key": event_id.gather(bad_rows),
                "column": pl.Series(columns, dtype=pl.Utf8),
                "kind": pl.Series(np.array(EVENT_DEFECT_KINDS, dtype=object)[kinds], dtype=pl.Utf8),
                "value": pl.Series(values.tolist(), dtype=pl.Utf8),
            }
        )
        return df, bad


def _with_null(keys: np.ndarray) -> pl.Series:
    return pl.Series([None, *keys.tolist()], dtype=pl.Utf8)


def plus_900_years(us: np.ndarray) -> np.ndarray:
    """The same instants with a typo in the year (2026 → 2926); microseconds in and out."""
    t = np.asarray(us, dtype=np.int64).astype("datetime64[us]")
    year = t.astype("datetime64[Y]")
    typo = (year + np.timedelta64(900, "Y")).astype("datetime64[us]") + (t - year)
    return typo.astype(np.int64)


def format_micros(us: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DD HH:MM:SS.ffffff``, as the JSONL events write occurred_at."""
    s = pl.Series(np.asarray(us, dtype=np.int64)).cast(pl.Datetime("us"))
    return s.dt.strftime("%Y-%m-%d %H:%M:%S%.6f").to_numpy().astype(object)
