"""The CRM module of a business OS (seed 001, Supabase): fixture → ingest → daily run →
publish back → plain SQL questions → one lead changes → a second run writes only its rows.

Its stages are rows of its own table (crm_pipeline_stages), read by the spec's
vocabulary select at every load: they must reach raw.vocabulary and the marts as the
CRM has them (names, order, probabilities), with no deal quarantined for its stage.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from crmlens.sources import SpecError, load_spec
from crmlens.sources.postgres import read_vocabularies
from tests.systems_support import RoundTrip, system_trip, warehouse

pytestmark = pytest.mark.postgres

STAGES = ["Lead", "Qualified", "Discovery", "Proposal", "Negotiation", "Closed Won", "Closed Lost"]


trip = system_trip("business_os")


def test_the_fixture_keeps_the_crms_own_constraints(trip: RoundTrip):
    for table in ("auth.users", "public.crm_leads", "public.crm_deals", "public.crm_activities"):
        assert trip.counts[table] > 0, table
    stages = trip.sql("select name from crm_pipeline_stages order by order_index")
    assert [s for (s,) in stages] == STAGES
    # every deal is in a stage of the pipeline, its status the stage's meaning
    assert trip.sql(
        "select count(*) from crm_deals d join crm_pipeline_stages s on s.id = d.stage_id "
        "where d.status <> case when s.is_won then 'won' when s.is_lost then 'lost' "
        "else 'open' end"
    ) == [(0,)]
    statuses = {s for (s,) in trip.sql("select distinct status from crm_leads")}
    assert statuses <= {"new", "contacted", "nurturing", "qualified", "converted", "unqualified"}
    assert {"contacted", "unqualified"} <= statuses
    # the seeded defects its constraints allow are there for ingest to catch
    assert trip.sql("select count(*) from crm_deals where value < 0")[0][0] >= 1


def test_its_stages_come_from_its_own_table_into_the_marts(trip: RoundTrip):
    crm = trip.sql(
        "select name, case when is_won then 'won' when is_lost then 'lost' else 'open' end, "
        "probability / 100.0 from crm_pipeline_stages order by order_index"
    )
    vocabulary = warehouse(
        trip,
        "select label, meaning, probability, position, origin from raw.vocabulary "
        "where field = 'opportunity_stages' order by position",
    )
    assert [(label, meaning, p) for label, meaning, p, _, _ in vocabulary] == [
        (name, meaning, pytest.approx(float(p))) for name, meaning, p in crm
    ]
    assert [position for *_, position, _ in vocabulary] == list(range(1, len(STAGES) + 1))
    assert {origin for *_, origin in vocabulary} == {"spec"}
    assert warehouse(
        trip, "select count(*) from quarantine.opportunities where reason_code = 'unknown_value'"
    ) == [(0,)]
    # the marts speak its stages: the open pipeline per stage, in its order
    pipeline = warehouse(
        trip,
        "select distinct stage, stage_order from marts.fct_pipeline_daily order by stage_order",
    )
    assert [s for s, _ in pipeline] == STAGES[:5]
    deals = warehouse(
        trip,
        "select stage, stage_position, stage_probability, count(*) from marts.fct_opportunities "
        "group by all order by stage_position",
    )
    assert [(s, p, q) for s, p, q, _ in deals] == [
        (name, i, pytest.approx(float(p))) for i, (name, _, p) in enumerate(crm, start=1)
    ]
    open_deals = trip.sql("select count(*) from crm_deals where status = 'open'")[0][0]
    assert sum(n for s, _, _, n in deals if s in STAGES[:5]) == open_deals


def test_scores_land_in_its_ai_columns_and_the_health_score(trip: RoundTrip):
    leads = dict(warehouse(trip, "select lead_id, score from publish.lead_scores"))
    published = dict(
        trip.sql("select id::text, ai_score from crm_leads where ai_score is not null")
    )
    assert published == leads and len(leads) > 100
    deals = dict(
        warehouse(
            trip, "select opportunity_id, round(100 * probability) from publish.opportunity_scores"
        )
    )
    in_crm = dict(
        trip.sql("select id::text, ai_probability from crm_deals where ai_probability is not null")
    )
    assert in_crm == {k: int(v) for k, v in deals.items()}
    assert trip.sql(
        "select count(*) from crm_deals where ai_probability is not null and status <> 'open'"
    ) == [(0,)]
    churn = dict(warehouse(trip, "select account_id, score from publish.churn_scores"))
    health = dict(
        trip.sql("select id::text, health_score from crm_customers where health_score is not null")
    )
    assert health == {account: 100 - score for account, score in churn.items()}
    assert len(health) > 10


def test_a_deals_ai_insight_is_one_jsonb_row_with_its_reasons(trip: RoundTrip):
    counts = dict(
        trip.sql(
            "select insight_type, count(*) from crm_ai_insights where source = 'crmlens' group by 1"
        )
    )
    assert counts == {
        "lead_score": len(warehouse(trip, "select 1 from publish.lead_scores")),
        "deal_probability": len(warehouse(trip, "select 1 from publish.opportunity_scores")),
        "churn_risk": len(warehouse(trip, "select 1 from publish.churn_scores")),
        "recommendation": len(warehouse(trip, "select 1 from publish.suggested_tasks")),
    }
    # What does the AI say about this deal, and why? — one row, to its owner.
    deal_id, score, reasons, flags = warehouse(
        trip,
        "select opportunity_id, score, reasons, risk_flags from publish.opportunity_scores "
        "order by opportunity_id limit 1",
    )[0]
    ((data, content, owner, deal_owner),) = trip.sql(
        "select i.data, i.content, i.user_id, d.user_id from crm_ai_insights i "
        "join crm_deals d on d.id = i.entity_id "
        "where i.insight_type = 'deal_probability' and i.entity_id = %s::uuid",
        [deal_id],
    )
    assert data["score"] == score
    # what and which way; the impact (against the average deal) is left out
    assert data["reasons"] == [
        {k: r[k] for k in ("group", "direction", "text")} for r in json.loads(reasons)
    ]
    assert data["risk_flags"] == json.loads(flags)
    assert {"probability", "confidence", "next_action", "trend", "scoring_path"} <= set(data)
    assert (data["risk_score"], data["risk_level"]) == tuple(
        warehouse(
            trip,
            "select risk_score, risk_level from publish.opportunity_scores "
            f"where opportunity_id = '{deal_id}'",
        )[0]
    )
    assert content.startswith(json.loads(reasons)[0]["text"].rstrip("."))
    assert owner == deal_owner


def test_alerts_name_the_deals_at_risk_and_the_customers_likely_to_churn(trip: RoundTrip):
    at_risk = {
        d
        for (d,) in warehouse(
            trip,
            "select opportunity_id from publish.opportunity_scores where risk_level = 'high'",
        )
    }
    alerts = {
        d
        for (d,) in trip.sql(
            "select entity_id::text from crm_alerts where alert_type = 'deal_at_risk' "
            "and source = 'crmlens'"
        )
    }
    assert alerts == at_risk and at_risk
    churning = {
        a
        for (a,) in warehouse(
            trip, "select account_id from publish.churn_scores where band <> 'cold'"
        )
    }
    assert {
        a
        for (a,) in trip.sql(
            "select entity_id::text from crm_alerts where alert_type = 'customer_health'"
        )
    } == churning
    assert trip.sql("select count(*) from crm_alerts where title is null or user_id is null") == [
        (0,)
    ]


def test_the_next_best_actions_are_recommendations_for_their_owners(trip: RoundTrip):
    tasks = warehouse(
        trip,
        "select entity_type, entity_id, task_id, subject, priority, due_date, owner_id "
        "from publish.suggested_tasks",
    )
    assert tasks
    kinds = {"lead": "lead", "opportunity": "deal", "account": "customer"}
    expected = {
        (kinds[kind], entity): (task, subject, priority, str(due), owner)
        for kind, entity, task, subject, priority, due, owner in tasks
    }
    rows = trip.sql(
        "select entity_type, entity_id::text, data ->> 'task_id', title, priority, "
        "data ->> 'due_date', user_id::text from crm_ai_insights "
        "where insight_type = 'recommendation' and source = 'crmlens'"
    )
    assert {(k, e): tuple(rest) for k, e, *rest in rows} == expected
    # What should I do this week? — a rep's recommendations due in the next 7 days.
    ((owner,),) = trip.sql(
        "select user_id from crm_ai_insights where insight_type = 'recommendation' "
        "group by 1 order by count(*) desc limit 1"
    )
    due = trip.sql(
        "select title, priority from crm_ai_insights where insight_type = 'recommendation' "
        "and user_id = %s and (data ->> 'due_date')::date < "
        "(select max((data ->> 'as_of')::timestamp)::date + 7 from crm_ai_insights) "
        "order by priority",
        [owner],
    )
    assert due


def actions(rows: list[tuple]) -> dict[tuple[str, str], tuple[str, str]]:
    """(entity type, id) -> (data, title) of recommendation rows."""
    return {(k, e): (json.dumps(d, sort_keys=True), t) for k, e, d, t in rows}


def test_a_vocabulary_select_that_fails_or_returns_bad_rows_is_one_line(
    trip: RoundTrip, tmp_path: Path
):
    def spec(select: str):
        path = tmp_path / "bad.yml"
        path.write_text(
            "name: bad_stages\nkind: postgres\n"
            f"dsn: '{trip.dsn}'\n"
            f'vocabularies:\n  opportunity_stages:\n    select: "{select}"\n'
            "tables:\n  users: {select: select id::text as user_id from auth.users}\n"
        )
        return load_spec(path)

    problems = {
        "select name as label from crm_pipeline_stage": "the select failed",
        "select name as label from crm_pipeline_stages": "no 'meaning' column",
        "select name as label, 'maybe' as meaning from crm_pipeline_stages": "row 1 ('Lead')",
        "select name as label, 'open' as meaning, probability as probability "
        "from crm_pipeline_stages order by order_index": "less than or equal to 1",
        "select 'Lead' as label, 'open' as meaning from crm_pipeline_stages": "declared twice",
        "select name as label, 'open' as meaning from crm_pipeline_stages where false": "no stages",
    }
    for select, said in problems.items():
        with pytest.raises(SpecError) as caught:
            read_vocabularies(spec(select))
        message = str(caught.value)
        assert "'bad_stages'" in message and said in message, message
        assert "\n" not in message


def test_a_second_run_after_one_lead_changed_writes_only_that_leads_rows(trip: RoundTrip):
    # A CRM user's own alert and insight: crmlens never touches rows it does not own.
    trip.sql(
        "insert into crm_alerts (alert_type, severity, title, source) "
        "values ('activity_gap', 'low', 'Call back the Acme lead', 'system')"
    )
    # An open lead with no company fit moves to the largest customer: its fit, hence its
    # rule score, rises; its change timestamp is the newest one already read, so the
    # data's today (and every other score) stays.
    recommendations = """select entity_type, entity_id::text, data, title from crm_ai_insights
        where insight_type = 'recommendation' order by 1, 2"""
    before_tasks = trip.sql(recommendations)
    ((lead, before),) = trip.sql(
        "select id::text, ai_score from crm_leads l where ai_score is not null "
        "and customer_id is null order by id limit 1"
    )
    trip.sql(
        "update crm_leads set customer_id = (select id from crm_customers "
        "where industry is not null order by employee_count desc nulls last limit 1), "
        "updated_at = (select max(updated_at) from crm_leads where updated_at <= now()) "
        "where id = %s::uuid",
        [lead],
    )
    started = time.perf_counter()
    ran = trip.crmlens("run", "--job", "daily")
    assert ran.returncode == 0, (ran.stdout[-3000:], ran.stderr[-3000:])
    seconds = time.perf_counter() - started
    ((after,),) = trip.sql("select ai_score from crm_leads where id = %s::uuid", [lead])
    assert after > before
    synced = trip.last_sync()
    print(f"\nbusiness_os second run: {seconds:.0f} s; {synced}")
    written = {table: counts for table, counts in synced.items() if counts != (0, 0, 0)}
    tasks = written.pop("crm_ai_insights (suggested_tasks)", (0, 0, 0))
    assert written == {
        "crm_leads (lead_scores)": (0, 1, 0),
        "crm_ai_insights (lead_scores)": (0, 1, 0),
    }
    # the lead's next best action may have changed with its score: no other one did
    assert sum(tasks) <= 2
    earlier, now = actions(before_tasks), actions(trip.sql(recommendations))
    changed = {key for key in set(earlier) | set(now) if earlier.get(key) != now.get(key)}
    assert changed <= {("lead", lead)}
    ((score,),) = trip.sql(
        "select (data ->> 'score')::int from crm_ai_insights "
        "where insight_type = 'lead_score' and entity_id = %s::uuid",
        [lead],
    )
    assert score == after
    assert trip.sql("select count(*) from crm_alerts where source = 'system'") == [(1,)]
