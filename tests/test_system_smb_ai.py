"""The SMB CRM with AI features (seed 000): fixture → ingest → daily run → publish back →
plain SQL questions → one lead changes → a second run writes only that lead's rows.

crmlens fills the Lead model's AI fields (ai_score, ai_explanation, ai_confidence,
behavioral_data, last_ai_analysis) and the AI-suggested tasks; its behavioural events
table is read as the canonical events.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.systems_support import RoundTrip, system_trip, warehouse

pytestmark = pytest.mark.postgres

AI_FIELDS = "ai_score, ai_explanation, ai_confidence, behavioral_data, last_ai_analysis"


trip = system_trip("smb_ai")


def tasks(trip: RoundTrip) -> dict[str, tuple]:
    """Every AI-suggested task by id: (entity type, entity id, the whole row as text)."""
    rows = trip.sql("select id, entity_type::text, entity_id, t::text from ai_suggested_tasks t")
    return {i: (kind, entity, row) for i, kind, entity, row in rows}


def test_the_fixture_keeps_the_crms_own_constraints(trip: RoundTrip):
    for table, rows in trip.counts.items():
        if table not in ("public.ai_suggested_tasks", "public.duplicate_suggestions"):
            assert rows > 0, table
    statuses = {s for (s,) in trip.sql("select distinct status::text from leads")}
    assert {"contacted", "nurturing", "unqualified", "converted"} <= statuses
    kinds = {k for (k,) in trip.sql("select distinct event_type::text from behavioral_events")}
    assert {"website_visit", "pricing_page_visit", "email_open", "demo_request"} <= kinds
    # every behavioural event is someone's, and no reference dangles
    assert trip.sql(
        "select count(*) from behavioral_events e left join leads l on l.id = e.lead_id "
        "where e.lead_id is not null and l.id is null"
    ) == [(0,)]
    # the seeded defects its constraints allow stay, for ingest to catch
    assert trip.sql("select count(*) from leads where email not like '%@%.%'")[0][0] >= 1
    assert trip.sql("select count(*) from opportunities where value < 0")[0][0] >= 1


def test_ingest_reads_its_own_statuses_stages_and_event_types(trip: RoundTrip):
    unknown = dict(
        warehouse(
            trip,
            "select 'leads', count(*) from quarantine.leads where reason_code = 'unknown_value' "
            "union all select 'events', count(*) from quarantine.events "
            "where reason_code = 'unknown_value'",
        )
    )
    assert unknown == {"leads": 0, "events": 0}
    # only the synthetic CRM's one seeded unknown stage is refused, not the CRM's own stages
    refused = warehouse(
        trip,
        "select distinct record ->> 'stage' from quarantine.opportunities "
        "where reason_code = 'unknown_value'",
    )
    assert refused == [("Prospect",)]
    events = warehouse(trip, "select count(*) from raw.events")[0][0]
    assert events > 0.9 * trip.counts["public.behavioral_events"]


def test_open_leads_carry_the_ai_fields_a_salesperson_reads(trip: RoundTrip):
    scores = {
        lead: (score, confidence, json.loads(reasons))
        for lead, score, confidence, reasons in warehouse(
            trip, "select lead_id, score, confidence, reasons from publish.lead_scores"
        )
    }
    rows = trip.sql(
        f"select id::text, {AI_FIELDS} from leads where ai_score is not null order by id"
    )
    assert {r[0] for r in rows} == set(scores) and len(rows) > 100
    for lead, score, explanation, confidence, data, analysed in rows:
        assert (score, confidence) == scores[lead][:2]
        assert explanation.startswith(scores[lead][2][0]["text"].rstrip("."))
        assert explanation.endswith(".")
        assert {"fit_score", "engagement_score", "intent_score", "grade", "band"} <= set(data)
        assert isinstance(data["engagement"], list) and isinstance(data["intent"], list)
        assert analysed is not None
    # Which leads should I call first, and why? — plain SQL on the Lead table
    top = trip.sql(
        "select id, ai_score, ai_explanation, behavioral_data -> 'intent_score' from leads "
        "where status in ('new', 'contacted', 'nurturing', 'qualified') "
        "order by ai_score desc nulls last limit 5"
    )
    assert [s for _, s, _, _ in top] == sorted((s for s, _, _ in scores.values()), reverse=True)[:5]
    assert all(intent is not None for *_, intent in top)
    # a lead no longer open has no AI score
    assert trip.sql(
        "select count(*) from leads where status in ('converted', 'unqualified') "
        "and ai_score is not null"
    ) == [(0,)]


def test_ai_suggested_tasks_land_on_the_reps_list(trip: RoundTrip):
    published = warehouse(trip, "select count(*) from publish.suggested_tasks")[0][0]
    tasks = trip.sql("select count(*) from ai_suggested_tasks where source = 'crmlens'")[0][0]
    assert tasks == published > 0
    # every suggestion is about a record of the CRM
    assert trip.sql(
        "select count(*) from ai_suggested_tasks t "
        "left join leads l on t.entity_type = 'lead' and l.id = t.entity_id "
        "left join opportunities o on t.entity_type = 'opportunity' and o.id = t.entity_id "
        "left join companies c on t.entity_type = 'company' and c.id = t.entity_id "
        "where coalesce(l.id, o.id, c.id) is null"
    ) == [(0,)]
    # What should each rep do this week? — plain SQL
    week = trip.sql(
        "select u.name, t.priority::text, t.title, t.reasoning, t.suggested_due_date "
        "from ai_suggested_tasks t join users u on u.id = t.assigned_to "
        "where t.status = 'suggested' and t.suggested_due_date < ("
        "  select min(suggested_due_date) + 7 from ai_suggested_tasks) "
        "order by t.priority, t.suggested_due_date"
    )
    assert week and all(reason for *_, reason, _ in week)
    # nobody marked do-not-contact or not opted in is to be called, e-mailed or met
    assert trip.sql(
        "select count(*) from ai_suggested_tasks t join leads l on t.entity_type = 'lead' "
        "and l.id = t.entity_id join contacts c on c.id = l.contact_id "
        "where t.task_type in ('call', 'email', 'meeting') "
        "and (c.do_not_contact or not c.email_opt_in)"
    ) == [(0,)]
    # duplicate merge suggestions are not crmlens's yet: the table is there, empty
    assert trip.sql("select count(*) from duplicate_suggestions") == [(0,)]


def test_a_second_run_after_one_lead_changed_writes_only_that_leads_rows(trip: RoundTrip):
    # A rep accepts a suggestion and the CRM adds one of its own: both are kept.
    trip.sql(
        "update ai_suggested_tasks set status = 'accepted' "
        "where id = (select min(id) from ai_suggested_tasks)"
    )
    trip.sql(
        "insert into ai_suggested_tasks (entity_type, entity_id, task_type, title, source) "
        "select 'lead', min(id), 'call', 'Call back about the renewal', 'ai' from leads"
    )
    # An open lead just short of a rep's attention (under 50 points, so no task yet; its
    # contact may be called) confirms budget, timeline and that they decide: the
    # qualification answers raise its score past 50, and it gets a task. Its change
    # timestamp is the newest one already read, so the data's today (and every other
    # score) stays.
    ((lead, before),) = trip.sql(
        "select l.id, l.ai_score from leads l join contacts c on c.id = l.contact_id "
        "where l.ai_score between 35 and 49 and not coalesce(l.budget_confirmed, false) "
        "and not coalesce(l.decision_maker, false) and not c.do_not_contact and c.email_opt_in "
        "order by l.ai_score desc, l.id limit 1"
    )
    leads_before = dict(trip.sql(f"select id, row({AI_FIELDS})::text from leads"))
    tasks_before = tasks(trip)
    trip.sql(
        "update leads set budget_confirmed = true, decision_maker = true, "
        "timeline = 'this_quarter', "
        "updated_at = (select max(updated_at) from leads where updated_at <= now()) "
        "where id = %s",
        [lead],
    )
    started = time.perf_counter()
    ran = trip.crmlens("run", "--spec", str(trip.system.spec), "--job", "daily")
    seconds = time.perf_counter() - started
    assert ran.returncode == 0, (ran.stdout[-3000:], ran.stderr[-3000:])

    ((after,),) = trip.sql("select ai_score from leads where id = %s", [lead])
    assert after >= 50 > before
    leads_after = dict(trip.sql(f"select id, row({AI_FIELDS})::text from leads"))
    assert {k for k in leads_after if leads_after[k] != leads_before[k]} == {lead}
    tasks_after = tasks(trip)
    changed = {
        k
        for k in tasks_before.keys() | tasks_after.keys()
        if tasks_before.get(k) != tasks_after.get(k)
    }
    # the suggestions that changed, appeared or went are all the lead's own: it has one now
    assert {(tasks_before.get(k) or tasks_after[k])[:2] for k in changed} == {("lead", lead)}
    assert trip.sql(
        "select count(*) from ai_suggested_tasks where entity_type = 'lead' and entity_id = %s "
        "and source = 'crmlens' and assigned_to is not null and suggested_due_date is not null",
        [lead],
    ) == [(1,)]
    synced = trip.last_sync()
    assert synced["leads (lead_scores)"] == (0, 1, 0)
    assert sum(synced.get("ai_suggested_tasks (suggested_tasks)", (0, 0, 0))) == len(changed)
    # the rep's accepted suggestion and the CRM's own one are still there
    assert trip.sql("select count(*) from ai_suggested_tasks where status = 'accepted'") == [(1,)]
    assert trip.sql("select count(*) from ai_suggested_tasks where source = 'ai'") == [(1,)]
    print(f"\nsmb_ai: second run {seconds:.0f} s; {synced}")
