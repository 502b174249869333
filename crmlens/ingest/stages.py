"""A CRM's opportunity stages: declared by the spec, canonical, or inferred from the data.

Every stage label the deals and their history hold gets a meaning (open, won, lost), a
position in the sales process and a default probability of winning:

* a stage the spec declares (``vocabularies.opportunity_stages``): as declared, in the
  declared order; an open stage declared without a probability gets the observed one;
* a canonical stage ("proposal", or "Closed Won"): its canonical meaning and probability;
* any other (a spec that declares none, on a CRM with stages of its own): inferred —
  meaning from its deals (closed and won → won, closed and not won → lost, else open;
  when the CRM does not say which closed deals were won, from the label's words), order
  from the stage history (the average step at which deals first entered it) or, without
  history, from the age of the open deals in it, probability from the observed win rate
  of the deals that reached it (without history, of every closed deal).

Closed stages come after the open ones: won, then lost.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import duckdb
import polars as pl

from crmlens import sql
from crmlens.contracts import (
    CANONICAL_STAGE_MEANING,
    CANONICAL_STAGE_PROBABILITY,
    OPPORTUNITY_STAGES,
    normalized,
)
from crmlens.sources.vocabularies import StageLabel
from crmlens.warehouse import table_exists

WON_WORDS = re.compile(r"\b(won|win|wins|signed|booked|success\w*|closed[ _-]?won)\b")
LOST_WORDS = re.compile(r"\b(lost|lose|loss|dead|declined|rejected|cancel\w*|closed[ _-]?lost)\b")
# Deals that reached a stage count towards its win rate as if they were this many deals
# at the overall rate too: a stage few deals reached keeps close to the overall rate.
PRIOR_DEALS = 5
MEANING_ORDER = {"open": 0, "won": 1, "lost": 2}


def canonical_rows() -> list[dict]:
    """The canonical stages: open 1-5, closed_won 6, closed_lost 7."""
    return [_canonical(s, i) for i, s in enumerate(OPPORTUNITY_STAGES, start=1)]


def _canonical(label: str, position: int | None = None) -> dict:
    value = normalized(label) if label not in OPPORTUNITY_STAGES else label
    return {
        "label": label,
        "value": value,
        "meaning": CANONICAL_STAGE_MEANING[value],
        "position": position,
        "probability": CANONICAL_STAGE_PROBABILITY[value],
        "origin": "canonical",
    }


def is_canonical(label: str) -> bool:
    """Whether a stage label is a canonical stage, in any case or spacing."""
    return label in OPPORTUNITY_STAGES or normalized(label) in OPPORTUNITY_STAGES


def resolve(
    con: duckdb.DuckDBPyConnection, declared: Sequence[StageLabel]
) -> tuple[list[dict], str | None]:
    """The stage vocabulary of the deals in raw.

    Args:
        con: a connection to the warehouse (reads raw.opportunities and its history).
        declared: the spec's stages, in order (may be empty).

    Returns:
        The rows of ``raw.vocabulary`` (without ``field``), by position, and a sentence
        naming the inferred stages (None when none was inferred).
    """
    deals = _read(con, "opportunities", "vocabulary_deals")
    history = _read(con, "opportunity_stage_history", "vocabulary_history")
    seen = pl.concat([deals["stage"], history["to_stage"], history["from_stage"]])
    seen_labels = seen.drop_nulls().unique(maintain_order=True).sort().to_list()
    rows = {
        s.label: {
            "label": s.label,
            "value": normalized(s.label) if is_canonical(s.label) else None,
            "meaning": s.meaning,
            "probability": s.probability,
            "origin": "spec",
        }
        for s in declared
    }
    for label in seen_labels:
        if label in rows:
            continue
        if is_canonical(label):
            rows[label] = _canonical(label)
        else:
            rows[label] = _inferred(label, deals)
    inferred = [r for r in rows.values() if r["origin"] == "inferred"]
    if not declared and not inferred:
        rows = {r["label"]: r for r in canonical_rows()} | rows
    ordered = _order(list(rows.values()), [s.label for s in declared], deals, history)
    _probabilities(ordered, deals, history)
    warning = None
    if inferred:
        said = ", ".join(_say(r) for r in ordered if r["origin"] == "inferred")
        warning = (
            f"stages inferred from the data (the spec declares none, and these are not "
            f"canonical): {said}; declare them under `vocabularies: opportunity_stages:` "
            f"in the source spec to say otherwise"
        )
    return ordered, warning


def _read(con: duckdb.DuckDBPyConnection, table: str, query: str) -> pl.DataFrame:
    empty = {
        "opportunities": {
            "opportunity_id": pl.String,
            "stage": pl.String,
            "closed": pl.Boolean,
            "is_won": pl.Boolean,
            "age_days": pl.Float64,
        },
        "opportunity_stage_history": {
            "opportunity_id": pl.String,
            "changed_at": pl.Datetime("us"),
            "from_stage": pl.String,
            "to_stage": pl.String,
        },
    }[table]
    if not table_exists(con, "raw", table):
        return pl.DataFrame(schema=empty)
    frame = con.sql(sql.load("crmlens.ingest", query)).pl()
    return frame.cast({k: v for k, v in empty.items() if k in frame.columns})


def _inferred(label: str, deals: pl.DataFrame) -> dict:
    """A stage of the CRM's own: its meaning from the deals in it (or its words)."""
    in_stage = deals.filter(pl.col("stage") == label)
    n = in_stage.height
    closed = int(in_stage["closed"].sum() or 0)
    known = in_stage["is_won"].drop_nulls()
    words = label.lower()
    if n and 2 * closed > n:
        won = int(known.sum() or 0)
        if known.len() and 2 * won != known.len():
            meaning = "won" if 2 * won > known.len() else "lost"
        else:
            meaning = "won" if WON_WORDS.search(words) and not LOST_WORDS.search(words) else "lost"
    elif not n and WON_WORDS.search(words):
        meaning = "won"
    elif not n and LOST_WORDS.search(words):
        meaning = "lost"
    else:
        meaning = "open"
    return {
        "label": label,
        "value": None,
        "meaning": meaning,
        "probability": None,
        "origin": "inferred",
    }


