"""Dirty data: seeded defects (each recorded in ground truth) and duplicate records.

Defects are injected into a table's *string* form, after it is complete, one
defect per row, into rows no other row needs for its own validity (for example
never into a won deal or a converted lead). Which kinds land where:

=========================  =================================================================
table                      kinds (column)
=========================  =================================================================
accounts                   type_error (employee_count)
contacts                   invalid_email (email)
leads                      invalid_email (email), future_timestamp (created_at, open leads),
                           missing_required (status), unparseable_row
opportunities              unknown_value (stage), negative_value (amount), missing_required
                           (stage), type_error (amount), end_before_start (closed_at)
opportunity_stage_history  unknown_value (to_stage), unparseable_row
activities                 missing_required (activity_type), type_error (occurred_at, two
                           ways), future_timestamp (occurred_at), unparseable_row
campaign_members           unknown_value (status), unparseable_row
subscriptions              type_error (seats)
invoices                   negative_value (amount), type_error (issued_at), end_before_start
                           (paid_at), unparseable_row
tickets                    end_before_start (resolved_at), unknown_value (priority),
                           type_error (csat), unparseable_row
events                     missing_required (event_type), future_timestamp (occurred_at),
                           unknown_reference (contact_id)    — see :mod:`.events`
teams, users, campaigns    none (everything else hangs off them)
=========================  =================================================================

Duplicates (not defects): accounts re-entered with a name variant and the same
domain, contacts re-entered with a name and/or e-mail variant at the same
account; new keys, later ``created_at``, recorded as pairs.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np
import polars as pl

from crmlens.synthetic import vocab

NUMBER_WORDS = ("fifty", "twelve", "approx. 200", "1.2k", "several hundred", "ten")
BAD_VALUES = {
    ("opportunities", "stage"): ("Closed Wonn", "Negotiation/Review", "Stage 3", "Prospect"),
    ("opportunity_stage_history", "to_stage"): (
        "Closed Wonn",
        "Negotiation/Review",
        "Id. Decision Makers",
    ),
    ("campaign_members", "status"): ("bounced", "Responded - Maybe", "queued"),
    ("tickets", "priority"): ("P1", "critical", "Sev-2"),
}


@dataclass(frozen=True)
class Kind:
    """One way a table's rows can be broken."""

    kind: str
    column: str | None
    # Column that must be non-null for the defect to make sense (besides `column`).
    needs: str | None = None
    # Columns that must be null, so that the defect breaks no second rule.
    needs_null: tuple[str, ...] = ()


DEFECT_KINDS: dict[str, tuple[Kind, ...]] = {
    "accounts": (Kind("type_error", "employee_count", "employee_count"),),
    "contacts": (Kind("invalid_email", "email", "email"),),
    "leads": (
        Kind("invalid_email", "email", "email"),
        Kind("future_timestamp", "created_at", needs_null=("converted_at", "disqualified_at")),
        Kind("missing_required", "status"),
        Kind("unparseable_row", None),
    ),
    "opportunities": (
        Kind("unknown_value", "stage"),
        Kind("negative_value", "amount", "amount"),
        # Not account_id: a deal without an account is kept (an unknown account).
        Kind("missing_required", "stage"),
        Kind("type_error", "amount", "amount"),
        Kind("end_before_start", "closed_at", "closed_at"),
    ),
    "opportunity_stage_history": (
        Kind("unknown_value", "to_stage"),
        Kind("unparseable_row", None),
    ),
    "activities": (
        Kind("missing_required", "activity_type"),
        # Activity types are an open list: an unknown one is kept (as `other`), no defect.
        Kind("type_error", "occurred_at"),
        Kind("future_timestamp", "occurred_at"),
        Kind("type_error", "occurred_at"),
        Kind("unparseable_row", None),
    ),
    "campaign_members": (Kind("unknown_value", "status"), Kind("unparseable_row", None)),
    "subscriptions": (Kind("type_error", "seats", "seats"),),
    "invoices": (
        Kind("negative_value", "amount", "amount"),
        Kind("type_error", "issued_at"),
        Kind("end_before_start", "paid_at", "paid_at"),
        Kind("unparseable_row", None),
    ),
    "tickets": (
        Kind("end_before_start", "resolved_at", "resolved_at"),
        Kind("unknown_value", "priority", "priority"),
        Kind("type_error", "csat", "csat"),
        Kind("unparseable_row", None),
    ),
}
# For end_before_start: the start column the end is moved before.
END_START = {"closed_at": "created_at", "resolved_at": "created_at", "paid_at": "issued_at"}


