"""The multi-channel campaign CRM (seed 003): fixture → ingest → daily run → publish back →
plain SQL questions → one lead changes → a second run writes only that lead's rows.

The CRM is multi-tenant (company_id on every table); a tenant is one crmlens source. The
fixture holds two tenants; the spec reads company 1 and the mapping writes company 1's
lead_scores rows (COMBINED and the DEMOGRAPHIC, ENGAGEMENT and BEHAVIORAL components) and
its leads' score and suggested stage. Company 2, and company 1's own scores (WORKFLOW,
MANUAL), are never touched.
"""

from __future__ import annotations

import time

import pytest

from tests.systems_support import RoundTrip, system_trip, warehouse

pytestmark = pytest.mark.postgres

TENANT_2 = 1_000_000_000  # company 2's ids start here


trip = system_trip("campaign_crm")


def crmlens_rows(trip: RoundTrip) -> dict[tuple[int, str], str]:
    """crmlens's lead_scores rows: (lead, score type) -> the row as text."""
    rows = trip.sql(
        "select lead_id, score_type::text, s::text from lead_scores s where scored_by = 'crmlens'"
    )
    return {(lead, kind): row for lead, kind, row in rows}


def test_the_fixture_holds_two_tenants_in_the_crms_own_schema(trip: RoundTrip):
    for table, rows in trip.counts.items():
        assert rows > 0, table
    tenants = dict(trip.sql("select company_id, count(*) from leads group by 1"))
    assert set(tenants) == {1, 2} and tenants[2] > 100
    stages = {s for (s,) in trip.sql("select distinct stage::text from leads")}
    assert stages == {"LEAD", "MQL", "SQL", "OPPORTUNITY", "CUSTOMER", "LOST"}
    kinds = trip.sql("select count(distinct activity_type) from campaign_activities")[0][0]
    assert kinds >= 15
    # no row refers to another tenant's records
    for table in ("leads", "campaign_activities", "campaign_contacts"):
        assert trip.sql(
            f"select count(*) from {table} x join contacts c on c.id = x.contact_id "
            "where c.company_id <> x.company_id"
        ) == [(0,)], table
    # before crmlens ran, lead_scores held only the CRM's own scores
    assert (
        trip.counts["public.lead_scores"]
        == (trip.sql("select count(*) from lead_scores where scored_by <> 'crmlens'")[0][0])
    )


def test_ingest_reads_one_tenant_with_its_own_stages_and_activity_types(trip: RoundTrip):
    tenant_1 = trip.sql("select count(*) from leads where company_id = 1")[0][0]
    read = warehouse(
        trip,
        "select (select count(*) from raw.leads) "
        "+ (select count(distinct record_key) from quarantine.leads), "
        "(select max(cast(lead_id as bigint)) from raw.leads)",
    )[0]
    assert read[0] == tenant_1 and read[1] < TENANT_2
    unknown = warehouse(
        trip,
        "select count(*) from (select reason_code from quarantine.leads union all "
        "select reason_code from quarantine.activities union all "
        "select reason_code from quarantine.events) where reason_code = 'unknown_value'",
    )
    assert unknown == [(0,)]
    # raw keeps the CRM's stages; staging reads them as canonical statuses
    raw = {s for (s,) in warehouse(trip, "select distinct status from raw.leads")}
    assert raw == {"LEAD", "MQL", "SQL", "OPPORTUNITY", "CUSTOMER", "LOST"}
    statuses = {s for (s,) in warehouse(trip, "select distinct status from staging.stg_crm__leads")}
    assert statuses == {"new", "mql", "sql", "converted", "disqualified"}


def test_each_open_lead_has_its_combined_score_and_components(trip: RoundTrip):
    published = {
        lead: row
        for lead, *row in warehouse(
            trip,
            "select lead_id, score, fit_score, engagement_score, intent_score, qualification "
            "from publish.lead_scores",
        )
    }
    # The combined score of a lead and its breakdown — plain SQL on lead_scores
    breakdown = trip.sql(
        "select lead_id::text, "
        "max(score) filter (where score_type = 'COMBINED'), "
        "max(score) filter (where score_type = 'DEMOGRAPHIC'), "
        "max(score) filter (where score_type = 'ENGAGEMENT'), "
        "max(score) filter (where score_type = 'BEHAVIORAL') "
        "from lead_scores where company_id = 1 and scored_by = 'crmlens' group by 1"
    )
    assert {lead: list(scores) for lead, *scores in breakdown} == {
        lead: row[:4] for lead, row in published.items()
    }
    assert len(breakdown) > 100
    ((reasoning, factors),) = trip.sql(
        "select reasoning, score_factors from lead_scores where score_type = 'COMBINED' "
        "and scored_by = 'crmlens' order by score desc, lead_id limit 1"
    )
    assert reasoning.endswith(".") and factors["reasons"]
    assert {"grade", "confidence", "qualification", "intent_score", "next_action"} <= set(factors)
    assert all({"text", "direction", "impact"} <= set(r) for r in factors["reasons"])
    assert trip.sql(
        "select count(*) from lead_scores where score_type = 'BEHAVIORAL' "
        "and scored_by = 'crmlens' and score_factors ->> 'component' <> 'intent'"
    ) == [(0,)]
    # only open leads of company 1 are scored; the CRM's own rows are as they were
    assert trip.sql(
        "select count(*) from lead_scores s join leads l on l.id = s.lead_id "
        "where s.scored_by = 'crmlens' and (l.company_id <> 1 or s.company_id <> 1 "
        "or l.stage not in ('LEAD', 'MQL', 'SQL'))"
    ) == [(0,)]
    assert trip.sql("select count(*) from lead_scores where scored_by <> 'crmlens'") == [
        (trip.counts["public.lead_scores"],)
    ]