def _order(
    rows: list[dict], declared: list[str], deals: pl.DataFrame, history: pl.DataFrame
) -> list[dict]:
    """The rows by position: open stages in process order, then won, then lost."""
    evidence = _step_of_entry(history) if history.height else _age_in_stage(deals)
    canonical_rank = {s: i for i, s in enumerate(OPPORTUNITY_STAGES)}
    uses_evidence = any(r["origin"] == "inferred" and r["meaning"] == "open" for r in rows)

    def key(row: dict) -> tuple:
        label = row["label"]
        rank = canonical_rank.get(row["value"] or "", len(canonical_rank))
        if label in declared:
            where: tuple = (0, declared.index(label))
        elif uses_evidence and row["meaning"] == "open":
            where = (1, evidence.get(label, float("inf")), rank)
        else:
            where = (1, rank)
        return (MEANING_ORDER[row["meaning"]], *where, label)

    ordered = sorted(rows, key=key)
    for position, row in enumerate(ordered, start=1):
        row["position"] = position
    return ordered


def _step_of_entry(history: pl.DataFrame) -> dict[str, float]:
    """Per stage, the average step (1, 2, …) at which deals first entered it."""
    firsts = (
        history.sort("opportunity_id", "changed_at")
        .unique(["opportunity_id", "to_stage"], keep="first", maintain_order=True)
        .with_columns(step=pl.int_range(1, pl.len() + 1).over("opportunity_id"))
    )
    means = firsts.group_by("to_stage").agg(pl.col("step").mean())
    return dict(means.iter_rows())


def _age_in_stage(deals: pl.DataFrame) -> dict[str, float]:
    """Per stage, the median age of the open deals in it: later stages hold older deals."""
    open_deals = deals.filter(~pl.col("closed"))
    medians = open_deals.group_by("stage").agg(pl.col("age_days").median())
    return dict(medians.iter_rows())


def _probabilities(rows: list[dict], deals: pl.DataFrame, history: pl.DataFrame) -> None:
    """Fill the probabilities not given: won 1, lost 0, open the observed win rate."""
    meaning = {r["label"]: r["meaning"] for r in rows}
    outcome = deals.with_columns(
        won=pl.col("stage").replace_strict(meaning, default=None).eq("won"),
        settled=pl.col("stage").replace_strict(meaning, default="open").ne("open"),
    )
    settled = outcome.filter(pl.col("settled"))
    overall = float(settled["won"].mean()) if settled.height else None
    open_rows = [r for r in rows if r["meaning"] == "open"]
    for i, row in enumerate(open_rows, start=1):
        if row["probability"] is not None:
            continue
        if overall is None:
            row["probability"] = round(i / (len(open_rows) + 1), 4)
            continue
        reached = settled
        if history.height:
            ids = history.filter(pl.col("to_stage") == row["label"])["opportunity_id"]
            reached = settled.filter(pl.col("opportunity_id").is_in(ids.implode()))
        won = int(reached["won"].sum() or 0)
        rate = (won + PRIOR_DEALS * overall) / (reached.height + PRIOR_DEALS)
        row["probability"] = round(rate, 4)
    for row in rows:
        if row["probability"] is None:
            row["probability"] = 1.0 if row["meaning"] == "won" else 0.0


def _say(row: dict) -> str:
    if row["meaning"] == "open":
        return f"{row['label']} (open, {row['position']}, {row['probability']:.0%})"
    return f"{row['label']} ({row['meaning']})"