def to_strings(df: pl.DataFrame) -> pl.DataFrame:
    """The CSV text of every cell: timestamps, dates, booleans, numbers as the spec says."""
    out = []
    for name, dtype in df.schema.items():
        col = pl.col(name)
        if dtype == pl.Datetime or isinstance(dtype, pl.Datetime):
            out.append(col.dt.strftime("%Y-%m-%d %H:%M:%S"))
        elif dtype == pl.Date:
            out.append(col.dt.strftime("%Y-%m-%d"))
        elif dtype == pl.Utf8:
            out.append(col)
        else:
            out.append(col.cast(pl.Utf8))
    return df.select(out)


def inject(
    table: str,
    strings: pl.DataFrame,
    key_cols: tuple[str, ...],
    eligible: np.ndarray,
    rate: float,
    rng: np.random.Generator,
) -> tuple[pl.DataFrame, list[dict], dict[int, str]]:
    """Break ``round(rate · rows)`` eligible rows, one defect each.

    Args:
        table: the canonical table (its defect kinds).
        strings: the table as text.
        key_cols: its key columns.
        eligible: rows a defect may go into.
        rate: the share of rows to break.
        rng: the stream to draw from.

    Returns:
        The modified frame, the ground-truth records (row = CSV line number) and the
        rows to make unparseable (index → "extra" or "short"), which are applied to the
        written text.
    """
    kinds = DEFECT_KINDS.get(table, ())
    n = strings.height
    n_bad = round(n * rate)
    if not kinds or n_bad == 0:
        return strings, [], {}
    cand = np.flatnonzero(eligible)
    rows = np.sort(rng.choice(cand, size=min(n_bad, len(cand)), replace=False))
    # Only the chosen rows are read as Python values; the columns are patched by scatter.
    chosen = strings[rows.tolist()].to_dicts()
    records, unparseable = [], {}
    patches: dict[str, tuple[list[int], list[str | None]]] = {}
    for j, (r, row) in enumerate(zip(rows.tolist(), chosen, strict=True)):
        usable = [
            k
            for k in kinds
            if (k.needs is None or row[k.needs] is not None)
            and all(row[c] is None for c in k.needs_null)
        ]
        if not usable:
            continue
        k = usable[(j + int(rng.integers(0, len(usable)))) % len(usable)]
        key = "|".join(str(row[c]) for c in key_cols)
        if k.kind == "unparseable_row":
            unparseable[r] = "extra" if rng.random() < 0.5 else "short"
            value = None
        else:
            value = _bad_value(table, k, row, rng)
            idx, vals = patches.setdefault(k.column, ([], []))
            idx.append(r)
            vals.append(value)
        records.append(
            {
                "table": table,
                "file": f"crm/{table}.csv",
                "row": r + 2,
                "key": key,
                "column": k.column,
                "kind": k.kind,
                "value": value,
            }
        )
    for col, (idx, vals) in patches.items():
        strings = strings.with_columns(strings[col].scatter(idx, pl.Series(vals, dtype=pl.Utf8)))
    return strings, records, unparseable


