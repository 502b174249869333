"""The CRM's own vocabularies: which labels a load accepts, and ``raw.vocabulary``.

Raw keeps the CRM's label in the canonical column (what the CRM said). Which labels are
accepted depends on the list (:data:`crmlens.contracts.VOCABULARIES`):

* a closed list (stages, lead statuses) accepts a label the spec declares or a
  canonical value (in any case or spacing: "Closed Won" is ``closed_won``); anything
  else is quarantined as ``unknown_value``, with how to declare it;
* an open list (activity and event types, channels, tiers, account types) accepts any
  value: one outside the canonical list means ``other``.

When the spec declares no stages and most of the stage values are not canonical, the
CRM has stages of its own: every label is accepted, and its meaning, order and
probability are inferred from the data (:mod:`.stages`).

After every load, the vocabularies of the loaded table are resolved and written to
``raw.vocabulary`` — one row per (field, label): its canonical value, meaning, position,
probability and origin (``spec``, ``canonical`` or ``inferred``) — for dbt staging to
map labels onto canonical values while keeping the CRM's own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import duckdb
import polars as pl

from crmlens import sql
from crmlens.contracts import OTHER, TableContract, Vocabulary, normalized, vocabularies_of
from crmlens.ingest import stages
from crmlens.ingest.failures import no_failures
from crmlens.sources.spec import SourceSpec
from crmlens.warehouse import quote_ident, table_columns, table_exists

logger = logging.getLogger(__name__)

VOCABULARY_SCHEMA = {
    "field": pl.String,
    "label": pl.String,
    "value": pl.String,
    "meaning": pl.String,
    "position": pl.Int32,
    "probability": pl.Float64,
    "origin": pl.String,
}
# Below this share of canonical stage values, a spec without stages has stages of its own.
CANONICAL_SHARE = 0.5


@dataclass
class Accepting:
    """What a closed list accepts in one load."""

    vocabulary: Vocabulary
    declared: set[str]
    # Stages of a spec that declares none: the canonical and all stage values held in raw,
    # to decide (with each batch) whether the CRM's stages are its own.
    infer_if_uncanonical: bool = False
    raw_canonical: int = 0
    raw_total: int = 0
    allowed: list[str] = field(default_factory=list)

    def canonical(self, label: str) -> bool:
        """Whether ``label`` is a canonical value, in any case or spacing."""
        return label in self.vocabulary.values or normalized(label) in self.vocabulary.values

    def accepts(self, label: str) -> bool:
        """Whether a closed list takes ``label`` (declared, or canonical)."""
        return label in self.declared or self.canonical(label)


def ensure_vocabulary(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Create ``raw.vocabulary``; give each vocabulary of ``table`` its canonical rows if
    it has none yet (a warehouse written by hand, or before its first load).

    Args:
        con: a read-write connection to the warehouse.
        table: the canonical table whose vocabularies are ensured.
    """
    con.execute(sql.load("crmlens.ingest", "vocabulary_table"))
    for vocabulary in vocabularies_of(table):
        if vocabulary.table != table:
            continue
        (present,) = con.execute(
            "select count(*) from raw.vocabulary where field = ?", [vocabulary.name]
        ).fetchall()[0]
        if present == 0:
            _write(con, vocabulary.name, _canonical_rows(vocabulary))


def accepting(
    con: duckdb.DuckDBPyConnection, spec: SourceSpec, contract: TableContract
) -> dict[str, Accepting]:
    """Per column of a closed list in ``contract``'s table, what this load accepts.

    Args:
        con: a connection to the warehouse (reads raw).
        spec: the source spec (its declared vocabularies).
        contract: the table being loaded.

    Returns:
        Column -> what it accepts.
    """
    out = {}
    for vocabulary in vocabularies_of(contract.name):
        if not vocabulary.closed:
            continue
        declared = spec.vocabularies.mapping(vocabulary.name)
        base = Accepting(vocabulary, set(declared))
        base.allowed = list(vocabulary.values) + [k for k in declared if k not in vocabulary.values]
        if vocabulary.name == "opportunity_stages" and not declared:
            base.infer_if_uncanonical = True
            counts = _label_counts(con, vocabulary)
            base.raw_total = int(counts["n"].sum())
            base.raw_canonical = int(
                counts.filter(pl.col("label").map_elements(base.canonical, pl.Boolean))["n"].sum()
            )
        for column in vocabulary.tables[contract.name]:
            out[column] = base
    return out


