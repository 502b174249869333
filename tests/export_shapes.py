"""Exports shaped like the ones CRM teams really have, written by the tests themselves.

Each builder writes a small export into a folder, and the source spec a user would write
for it, and returns the spec's path. None of them is the synthetic CRM's own exporter:
they are undated, partial, with their own stage names and field names, without events,
in odd encodings — the shapes crmlens met when real datasets went through it.
"""

from __future__ import annotations

import random
import textwrap
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SOURCES = ("Web", "Referral", "Partner", "Event", "Cold call")
COUNTRIES = ("US", "DE", "FR", "ES", "GB")
INDUSTRIES = ("Retail", "Software", "Health", "Finance", "Manufacturing")


def _write(path: Path, text: str, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


def _spec(root: Path, text: str) -> Path:
    path = root / "spec.yml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def _leads(rng: random.Random, n: int, start: date, days: int) -> list[dict]:
    """Leads whose conversion depends on their source and country (a learnable signal)."""
    rows = []
    for i in range(n):
        source = rng.choice(SOURCES)
        country = rng.choice(COUNTRIES)
        created = start + timedelta(days=rng.randrange(days))
        p = {"Referral": 0.35, "Partner": 0.25, "Web": 0.12, "Event": 0.1}.get(source, 0.04)
        p *= 1.5 if country == "US" else 1.0
        won = rng.random() < p
        rows.append(
            {
                "id": f"L{i:05d}",
                "company": f"Company {i}",
                "email": f"person{i}@company{i}.example",
                "source": source,
                "country": country,
                "created": created,
                "won": won,
                "won_on": created + timedelta(days=rng.randrange(3, 50)) if won else None,
                "amount": rng.randrange(1_000, 30_000) if won else None,
            }
        )
    return rows


def leads_with_won_list(root: Path) -> Path:
    """A lead list, and apart from it the list of deals won (matched by e-mail)."""
    rng = random.Random(1)
    rows = _leads(rng, 900, date(2024, 1, 1), 540)
    lines = ["Lead ID,Company,Email,Lead Source,Country,Created Date"]
    lines += [f"{r['id']},{r['company']},{r['email']},{r['source']},{r['country']},"
              f"{r['created']:%m/%d/%Y}" for r in rows]  # fmt: skip
    _write(root / "leads.csv", "\n".join(lines) + "\n")
    won = ["Email,Won On,Amount"]
    won += [f"{r['email']},{r['won_on']:%m/%d/%Y},{r['amount']}" for r in rows if r["won"]]
    _write(root / "won_deals.csv", "\n".join(won) + "\n")
    return _spec(
        root,
        """
        name: lead_list_and_wins
        as_of: 2025-07-01
        files:
          leads: {path: leads.csv}
          won: {path: won_deals.csv}
        tables:
          leads:
            select: |
              select
                  l."Lead ID" as lead_id, l."Company" as company, l."Email" as email,
                  l."Lead Source" as source,
                  case when w."Email" is not null then 'converted' else 'working' end as status,
                  strptime(l."Created Date", '%m/%d/%Y') as created_at,
                  strptime(w."Won On", '%m/%d/%Y') as converted_at,
                  coalesce(strptime(w."Won On", '%m/%d/%Y'),
                           strptime(l."Created Date", '%m/%d/%Y')) as updated_at,
                  l."Country" as country,
                  l._source_file, l._source_row
              from leads l left join won w on w."Email" = l."Email"
        labels:
          lead_scoring: {horizon_days: 60}
        """,
    )


def undated_snapshot(root: Path) -> Path:
    """One customer table without a single date: tenure, plan, charges, churned yes/no."""
    rng = random.Random(2)
    lines = ["customer,plan,seats,monthly_fee,tenure_months,support_calls,churned"]
    for i in range(800):
        plan = rng.choice(("Monthly", "Annual", "Two-year"))
        tenure = rng.randrange(1, 60)
        calls = rng.randrange(0, 8)
        p = {"Monthly": 0.35, "Annual": 0.12, "Two-year": 0.04}[plan] + 0.04 * calls
        p *= 0.5 if tenure > 24 else 1.0
        churned = "Yes" if rng.random() < min(p, 0.9) else "No"
        fee = round(rng.uniform(20, 120), 2)
        lines.append(f"C{i:04d},{plan},{rng.randrange(1, 20)},{fee},{tenure},{calls},{churned}")
    _write(root / "customers.csv", "\n".join(lines) + "\n")
    return _spec(
        root,
        """
        name: undated_customers
        as_of: 2025-06-30
        files:
          customers: {path: customers.csv}
        tables:
          accounts:
            select: |
              select customer as account_id, customer as name,
                     timestamp '2025-06-30' - to_months(tenure_months::integer) as created_at,
                     timestamp '2025-06-30' as updated_at,
                     case when churned = 'Yes' then 'former_customer' else 'customer' end
                         as account_type,
                     support_calls::integer as support_calls,
                     _source_file, _source_row
              from customers
          subscriptions:
            select: |
              select customer as subscription_id, customer as account_id, plan,
                     seats::integer as seats, monthly_fee::double as mrr,
                     timestamp '2025-06-30' - to_months(tenure_months::integer) as started_at,
                     case when churned = 'Yes' then timestamp '2025-06-15' end as ended_at,
                     case when churned = 'Yes' then 'cancelled' else 'active' end as status,
                     _source_file, _source_row
              from customers
        labels:
          churn: {mode: one_outcome_per_row}
        """,
    )


def _crm_objects(root: Path, rng: random.Random, *, stages: tuple[str, ...], won: str,
                 lost: str, account_share: float, encoding: str = "utf-8") -> None:  # fmt: skip
    """accounts, leads, opportunities and activities of a small CRM, as CSV exports."""
    start = date(2024, 1, 1)
    accounts = ["Id,Name,Industry,Employees,Country,Created,Modified"]
    for i in range(150):
        created = start + timedelta(days=rng.randrange(200))
        name = f"Société {i} Ñandú" if encoding != "utf-8" or i % 7 == 0 else f"Account {i}"
        accounts.append(
            f"A{i:04d},{name},{rng.choice(INDUSTRIES)},{rng.randrange(5, 5000)},"
            f"{rng.choice(COUNTRIES)},{created}T09:00:00,{created}T09:00:00"
        )
    _write(root / "accounts.csv", "\n".join(accounts) + "\n", encoding)
    leads = ["Id,Company,Email,Source,Status,Created,Converted,Modified"]
    for r in _leads(rng, 600, start, 480):
        status = "Converted" if r["won"] else rng.choice(("Open", "Working", "Dead"))
        conv = f"{r['won_on']}T12:00:00" if r["won"] else ""
        leads.append(
            f"{r['id']},{r['company']},{r['email']},{r['source']},{status},"
            f"{r['created']}T10:00:00,{conv},{r['created']}T10:00:00"
        )
    _write(root / "leads.csv", "\n".join(leads) + "\n", encoding)
    deals = ["Id,AccountId,Name,Stage,Amount,CloseDate,Created,Closed,Modified"]
    activities = ["Id,Type,DealId,When,Minutes"]
    for i in range(450):
        created = start + timedelta(days=rng.randrange(480))
        account = f"A{rng.randrange(150):04d}" if rng.random() < account_share else ""
        amount = rng.randrange(2_000, 80_000)
        touches = rng.randrange(0, 6)
        p_win = 0.15 + 0.1 * touches
        age = (date(2025, 6, 30) - created).days
        if age > 90 and rng.random() < 0.85:
            stage = won if rng.random() < p_win else lost
            closed = created + timedelta(days=rng.randrange(10, 90))
        else:
            stage, closed = rng.choice(stages), None
        closed_text = f"{closed}T16:00:00" if closed else ""
        deals.append(
            f"D{i:04d},{account},Deal {i},{stage},{amount},{created + timedelta(days=60)},"
            f"{created}T11:00:00,{closed_text},{(closed or created)}T16:00:00"
        )
        for j in range(touches):
            when = created + timedelta(days=j * 3 + 1)
            activities.append(f"T{i:04d}{j},{rng.choice(('Call', 'Email', 'Meeting'))},D{i:04d},"
                              f"{when}T14:00:00,{rng.randrange(5, 60)}")  # fmt: skip
    _write(root / "deals.csv", "\n".join(deals) + "\n", encoding)
    _write(root / "activities.csv", "\n".join(activities) + "\n", encoding)


_CRM_SPEC = """
name: {name}
files:
  accounts: {{path: accounts.csv{file_options}}}
  leads: {{path: leads.csv{file_options}}}
  deals: {{path: deals.csv{file_options}}}
  activities: {{path: activities.csv{file_options}}}
tables:
  accounts:
    select: |
      select "Id" as account_id, "Name" as name, "Industry" as industry,
             "Employees" as employee_count, "Country" as country,
             "Created" as created_at, "Modified" as updated_at, _source_file, _source_row
      from accounts
  leads:
    select: |
      select "Id" as lead_id, "Company" as company, "Email" as email, "Source" as source,
             "Status" as status, "Created" as created_at, "Converted" as converted_at,
             "Modified" as updated_at, _source_file, _source_row
      from leads
  opportunities:
    select: |
      select "Id" as opportunity_id, nullif("AccountId", '') as account_id, "Name" as name,
             "Stage" as stage, "Amount" as amount, "CloseDate" as expected_close_date,
             "Created" as created_at, nullif("Closed", '') as closed_at,
             "Modified" as updated_at, _source_file, _source_row
      from deals
  activities:
    select: |
      select "Id" as activity_id, "Type" as activity_type, "DealId" as opportunity_id,
             "When" as occurred_at, "Minutes" as duration_minutes, _source_file, _source_row
      from activities
vocabularies:
  lead_statuses: {{Open: new, Working: working, Dead: disqualified, Converted: converted}}
  activity_types: {{Call: call, Email: email, Meeting: meeting}}
{extra}"""


def no_events(root: Path) -> Path:
    """A CRM's objects with dates, and no behavioural events at all."""
    _crm_objects(root, random.Random(3), stages=("Prospecting", "Proposal", "Negotiation"),
                 won="Closed Won", lost="Closed Lost", account_share=1.0)  # fmt: skip
    extra = """\
  opportunity_stages:
    - {label: Prospecting, meaning: open, probability: 0.1}
    - {label: Proposal, meaning: open, probability: 0.4}
    - {label: Negotiation, meaning: open, probability: 0.7}
    - {label: Closed Won, meaning: won}
    - {label: Closed Lost, meaning: lost}
"""
    return _spec(root, _CRM_SPEC.format(name="no_events", file_options="", extra=extra))


def two_stage_funnel(root: Path) -> Path:
    """A CRM's own stage names — a two-step funnel, engaging then won or lost — undeclared."""
    _crm_objects(root, random.Random(4), stages=("Engaging",), won="Won", lost="Lost",
                 account_share=1.0)  # fmt: skip
    return _spec(root, _CRM_SPEC.format(name="two_stages", file_options="", extra=""))


def deals_without_accounts(root: Path) -> Path:
    """Open and closed deals of which most have no account."""
    _crm_objects(root, random.Random(5), stages=("Prospecting", "Proposal"), won="Won",
                 lost="Lost", account_share=0.3)  # fmt: skip
    return _spec(root, _CRM_SPEC.format(name="no_accounts", file_options="", extra=""))


def windows_1252(root: Path) -> Path:
    """The same CRM exported by a Windows tool: Windows-1252 bytes, names with accents."""
    _crm_objects(root, random.Random(6), stages=("Prospecting", "Proposal"), won="Won",
                 lost="Lost", account_share=1.0, encoding="cp1252")  # fmt: skip
    return _spec(root, _CRM_SPEC.format(name="cp1252", file_options="", extra=""))


def whitespace_headerless(root: Path) -> Path:
    """Leads in a text file without a header, fields separated by runs of spaces."""
    rows = _leads(random.Random(7), 700, date(2024, 1, 1), 480)
    lines = [
        f"{r['id']:<8} {r['source'].replace(' ', '_'):<10} {r['country']:<4} "
        f"{r['created']:%Y-%m-%d} {r['won_on'].isoformat() if r['won'] else '-':<10} "
        f"{'converted' if r['won'] else 'working'}"
        for r in rows
    ]
    _write(root / "leads.txt", "\n".join(lines) + "\n")
    return _spec(
        root,
        """
        name: whitespace_leads
        files:
          leads: {path: leads.txt, delimiter: whitespace, header: false}
        tables:
          leads:
            select: |
              select column0 as lead_id, column1 as source, column2 as country,
                     column5 as status, column3 as created_at,
                     nullif(column4, '-') as converted_at,
                     coalesce(nullif(column4, '-'), column3) as updated_at,
                     _source_file, _source_row
              from leads
        labels:
          lead_scoring: {horizon_days: 60}
        """,
    )


def old_events(root: Path) -> Path:
    """Leads and daily event files from 2014, years before the default events start."""
    rng = random.Random(8)
    rows = _leads(rng, 500, date(2014, 1, 1), 120)
    lines = ["id,source,created,converted,status,modified"]
    for r in rows:
        conv = f"{r['won_on']} 12:00:00" if r["won"] else ""
        lines.append(f"{r['id']},{r['source']},{r['created']} 09:00:00,{conv},"
                     f"{'converted' if r['won'] else 'working'},{r['created']} 09:00:00")  # fmt: skip
    _write(root / "leads.csv", "\n".join(lines) + "\n")
    by_day: dict[date, list[dict]] = {}
    n = 0
    for r in rows:
        for k in range(rng.randrange(1, 6) + (4 if r["won"] else 0)):
            day = r["created"] + timedelta(days=k)
            kind = rng.choice(("page_view", "pricing_view", "email_open", "form_submit"))
            by_day.setdefault(day, []).append(
                {"event_id": f"E{n:07d}", "occurred_at": datetime(day.year, day.month, day.day, 15),
                 "event_type": kind, "lead_id": r["id"]}
            )  # fmt: skip
            n += 1
    for day, events in by_day.items():
        path = root / "events" / f"{day.isoformat()}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(events), path)
    return _spec(
        root,
        """
        name: events_2014
        files:
          leads: {path: leads.csv}
          events: {path: "events/{day}.parquet"}
        tables:
          leads:
            select: |
              select id as lead_id, source, status, created as created_at,
                     nullif(converted, '') as converted_at, modified as updated_at,
                     _source_file, _source_row
              from leads
          events:
            select: select event_id, occurred_at, event_type, lead_id, _source_file,
                    _source_row, _partition from events
        """,
    )


SHAPES: dict[str, Callable[[Path], Path]] = {
    "leads_with_won_list": leads_with_won_list,
    "undated_snapshot": undated_snapshot,
    "no_events": no_events,
    "two_stage_funnel": two_stage_funnel,
    "deals_without_accounts": deals_without_accounts,
    "whitespace_headerless": whitespace_headerless,
    "windows_1252": windows_1252,
    "old_events": old_events,
}
