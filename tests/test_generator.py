"""Tests of the synthetic CRM generator (crmlens.synthetic).

Most tests share one ``tiny`` generation; the rate and signal tests share one
``small`` generation. Every generation is seeded; no test asserts on time.
"""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from crmlens.contracts import CONTRACTS, validation_clock
from crmlens.synthetic import SCALES, GenerateResult, generate
from crmlens.synthetic.generator import CRM_TABLES
from crmlens.synthetic.tables import CUSTOM_COLUMNS

END = date(2026, 10, 31)
END_EXCL = datetime(2026, 11, 1)
DEFECT_KINDS = {
    "invalid_email",
    "unknown_value",
    "negative_value",
    "future_timestamp",
    "missing_required",
    "type_error",
    "end_before_start",
    "unparseable_row",
    "unknown_reference",
}
# Plan dates, which may lie after the end of history by design.
PLAN_COLUMNS = {"expected_close_date", "renewal_date", "due_at"}


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> GenerateResult:
    return generate(tmp_path_factory.mktemp("tiny"), scale="tiny", seed=42, end_date=END)


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> GenerateResult:
    return generate(tmp_path_factory.mktemp("small"), scale="small", seed=42, end_date=END)


def ground_truth(result: GenerateResult) -> dict:
    return json.loads(result.ground_truth_path.read_text(encoding="utf-8"))


def read_table(result: GenerateResult, table: str) -> pl.DataFrame:
    """A CSV as strings, with seeded defect rows dropped (by line number)."""
    df = pl.read_csv(
        result.out_dir / "crm" / f"{table}.csv",
        infer_schema=False,
        truncate_ragged_lines=True,
    )
    bad = {d["row"] - 2 for d in ground_truth(result)["defects"] if d["table"] == table}
    return df.with_row_index("_i").filter(~pl.col("_i").is_in(list(bad))).drop("_i")