def closed_list_failures(typed: pl.DataFrame, accept: dict[str, Accepting]) -> pl.DataFrame:
    """Labels of a closed list that are neither declared nor canonical: ``unknown_value``.

    Args:
        typed: the typed batch, with ``_rid``.
        accept: what each closed column accepts (:func:`accepting`).

    Returns:
        One failure per (row, column) with a reason saying how to declare the label.
    """
    if typed.is_empty() or not accept:
        return no_failures()
    if _infers(typed, accept):
        return no_failures()
    parts = [no_failures()]
    for column, rule in accept.items():
        if column not in typed.columns:
            continue
        labels = typed[column].drop_nulls().unique()
        bad = [label for label in labels.to_list() if not rule.accepts(label)]
        if not bad:
            continue
        name = rule.vocabulary.name
        reason = pl.format(
            f"{column}: unknown value '{{}}' (allowed: {', '.join(rule.allowed)}); a label "
            f"of the CRM's own is declared under `vocabularies: {name}:` in the source spec",
            pl.col(column),
        )
        parts.append(
            typed.filter(pl.col(column).is_in(bad)).select(
                "_rid",
                column=pl.lit(column),
                reason_code=pl.lit("unknown_value"),
                reason=reason,
                value=pl.col(column),
            )
        )
    return pl.concat(parts, how="vertical_relaxed")


def _infers(typed: pl.DataFrame, accept: dict[str, Accepting]) -> bool:
    """Whether the stages are the CRM's own (undeclared, mostly not canonical): any goes."""
    rules = [r for r in accept.values() if r.infer_if_uncanonical]
    if not rules:
        return False
    rule = rules[0]
    columns = [c for c, r in accept.items() if r is rule and c in typed.columns]
    values = pl.concat([typed[c].drop_nulls() for c in columns]) if columns else pl.Series([])
    counts = values.value_counts()
    total = rule.raw_total + values.len()
    if total == 0:
        return False
    canonical = rule.raw_canonical + sum(
        n for label, n in counts.iter_rows() if rule.canonical(label)
    )
    return canonical < CANONICAL_SHARE * total


def record(con: duckdb.DuckDBPyConnection, spec: SourceSpec, table: str) -> list[str]:
    """Resolve the vocabularies ``table`` holds and write them to ``raw.vocabulary``.

    Args:
        con: the connection of the load's transaction (reads raw, writes raw.vocabulary).
        spec: the source spec.
        table: the canonical table just loaded.

    Returns:
        What a user should know (stages inferred from the data), once per load; logged too.
    """
    ensure_vocabulary(con, table)
    warnings = []
    for vocabulary in vocabularies_of(table):
        if vocabulary.name == "opportunity_stages":
            rows, warning = stages.resolve(con, spec.vocabularies.stages)
            # Said once: by the deals' load (or the history's, for a spec without deals).
            if warning and (table == "opportunities" or not spec.provides("opportunities")):
                logger.warning("%s: %s", table, warning)
                warnings.append(warning)
        else:
            rows = _resolve(con, vocabulary, spec.vocabularies.mapping(vocabulary.name))
        _write(con, vocabulary.name, rows)
    return warnings


def _resolve(
    con: duckdb.DuckDBPyConnection, vocabulary: Vocabulary, declared: dict[str, str]
) -> list[dict]:
    """The rows of a vocabulary other than stages: declared, canonical, then seen labels."""
    rows = [_row(label, value, "spec") for label, value in declared.items()]
    rows += [_row(v, v, "canonical") for v in vocabulary.values if v not in declared]
    known = {r["label"] for r in rows}
    for label in _label_counts(con, vocabulary)["label"].to_list():
        if label in known:
            continue
        value = normalized(label)
        if value in vocabulary.values:
            rows.append(_row(label, value, "canonical"))
        elif not vocabulary.closed:
            rows.append(_row(label, OTHER, "inferred"))
    for position, row in enumerate(rows, start=1):
        row["position"] = position
    return rows


def _row(label: str, value: str, origin: str) -> dict:
    return {"label": label, "value": value, "origin": origin}


def _canonical_rows(vocabulary: Vocabulary) -> list[dict]:
    if vocabulary.name == "opportunity_stages":
        return stages.canonical_rows()
    return [{**_row(v, v, "canonical"), "position": i} for i, v in enumerate(vocabulary.values, 1)]


def _label_counts(con: duckdb.DuckDBPyConnection, vocabulary: Vocabulary) -> pl.DataFrame:
    """Every label the vocabulary's raw columns hold, with its number of rows."""
    selects = []
    for table, columns in vocabulary.tables.items():
        if not table_exists(con, "raw", table):
            continue
        present = table_columns(con, "raw", table)
        for column in columns:
            if column in present:
                selects.append(
                    f"select {quote_ident(column)} as label from raw.{quote_ident(table)}"
                )
    if not selects:
        return pl.DataFrame(schema={"label": pl.String, "n": pl.Int64})
    query = (
        f"select label, count(*) as n from ({' union all '.join(selects)}) "
        "where label is not null group by label order by n desc, label"
    )
    return con.sql(query).pl().cast({"n": pl.Int64})


def _write(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict]) -> None:
    """Replace the rows of vocabulary ``name`` in ``raw.vocabulary``."""
    frame = pl.DataFrame(
        [{**dict.fromkeys(VOCABULARY_SCHEMA), **r, "field": name} for r in rows],
        schema=VOCABULARY_SCHEMA,
    )
    con.execute("delete from raw.vocabulary where field = ?", [name])
    con.register("_vocabulary_rows", frame)
    try:
        con.execute("insert into raw.vocabulary by name select * from _vocabulary_rows")
    finally:
        con.unregister("_vocabulary_rows")
