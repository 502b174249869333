"""The CRM module of seed 002 (Contact, Account, Lead, Opportunity, Activity): fixture →
ingest → daily run → publish back → plain SQL questions → one lead changes → a second
run writes only its row.

What it has beyond the canonical model must reach the warehouse: the account hierarchy
(its parent account is the canonical parent_account_id) and the contact roles (a custom
attribute of contacts).
"""

from __future__ import annotations

import time

import pytest

from tests.systems_support import RoundTrip, system_trip, warehouse

pytestmark = pytest.mark.postgres

STAGES = ["Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost"]


trip = system_trip("crm_module")


def test_the_fixture_keeps_the_crms_own_constraints(trip: RoundTrip):
    for table in ("public.accounts", "public.contacts", "public.leads", "public.opportunities"):
        assert trip.counts[table] > 0, table
    assert {s for (s,) in trip.sql("select distinct stage from opportunities")} == set(STAGES)
    types = {t for (t,) in trip.sql("select distinct account_type from accounts")}
    assert {"Customer", "Prospect", "Partner"} <= types
    roles = dict(trip.sql("select contact_role, count(*) from contacts group by 1"))
    assert set(roles) == {"Primary", "Secondary", "Decision Maker"}
    # a hierarchy: some accounts have a parent, none is its own
    assert trip.sql("select count(*) from accounts where parent_account_id is not null")[0][0] > 0
    assert trip.sql("select count(*) from opportunities where amount < 0")[0][0] >= 1


def test_the_hierarchy_contact_roles_and_stages_reach_the_warehouse(trip: RoundTrip):
    parents = dict(
        trip.sql(
            "select id::text, parent_account_id::text from accounts where parent_account_id is not null"
        )
    )
    in_raw = dict(
        warehouse(
            trip,
            "select account_id, parent_account_id from raw.accounts "
            "where parent_account_id is not null",
        )
    )
    assert in_raw == parents
    roles = dict(trip.sql("select id::text, contact_role from contacts"))
    raw_roles = dict(warehouse(trip, "select contact_id, contact_role from raw.contacts"))
    quarantined = {
        c
        for (c,) in warehouse(
            trip, "select json_extract_string(record, '$.contact_id') from quarantine.contacts"
        )
    }
    assert raw_roles == {c: r for c, r in roles.items() if c not in quarantined}
    account_types = dict(
        warehouse(
            trip,
            "select label, value from raw.vocabulary where field = 'account_types' and origin = 'spec'",
        )
    )
    assert account_types["Competitor"] == "other"
    stages = warehouse(
        trip,
        "select label, meaning, position from raw.vocabulary "
        "where field = 'opportunity_stages' order by position",
    )
    assert [s for s, _, _ in stages] == STAGES
    assert warehouse(
        trip, "select count(*) from quarantine.opportunities where reason_code = 'unknown_value'"
    ) == [(0,)]
    assert warehouse(
        trip, "select count(*) from quarantine.leads where reason_code = 'unknown_value'"
    ) == [(0,)]


def test_lead_score_and_win_probability_land_in_its_columns(trip: RoundTrip):
    leads = dict(warehouse(trip, "select cast(lead_id as integer), score from publish.lead_scores"))
    assert dict(trip.sql("select id, lead_score from leads where lead_score is not null")) == leads
    assert len(leads) > 100
    # the scored leads are the open ones
    assert trip.sql(
        "select count(*) from leads where lead_score is not null "
        "and status in ('Converted', 'Unqualified')"
    ) == [(0,)]
    deals = dict(
        warehouse(
            trip,
            "select cast(opportunity_id as integer), round(100 * probability, 1) "
            "from publish.opportunity_scores",
        )
    )
    open_deals = dict(
        trip.sql("select id, probability from opportunities where stage not like 'Closed%%'")
    )
    assert {k: open_deals[k] for k in deals} == pytest.approx(deals)
    assert set(deals) == set(open_deals) - {
        int(o)
        for (o,) in warehouse(
            trip,
            "select json_extract_string(record, '$.opportunity_id') from quarantine.opportunities",
        )
    }
    # What are my open deals most likely to close? — plain SQL, by the AI probability
    top = trip.sql(
        "select o.name, o.probability, u.full_name from opportunities o "
        "join users u on u.id = o.owner_id where o.stage not like 'Closed%%' "
        "order by o.probability desc limit 3"
    )
    assert len(top) == 3


def test_a_second_run_after_one_lead_changed_writes_only_that_lead(trip: RoundTrip):
    # An open lead without an account moves to the largest one: its fit, hence its
    # rule score, rises; its change timestamp is the newest one already read, so the
    # data's today (and every other score) stays.
    ((lead, before),) = trip.sql(
        "select id, lead_score from leads where lead_score is not null "
        "and account_id is null order by id limit 1"
    )
    trip.sql(
        "update leads set account_id = (select id from accounts where industry is not null "
        "order by employee_count desc nulls last limit 1), "
        "updated_at = (select max(updated_at) from leads where updated_at <= now()) "
        "where id = %s",
        [lead],
    )
    started = time.perf_counter()
    ran = trip.crmlens("run", "--job", "daily")
    assert ran.returncode == 0, (ran.stdout[-3000:], ran.stderr[-3000:])
    seconds = time.perf_counter() - started
    ((after,),) = trip.sql("select lead_score from leads where id = %s", [lead])
    assert after > before
    synced = trip.last_sync()
    print(f"\ncrm_module second run: {seconds:.0f} s; {synced}")
    written = {table: counts for table, counts in synced.items() if counts != (0, 0, 0)}
    assert written == {"leads (lead_scores)": (0, 1, 0)}