def typed(table: str, df: pl.DataFrame) -> pl.DataFrame:
    """Cast the CSV strings to the contract's types (custom attributes stay strings)."""
    exprs = []
    for name, dtype in CONTRACTS[table].columns.items():
        col = pl.col(name)
        if dtype == pl.Datetime:
            exprs.append(col.str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us"))
        elif dtype == pl.Date:
            exprs.append(col.str.to_date("%Y-%m-%d"))
        elif dtype == pl.Boolean:
            exprs.append(col.replace_strict({"true": True, "false": False}, default=None))
        elif dtype != pl.Utf8:
            exprs.append(col.cast(dtype))
    return df.with_columns(exprs)


def events(result: GenerateResult) -> pl.DataFrame:
    return pl.read_parquet(result.out_dir / "events" / "*.parquet")


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- determinism --------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(tiny: GenerateResult, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", scale="tiny", seed=42, end_date=END)
    first, second = digest(tiny.out_dir), digest(again.out_dir)
    assert len(first) > 300
    assert first == second


def test_other_seed_gives_other_bytes(tiny: GenerateResult, tmp_path: Path) -> None:
    other = digest(generate(tmp_path / "other", scale="tiny", seed=7, end_date=END).out_dir)
    first = digest(tiny.out_dir)
    for table in CRM_TABLES:
        if table in ("teams",):
            continue  # team names and regions are structural
        assert first[f"crm/{table}.csv"] != other[f"crm/{table}.csv"], table
    assert first["ground_truth.json"] != other["ground_truth.json"]


# --- layout and schema --------------------------------------------------------------------


def test_layout(tiny: GenerateResult) -> None:
    out = tiny.out_dir
    assert sorted(p.name for p in (out / "crm").iterdir()) == sorted(f"{t}.csv" for t in CRM_TABLES)
    days = sorted(p.name for p in (out / "events").iterdir())
    assert days, "no event files"
    start = END.replace(year=END.year - SCALES["tiny"].years) + timedelta(days=1)
    for name in days:
        assert name.endswith(".parquet")
        assert start <= date.fromisoformat(name.removesuffix(".parquet")) <= END
    assert tiny.ground_truth_path == out / "ground_truth.json"
    gt = ground_truth(tiny)
    assert gt["seed"] == 42 and gt["scale"] == "tiny" and gt["end_date"] == "2026-10-31"
    assert gt["counts"] == tiny.counts


def test_counts_match_files(tiny: GenerateResult) -> None:
    for table in CRM_TABLES:
        lines = (tiny.out_dir / "crm" / f"{table}.csv").read_bytes().count(b"\n")
        assert lines - 1 == tiny.counts[table], table
    assert events(tiny).height == tiny.counts["events"]
    scale = SCALES["tiny"]
    assert 0.9 * scale.events < tiny.counts["events"] < 1.1 * scale.events
    assert tiny.counts["leads"] == scale.leads


def test_every_table_has_the_canonical_columns_in_order(tiny: GenerateResult) -> None:
    for table in CRM_TABLES:
        with (tiny.out_dir / "crm" / f"{table}.csv").open(encoding="utf-8", newline="") as f:
            header = next(csv.reader(f))
        expected = list(CONTRACTS[table].columns) + list(CUSTOM_COLUMNS.get(table, ()))
        assert header == expected, table


def test_event_files_have_the_canonical_columns_and_types(tiny: GenerateResult) -> None:
    first = next(iter(sorted((tiny.out_dir / "events").iterdir())))
    schema = pl.read_parquet_schema(first)
    assert list(schema) == list(CONTRACTS["events"].columns)
    assert schema["occurred_at"] == pl.Datetime("us", None)
    assert all(v == pl.Utf8 for k, v in schema.items() if k != "occurred_at")
    ev = events(tiny)
    sample = ev["properties"].drop_nulls().head(200).to_list()
    assert all(isinstance(json.loads(p), dict) for p in sample)


def test_clean_rows_satisfy_the_contracts(tiny: GenerateResult) -> None:
    with validation_clock(now=END_EXCL, tolerance=timedelta(0)):
        for table in CRM_TABLES:
            df = typed(table, read_table(tiny, table))
            CONTRACTS[table].schema.validate(df, lazy=True)


def test_keys_unique_among_clean_rows(tiny: GenerateResult) -> None:
    for table in CRM_TABLES:
        df = read_table(tiny, table)
        key = list(CONTRACTS[table].key)
        assert df.select(key).is_duplicated().sum() == 0, table
        assert df.select(key).null_count().sum_horizontal().item() == 0, table
    ids = events(tiny)["event_id"]
    assert ids.n_unique() == len(ids)


def test_references_resolve(tiny: GenerateResult) -> None:
    accounts = set(pl.read_csv(tiny.out_dir / "crm/accounts.csv", infer_schema=False)["account_id"])
    contacts = set(pl.read_csv(tiny.out_dir / "crm/contacts.csv", infer_schema=False)["contact_id"])
    users = set(read_table(tiny, "users")["user_id"])
    for table, col, keys in (
        ("contacts", "account_id", accounts),
        ("leads", "contact_id", contacts),
        ("leads", "account_id", accounts),
        ("leads", "owner_user_id", users),
        ("opportunities", "account_id", accounts),
        ("activities", "contact_id", contacts),
        ("activities", "user_id", users),
        ("subscriptions", "account_id", accounts),
        ("tickets", "contact_id", contacts),
    ):
        values = set(read_table(tiny, table)[col].drop_nulls())
        assert values <= keys, (table, col, sorted(values - keys)[:5])
    defects = {d["key"] for d in ground_truth(tiny)["defects"] if d["kind"] == "unknown_reference"}
    ev = events(tiny).filter(~pl.col("event_id").is_in(list(defects)))
    assert set(ev["contact_id"].drop_nulls()) <= contacts


def test_nothing_after_the_end_of_history(tiny: GenerateResult) -> None:
    for table in CRM_TABLES:
        df = typed(table, read_table(tiny, table))
        for name, dtype in CONTRACTS[table].columns.items():
            if dtype == pl.Datetime and name not in PLAN_COLUMNS:
                latest = df[name].max()
                assert latest is None or latest < END_EXCL, (table, name, latest)
    gt = ground_truth(tiny)
    future = {d["key"] for d in gt["defects"] if d["kind"] == "future_timestamp"}
    for path in (tiny.out_dir / "events").iterdir():
        ev = pl.read_parquet(path).filter(~pl.col("event_id").is_in(list(future)))
        day = date.fromisoformat(path.stem)
        assert (ev["occurred_at"].dt.date() == day).all(), path.name
        assert ev["occurred_at"].is_sorted()


# --- ground truth ---------------------------------------------------------------------------


def test_defects_are_well_formed(tiny: GenerateResult) -> None:
    gt = ground_truth(tiny)
    defects = gt["defects"]
    assert {d["kind"] for d in defects} <= DEFECT_KINDS
    assert {d["kind"] for d in defects} == DEFECT_KINDS, "every kind occurs on tiny"
    places = [(d["file"], d["row"]) for d in defects]
    assert len(places) == len(set(places)), "one defect per row"
    keyed = [(d["table"], d["key"]) for d in defects if d["key"] is not None]
    assert len(keyed) == len(set(keyed))
    for table in CRM_TABLES:
        n = sum(1 for d in defects if d["table"] == table)
        assert n <= round(tiny.counts[table] * gt["dirty_rate"]), table
    n_events = sum(1 for d in defects if d["table"] == "events")
    assert 0.5 * 0.01 * tiny.counts["events"] < n_events < 1.5 * 0.01 * tiny.counts["events"]


def test_ground_truth_points_at_the_bad_values(tiny: GenerateResult) -> None:
    gt = ground_truth(tiny)
    lines: dict[str, list[str]] = {}
    for d in (d for d in gt["defects"] if d["table"] != "events"):
        if d["file"] not in lines:
            text = (tiny.out_dir / d["file"]).read_text(encoding="utf-8")
            lines[d["file"]] = text.split("\n")
        header = next(csv.reader([lines[d["file"]][0]]))
        fields = next(csv.reader([lines[d["file"]][d["row"] - 1]]))
        if d["kind"] == "unparseable_row":
            assert len(fields) != len(header), d
            continue
        assert len(fields) == len(header), d
        row = dict(zip(header, fields, strict=True))
        assert row[d["column"]] == (d["value"] or ""), d
        key = "|".join(row[c] for c in CONTRACTS[d["table"]].key)
        assert key == d["key"], d
    by_file: dict[str, pl.DataFrame] = {}
    for d in (d for d in gt["defects"] if d["table"] == "events"):
        if d["file"] not in by_file:
            by_file[d["file"]] = pl.read_parquet(tiny.out_dir / d["file"])
        row = by_file[d["file"]].row(d["row"] - 1, named=True)
        assert row["event_id"] == d["key"]
        value = row[d["column"]]
        if d["column"] == "occurred_at":
            assert value.year > 2900
            value = value.strftime("%Y-%m-%d %H:%M:%S.%f")
        assert value == d["value"], d


def test_duplicates_are_variants_of_their_originals(tiny: GenerateResult) -> None:
    dups = ground_truth(tiny)["duplicates"]
    assert {d["table"] for d in dups} == {"accounts", "contacts"}
    accounts = read_table(tiny, "accounts")
    contacts = read_table(tiny, "contacts")
    for d in dups:
        df, key = (accounts, "account_id") if d["table"] == "accounts" else (contacts, "contact_id")
        dup = df.filter(pl.col(key) == d["duplicate_id"]).row(0, named=True)
        orig = df.filter(pl.col(key) == d["original_id"]).row(0, named=True)
        assert dup["created_at"] > orig["created_at"]
        if d["table"] == "accounts":
            assert dup["domain"] == orig["domain"] and dup["name"] != orig["name"]
            assert dup["name"].lower().split()[0] == orig["name"].lower().split()[0]
        else:
            assert dup["account_id"] == orig["account_id"] and dup["last_name"] == orig["last_name"]
            assert (dup["first_name"], dup["email"]) != (orig["first_name"], orig["email"])


def test_jsonl_events_and_a_clean_run(tmp_path: Path) -> None:
    stages: list[str] = []
    result = generate(
        tmp_path / "clean",
        scale="tiny",
        seed=3,
        end_date=END,
        dirty_rate=0.0,
        events_format="jsonl",
        progress=lambda stage, done, total: stages.append(stage),
    )
    gt = ground_truth(result)
    assert gt["defects"] == [] and gt["duplicates"] == []
    assert "events" in stages
    files = sorted((result.out_dir / "events").iterdir())
    assert all(p.suffix == ".jsonl" for p in files)
    first = json.loads(files[0].read_text(encoding="utf-8").splitlines()[0])
    assert list(first) == list(CONTRACTS["events"].columns)
    datetime.strptime(first["occurred_at"], "%Y-%m-%d %H:%M:%S.%f")
    total = sum(p.read_text(encoding="utf-8").count("\n") for p in files)
    assert total == result.counts["events"]


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale"):
        generate(tmp_path, scale="huge")
    with pytest.raises(ValueError, match="events_format"):
        generate(tmp_path, scale="tiny", events_format="csv")
    with pytest.raises(ValueError, match="dirty_rate"):
        generate(tmp_path, scale="tiny", dirty_rate=0.5)


# --- realistic rates ------------------------------------------------------------------------


def lead_conversion(result: GenerateResult) -> float:
    leads = read_table(result, "leads")
    return leads["converted_opportunity_id"].is_not_null().mean()


def win_rate(result: GenerateResult) -> float:
    closed = read_table(result, "opportunities").filter(pl.col("is_won").is_not_null())
    return (closed["is_won"] == "true").mean()


def annual_logo_churn(result: GenerateResult) -> float:
    """Share of the customers at the start of the last year with no subscription at its end."""
    subs = typed("subscriptions", read_table(result, "subscriptions"))

    def customers_at(t: datetime) -> set[str]:
        live = subs.filter(
            (pl.col("started_at") <= t) & (pl.col("ended_at").is_null() | (pl.col("ended_at") > t))
        )
        return set(live["account_id"])

    start = customers_at(END_EXCL - timedelta(days=365))
    end = customers_at(END_EXCL - timedelta(seconds=1))
    return len(start - end) / len(start)


def test_rates_on_tiny_are_plausible(tiny: GenerateResult) -> None:
    assert 0.03 < lead_conversion(tiny) < 0.25
    assert 0.12 < win_rate(tiny) < 0.45


def test_rates_on_small_are_realistic(small: GenerateResult) -> None:
    assert 0.05 <= lead_conversion(small) <= 0.20
    assert 0.20 <= win_rate(small) <= 0.35
    assert 0.08 <= annual_logo_churn(small) <= 0.20


def test_wins_cluster_at_quarter_end(small: GenerateResult) -> None:
    won = typed("opportunities", read_table(small, "opportunities")).filter(pl.col("is_won"))
    closed = won["closed_at"].dt.date().to_list()

    def days_to_quarter_end(d: date) -> int:
        month = 3 * ((d.month - 1) // 3) + 3
        last = date(d.year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
        return (last - d).days

    share = np.mean([days_to_quarter_end(d) < 14 for d in closed])
    assert share > 1.5 * 14 / 91


# --- the signal is there ----------------------------------------------------------------------


def held_out_auc(x: np.ndarray, y: np.ndarray) -> float:
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(xtr, ytr)
    return roc_auc_score(yte, model.predict_proba(xte)[:, 1])


def lead_features(result: GenerateResult, leak: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Engagement before each decided lead's decision, source and the SDR's custom fields."""
    leads = typed("leads", read_table(result, "leads")).with_columns(
        decided=pl.coalesce("converted_at", "disqualified_at"),
        y=pl.col("converted_opportunity_id").is_not_null().cast(pl.Int8),
    )
    leads = leads.filter(pl.col("decided").is_not_null())
    ev = events(result).filter(pl.col("lead_id").is_not_null())
    ev = ev.join(leads.select("lead_id", "decided"), on="lead_id")
    if not leak:
        ev = ev.filter(pl.col("occurred_at") < pl.col("decided"))
    types = ("pricing_view", "demo_request", "email_click", "email_open", "page_view")
    counts = ev.group_by("lead_id").agg((pl.col("event_type") == t).sum().alias(t) for t in types)
    df = leads.join(counts, on="lead_id", how="left").with_columns(pl.col(types).fill_null(0))
    cols = [np.log1p(df[t].to_numpy()) for t in types]
    cols += [(df["source"] == s).to_numpy() for s in ("referral", "partner", "social", "outbound")]
    cols += [
        (df["budget_confirmed"] == "true").fill_null(False).to_numpy(),
        (df["decision_maker"] == "true").to_numpy(),
        (df["timeline"] == "this_quarter").to_numpy(),
    ]
    return np.column_stack(cols).astype(float), df["y"].to_numpy()


def test_lead_conversion_is_predictable_from_pre_decision_features(small: GenerateResult) -> None:
    x, y = lead_features(small)
    assert held_out_auc(x, y) > 0.70


def test_post_decision_events_leak_the_label(small: GenerateResult) -> None:
    clean = held_out_auc(*lead_features(small))
    leaky = held_out_auc(*lead_features(small, leak=True))
    assert leaky > clean + 0.05


def test_deal_outcome_is_predictable(small: GenerateResult) -> None:
    opps = read_table(small, "opportunities").filter(pl.col("is_won").is_not_null())
    acts = read_table(small, "activities").filter(pl.col("opportunity_id").is_not_null())
    hist = typed("opportunity_stage_history", read_table(small, "opportunity_stage_history"))
    per_deal = acts.group_by("opportunity_id").agg(
        n=pl.len(), contacts=pl.col("contact_id").n_unique()
    )
    changes = hist.group_by("opportunity_id").agg(
        pushes=(pl.col("from_stage") == pl.col("to_stage")).sum(),
        cut=1 - pl.col("amount").min() / pl.col("amount").max(),
    )
    df = opps.join(per_deal, on="opportunity_id", how="left").join(
        changes, on="opportunity_id", how="left"
    )
    x = np.column_stack(
        [
            np.log1p(df["n"].fill_null(0).to_numpy()),
            np.log1p(df["contacts"].fill_null(0).to_numpy()),
            df["competitor"].is_not_null().to_numpy(),
            np.log1p(df["pushes"].fill_null(0).to_numpy()),
            df["cut"].fill_null(0).fill_nan(0).to_numpy(),
        ]
    ).astype(float)
    y = (df["is_won"] == "true").to_numpy().astype(int)
    assert held_out_auc(x, y) > 0.70