def _bad_value(table: str, k: Kind, row: dict, rng: np.random.Generator) -> str | None:
    """The broken text of ``row[k.column]`` for defect kind ``k``."""
    cur = row[k.column]
    if k.kind == "missing_required":
        return None
    if k.kind == "invalid_email":
        local, _, domain = cur.partition("@")
        style = int(rng.integers(0, 3))
        if style == 0:
            return f"{local}@{domain.split('.')[0]}"
        if style == 1:
            return f"{local}.{domain}"
        spaced = local.replace(".", " ", 1) if "." in local else f"{local[0]} {local[1:]}"
        return f"{spaced}@{domain}"
    if k.kind == "unknown_value":
        choices = BAD_VALUES[(table, k.column)]
        return choices[int(rng.integers(0, len(choices)))]
    if k.kind == "negative_value":
        return f"-{cur}"
    if k.kind == "future_timestamp":
        return f"{int(cur[:4]) + 900}{cur[4:]}"
    if k.kind == "type_error":
        if k.column in ("employee_count", "seats", "csat"):
            words = {"csat": ("five", "good", "4/5"), "seats": ("ten", "12 seats", "unlimited")}
            choices = words.get(k.column, NUMBER_WORDS)
            return choices[int(rng.integers(0, len(choices)))]
        if k.column == "amount":
            return f"{float(cur):,.2f} EUR"
        # An impossible date, day-first or ISO: no lenient parser can take it.
        year = cur[:4]
        return ("31/02/" + year, f"{year}-02-30 {cur[11:]}", f"30/02/{year} {cur[11:16]}")[
            int(rng.integers(0, 3))
        ]
    if k.kind == "end_before_start":
        start = np.datetime64(row[END_START[k.column]].replace(" ", "T"))
        back = np.timedelta64(int(rng.integers(3_600, 20 * 86_400)), "s")
        return str(start - back).replace("T", " ")
    raise ValueError(f"no bad value for {table}.{k.column} ({k.kind})")


def csv_bytes(strings: pl.DataFrame, unparseable: dict[int, str]) -> bytes:
    """The CSV text, with the chosen rows given one field too many or too few.

    Args:
        strings: the table as text.
        unparseable: row index → "extra" or "short".

    Returns:
        The file's bytes.
    """
    buf = io.BytesIO()
    strings.write_csv(buf, null_value="", quote_style="necessary", line_terminator="\n")
    data = buf.getvalue()
    if not unparseable:
        return data
    # Patch only the chosen lines (fields never contain newlines, so lines are rows).
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n"))
    starts = np.r_[0, ends[:-1] + 1]
    parts, pos = [], 0
    for r, how in sorted(unparseable.items()):
        a, b = int(starts[r + 1]), int(ends[r + 1])
        line = data[a:b].decode("utf-8")
        if how == "extra":
            line += ',"x"'
        else:
            fields = next(csv.reader([line]))
            out = io.StringIO()
            csv.writer(out, lineterminator="").writerow(fields[:-1])
            line = out.getvalue()
        parts += [data[pos:a], line.encode("utf-8")]
        pos = b
    parts.append(data[pos:])
    return b"".join(parts)


# --- duplicates -----------------------------------------------------------------------


def _name_variant(name: str, rng: np.random.Generator) -> tuple[str, str]:
    words = name.split(" ")
    suffix = words[-1]
    style = int(rng.integers(0, 3))
    if style == 0 and suffix in vocab.SUFFIX_VARIANTS:
        return " ".join([*words[:-1], vocab.SUFFIX_VARIANTS[suffix][0]]), "name_suffix"
    if style == 1 and suffix in vocab.SUFFIX_VARIANTS:
        return " ".join([*words[:-1], vocab.SUFFIX_VARIANTS[suffix][1]]), "punctuation"
    return name.lower(), "lowercase"


def _copies(
    df: pl.DataFrame,
    id_column: str,
    prefix: str,
    eligible: np.ndarray,
    rate: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, list[str]]:
    """Which rows are re-entered, and the keys of their copies (numbered after the last row).

    Args:
        df: the table.
        id_column: its key.
        prefix: the keys' letter.
        eligible: rows that may be copied.
        rate: the share of rows to copy.
        rng: the stream to draw from (one draw, none when nothing is copied).

    Returns:
        The copied rows' positions, in order, and one new key each; empty when none.
    """
    n_dup = round(df.height * rate)
    cand = np.flatnonzero(eligible)
    if n_dup == 0 or len(cand) == 0:
        return cand[:0], []
    src = np.sort(rng.choice(cand, size=min(n_dup, len(cand)), replace=False))
    width = len(df[id_column][0]) - 1
    return src, [f"{prefix}{df.height + 1 + i:0{width}d}" for i in range(len(src))]