def test_leads_get_the_stage_their_score_qualifies_them_for(trip: RoundTrip):
    qualification = {
        lead: (score, q)
        for lead, score, q in warehouse(
            trip, "select lead_id, score, qualification from publish.lead_scores"
        )
    }
    leads = trip.sql(
        "select id::text, score, suggested_stage::text from leads where company_id = 1 "
        "and score is not null"
    )
    assert {lead: (score, stage) for lead, score, stage in leads} == {
        lead: (score, q if q in ("MQL", "SQL") else None)
        for lead, (score, q) in qualification.items()
    }
    # Which leads should move up the funnel? — plain SQL
    ready = trip.sql(
        "select id, stage::text, suggested_stage::text, score from leads "
        "where company_id = 1 and suggested_stage is not null "
        "and array_position(enum_range(null::leadstage), suggested_stage) > "
        "    array_position(enum_range(null::leadstage), stage) "
        "order by score desc"
    )
    assert ready and all(score >= 50 for *_, score in ready)
    # the other tenant's leads keep the scores its own scoring gave them
    assert trip.sql(
        "select count(*) from leads l join lead_scores s on s.lead_id = l.id "
        "and s.score_type = 'COMBINED' where l.company_id = 2 and l.score <> s.score"
    ) == [(0,)]
    assert trip.sql(
        "select count(*) from leads where company_id = 2 and suggested_stage is not null"
    ) == [(0,)]


def test_a_second_run_after_one_lead_changed_writes_only_that_leads_rows(trip: RoundTrip):
    # An open lead answers the workflow questions (budget confirmed, timeline this
    # quarter, decision maker): its intent and fit, hence its combined score, rise. Its
    # change timestamp is the newest one already read, so the data's today stays.
    ((lead, before),) = trip.sql(
        "select l.id, l.score from leads l where l.company_id = 1 and l.score is not null "
        "and not coalesce((l.qualification_data ->> 'budget_confirmed')::boolean, false) "
        "and not coalesce((l.qualification_data ->> 'decision_maker')::boolean, false) "
        "order by l.id limit 1"
    )
    rows_before = crmlens_rows(trip)
    leads_before = dict(trip.sql("select id, row(score, suggested_stage)::text from leads"))
    theirs = "select s::text from lead_scores s where scored_by <> 'crmlens' order by id"
    theirs_before = trip.sql(theirs)
    trip.sql(
        "update leads set qualification_data = qualification_data || "
        '\'{"budget_confirmed": true, "decision_maker": true, "timeline": "this_quarter"}\', '
        "updated_at = (select max(updated_at) from leads "
        "              where company_id = 1 and updated_at <= now()) "
        "where id = %s",
        [lead],
    )
    started = time.perf_counter()
    ran = trip.crmlens("run", "--spec", str(trip.system.spec), "--job", "daily")
    seconds = time.perf_counter() - started
    assert ran.returncode == 0, (ran.stdout[-3000:], ran.stderr[-3000:])

    ((after,),) = trip.sql("select score from leads where id = %s", [lead])
    assert after > before
    rows_after = crmlens_rows(trip)
    changed = {
        k for k in rows_before.keys() | rows_after.keys() if rows_before.get(k) != rows_after.get(k)
    }
    assert {k[0] for k in changed} == {lead}
    assert {"COMBINED", "DEMOGRAPHIC", "BEHAVIORAL"} <= {k[1] for k in changed}
    leads_after = dict(trip.sql("select id, row(score, suggested_stage)::text from leads"))
    assert {k for k in leads_after if leads_after[k] != leads_before[k]} == {lead}
    assert trip.sql(theirs) == theirs_before
    synced = trip.last_sync()
    assert sum(
        sum(counts) for table, counts in synced.items() if table.startswith("lead_scores")
    ) == len(changed)
    assert synced["leads (lead_scores)"] == (0, 1, 0)
    print(f"\ncampaign_crm: second run {seconds:.0f} s; {synced}")