def duplicate_accounts(
    df: pl.DataFrame, eligible: np.ndarray, rate: float, rng: np.random.Generator, end_s: int
) -> tuple[pl.DataFrame, list[dict]]:
    """Append re-entered copies of some accounts (name variant, same domain, new key).

    Args:
        df: the accounts.
        eligible: accounts that may be copied.
        rate: the share of accounts to copy.
        rng: the stream to draw from.
        end_s: the end of the window, in epoch seconds (copies are created before it).

    Returns:
        The accounts with the copies appended, and a record per copy.
    """
    src, new_ids = _copies(df, "account_id", "A", eligible, rate, rng)
    if not new_ids:
        return df, []
    names, variants = zip(*(_name_variant(df["name"][int(i)], rng) for i in src), strict=True)
    dup = df[src.tolist()]
    created = _later(dup["created_at"], rng, end_s)
    dup = dup.with_columns(
        account_id=pl.Series(new_ids),
        name=pl.Series(names),
        account_type=pl.lit("prospect"),
        parent_account_id=pl.lit(None, dtype=pl.Utf8),
        created_at=created,
        updated_at=created,
        nps_score=pl.lit(None, dtype=pl.Int64),
    )
    records = [
        {"table": "accounts", "duplicate_id": d, "original_id": o, "variant": v}
        for d, o, v in zip(new_ids, df["account_id"].gather(src).to_list(), variants, strict=True)
    ]
    return pl.concat([df, dup]), records


def duplicate_contacts(
    df: pl.DataFrame, eligible: np.ndarray, rate: float, rng: np.random.Generator, end_s: int
) -> tuple[pl.DataFrame, list[dict]]:
    """Append re-entered copies of some contacts (name / e-mail variant, same account).

    Args:
        df: the contacts.
        eligible: contacts that may be copied.
        rate: the share of contacts to copy.
        rng: the stream to draw from.
        end_s: the end of the window, in epoch seconds (copies are created before it).

    Returns:
        The contacts with the copies appended, and a record per copy.
    """
    src, new_ids = _copies(df, "contact_id", "C", eligible, rate, rng)
    if not new_ids:
        return df, []
    firsts, emails, variants = [], [], []
    used = set(df["email"].drop_nulls().to_list())
    for i in src.tolist():
        first, last, email = df["first_name"][i], df["last_name"][i], df["email"][i]
        domain = email.split("@", 1)[1]
        initial_local = (first[0] + last).lower().replace(" ", "").replace("'", "")
        style = int(rng.integers(0, 3))
        if style == 0:
            f, e, v = f"{first[0]}.", f"{initial_local}@{domain}", "initial_name_and_email"
        elif style == 1:
            f, e, v = first, f"{initial_local}@{domain}", "email_alias"
        else:
            f, e, v = first.upper(), email.upper(), "case"
        if v != "case" and e.lower() in used:
            e = e.replace("@", f"{i % 97}@")
        used.add(e.lower())
        firsts.append(f)
        emails.append(e)
        variants.append(v)
    dup = df[src.tolist()]
    created = _later(dup["created_at"], rng, end_s)
    dup = dup.with_columns(
        contact_id=pl.Series(new_ids),
        first_name=pl.Series(firsts),
        email=pl.Series(emails),
        lifecycle_stage=pl.lit("lead"),
        lead_source=pl.lit("web"),
        created_at=created,
        updated_at=created,
    )
    records = [
        {"table": "contacts", "duplicate_id": d, "original_id": o, "variant": v}
        for d, o, v in zip(new_ids, df["contact_id"].gather(src).to_list(), variants, strict=True)
    ]
    return pl.concat([df, dup]), records


def _later(created: pl.Series, rng: np.random.Generator, end_s: int) -> pl.Series:
    """A creation time after the original's and before the end of history."""
    orig = created.dt.epoch("s").to_numpy()
    span = np.maximum(end_s - orig, 2)
    new = orig + np.minimum(rng.integers(3_600, 200 * 86_400, len(orig)), span - 1)
    return pl.from_epoch(pl.Series(new), time_unit="s")
