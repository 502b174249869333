"""TrustCart ERP's CRM module (seed 004) round trip on the local PostgreSQL.

Its fixture database (TypeORM tables, camelCase columns, enum types) is read through
``crmlens/specs/erp_crm.yml``, the daily job runs, and the scores come back through
``crmlens/specs/publish_erp_crm.yml`` into the ERP's own rows: a deal's AI win
probability beside the rep's, a lead's Hot/Warm/Cold beside the agent's, a customer's
health and churn risk. Then one lead changes in the ERP, and a second run writes only it.
"""

from __future__ import annotations

import time

import duckdb
import pytest

from tests.systems_support import RoundTrip, system_trip

pytestmark = pytest.mark.postgres

STAGE_PROBABILITY = {"lead": 10, "qualified": 30, "proposal": 60, "negotiation": 80}
LEAD_SCORE_COLUMNS = (
    '"leadScore", "leadGrade", "fitScore", "engagementScore", "intentScore", "aiPriority", '
    'qualification, "scoreReasons", "scoreTrend", "nextAction", "scoredAt"'
)
CRMLENS_TASKS = (
    'select "externalId", "leadId", row(title, description, category, priority, "dueDate", '
    '"assigneeId", "leadId", "dealId", "customerId", "expiresAt")::text from tasks '
    "where source = 'crmlens'"
)


trip = system_trip("erp_crm")


@pytest.fixture(scope="module")
def second(trip: RoundTrip) -> dict:
    """One open lead confirms its budget and decision maker in the ERP; the job runs again.

    The lead is one with a suggested task where there is one: its task's reason quotes the
    score, so it is rewritten too.
    """
    lead_id, before, has_task = trip.sql(
        'select l.id, l."leadScore", exists (select 1 from tasks t where t.source = '
        "'crmlens' and t.\"leadId\" = l.id) as has_task from leads l "
        "where l.\"aiPriority\" is not null and l.status = 'active' "
        'and not (coalesce(l."budgetConfirmed", false) and coalesce(l."decisionMaker", false)) '
        'and l."leadScore" < 90 '
        "order by has_task desc, l.id limit 1"
    )[0]
    scores_before = dict(trip.sql(f"select id, row({LEAD_SCORE_COLUMNS})::text from leads"))
    deals_before = trip.sql('select id, "aiWinProbability", "aiScoredAt" from deals order by id')
    tasks_before = trip.sql(CRMLENS_TASKS)
    # The change keeps the ERP's newest change time, so crmlens's as-of date stays.
    trip.sql(
        'update leads set "budgetConfirmed" = true, "decisionMaker" = true, '
        '"updatedAt" = (select max("updatedAt") '
        'from leads where "updatedAt" <= now()) where id = %s',
        [lead_id],
    )
    started = time.perf_counter()
    ran = trip.crmlens("run", "--spec", str(trip.system.spec), "--job", "daily")
    seconds = time.perf_counter() - started
    assert ran.returncode == 0, (ran.stdout[-3000:], ran.stderr[-3000:])
    print(f"\nerp_crm second run: {seconds:.0f} s; sync: {trip.last_sync()}")
    return {
        "lead_id": lead_id,
        "has_task": has_task,
        "score_before": before,
        "scores_before": scores_before,
        "deals_before": deals_before,
        "tasks_before": tasks_before,
        "sync": trip.last_sync(),
        "seconds": seconds,
    }


def test_fixture_is_the_erps_schema(trip: RoundTrip) -> None:
    counts = trip.counts
    assert counts["public.leads"] > 1000 and counts["public.deals"] > 200
    assert counts["public.engagement_history"] > 50_000 and counts["public.tasks"] > 0
    # TypeORM's enums hold the ERP's own labels; its relations point at existing rows.
    stages = {s for (s,) in trip.sql("select distinct stage from deals")}
    assert {"lead", "qualified", "proposal", "negotiation", "won", "lost"} <= stages
    assert (
        trip.sql(
            "select count(*) from deals d where not exists (select 1 from deal_stages s "
            "where s.name = d.stage)"
        )[0][0]
        <= 2
    )  # the synthetic CRM's dirty stages
    orphans = trip.sql(
        'select (select count(*) from leads l where "assignedToId" is not null and not exists '
        '(select 1 from users u where u.id = l."assignedToId")), '
        '(select count(*) from tasks t where "dealId" is not null and not exists '
        '(select 1 from deals d where d.id = t."dealId"))'
    )[0]
    assert orphans == (0, 0)
    # Status and its deal stage agree: a won deal is in the won stage.
    assert trip.sql("select count(*) from deals where status = 'won' and stage <> 'won'")[0][0] == 0


def test_ingest_keeps_the_erps_labels(trip: RoundTrip) -> None:
    # The ERP's stages, statuses and activity types are declared: no row is quarantined for
    # one of them (only the synthetic CRM's seeded defects are, e.g. a "Closed Wonn" stage).
    erp_labels = {
        "stage": {*STAGE_PROBABILITY, "won", "lost"},
        "from_stage": {*STAGE_PROBABILITY, "won", "lost"},
        "to_stage": {*STAGE_PROBABILITY, "won", "lost"},
        "status": {"active", "inactive", "closed", "converted"},
        "activity_type": {"call", "email", "meeting", "note", "sms", "whatsapp", "demo", "task"},
    }
    con = duckdb.connect(str(trip.home / "serving" / "current.duckdb"), read_only=True)
    try:
        unknown = con.execute(
            "select column_name, record ->> column_name from quarantine.opportunities "
            "where reason_code = 'unknown_value' union all "
            "select column_name, record ->> column_name from quarantine.opportunity_stage_history "
            "where reason_code = 'unknown_value' union all "
            "select column_name, record ->> column_name from quarantine.leads "
            "where reason_code = 'unknown_value' union all "
            "select column_name, record ->> column_name from quarantine.activities "
            "where reason_code = 'unknown_value'"
        ).fetchall()
        loaded = con.execute("select count(*) from raw.opportunities").fetchone()[0]
    finally:
        con.close()
    assert loaded > 250
    assert not [(c, v) for c, v in unknown if v in erp_labels.get(c, set())], unknown


def test_deal_win_probability_beside_the_reps(trip: RoundTrip) -> None:
    rows = trip.sql(
        'select id, stage, status, probability, "aiWinProbability", "aiInsight", "aiRiskFlags", '
        '"aiScoredAt" from deals'
    )
    open_deals = [r for r in rows if r[2] == "open" and r[1] in STAGE_PROBABILITY]
    assert open_deals
    for _id, stage, _status, rep, ai, insight, flags, scored in open_deals:
        assert rep == STAGE_PROBABILITY[stage]  # the rep's own, untouched
        assert 0 <= ai <= 100 and insight and insight.endswith(".") and scored is not None
        assert isinstance(flags, list)
    assert all(r[4] is None for r in rows if r[2] != "open")  # closed deals carry no AI score
    # "Which deals does the AI rate higher than the rep?" — plain SQL on the ERP's table.
    differ = trip.sql(
        "select count(*) from deals where status = 'open' and \"aiWinProbability\" <> probability"
    )[0][0]
    assert differ > 0
    # Weighted pipeline per rep, by the rep's and by crmlens's probability.
    pipeline = trip.sql(
        'select "ownerId", sum(value * probability / 100.0), sum(value * "aiWinProbability" / '
        "100.0) from deals where status = 'open' group by 1"
    )
    assert pipeline and all(ai is not None for _, _, ai in pipeline)


def test_lead_priority_hot_warm_cold(trip: RoundTrip) -> None:
    # Reports: the Hot/Warm/Cold distribution of the open leads, by crmlens's priority.
    by_priority = dict(
        trip.sql(
            "select \"aiPriority\"::text, count(*) from leads where status <> 'closed' "
            'and "aiPriority" is not null group by 1'
        )
    )
    assert set(by_priority) <= {"hot", "warm", "cold"} and by_priority.get("cold", 0) > 0
    assert sum(by_priority.values()) > 400
    assert (
        trip.sql(
            "select count(*) from leads where status = 'closed' and \"leadScore\" is not null"
        )[0][0]
        == 0
    )
    # Beside the agent's priority, never over it: the fixture's values stand.
    assert (
        trip.sql(
            "select count(*) from leads where priority is distinct from case timeline "
            "when 'this_quarter' then 'hot'::leads_priority_enum when 'next_quarter' then 'warm' "
            "when 'this_year' then 'cold' end"
        )[0][0]
        == 0
    )
    hot = trip.sql(
        'select "leadScore", "leadGrade", qualification::text, "scoreReasons" from leads '
        'where "aiPriority" = \'hot\' order by "leadScore" desc limit 1'
    )[0]
    assert hot[1] == "A" and hot[2] in ("MQL", "SQL", "none") and hot[3]


def test_customer_health_and_tier(trip: RoundTrip) -> None:
    rows = trip.sql(
        'select c.id, c."healthScore", c."churnRisk", c."churnRiskLevel"::text, c.tier::text, '
        'c."lifetimeValue" from customers c'
    )
    scored = [r for r in rows if r[1] is not None]
    assert scored
    for _id, health, risk, level, _tier, _ltv in scored:
        assert health == 100 - risk and level in ("low", "medium", "high")
    # Scored: the customers with a live contract.
    live = {
        i
        for (i,) in trip.sql(
            'select distinct "customerId" from customer_contracts where status in '
            "('active', 'overdue', 'trial') and \"endDate\" is null"
        )
    }
    assert {r[0] for r in scored} <= {
        i for (i,) in trip.sql('select distinct "customerId" from customer_contracts')
    }
    assert len({r[0] for r in scored} & live) > 0
    # The value tier is the ERP's own (from lifetime value), not a churn band.
    for _id, _h, _r, _l, tier, ltv in rows:
        expected = (
            "platinum" if ltv >= 50000 else "gold" if ltv >= 10000
            else "silver" if ltv >= 1000 else "bronze" if ltv > 0 else None
        )  # fmt: skip
        assert tier == expected


def test_second_run_writes_only_the_changed_lead(trip: RoundTrip, second: dict) -> None:
    sync = second["sync"]
    assert sync["leads (lead_scores)"] == (0, 1, 0), sync
    assert sync["deals (opportunity_scores)"] == (0, 0, 0), sync
    assert sync["customers (churn_scores)"] == (0, 0, 0), sync
    after = dict(trip.sql(f"select id, row({LEAD_SCORE_COLUMNS})::text from leads"))
    changed = [i for i in after if after[i] != second["scores_before"].get(i)]
    assert changed == [second["lead_id"]]
    score = trip.sql('select "leadScore" from leads where id = %s', [second["lead_id"]])[0][0]
    assert score > second["score_before"]  # a confirmed budget or decision maker raises it
    deals_after = trip.sql('select id, "aiWinProbability", "aiScoredAt" from deals order by id')
    assert deals_after == second["deals_before"]
    # Suggested tasks: only the changed lead's may move, and only they are written.
    before = {k: (lead, row) for k, lead, row in second["tasks_before"]}
    tasks_after = {k: (lead, row) for k, lead, row in trip.sql(CRMLENS_TASKS)}
    moved = {k for k in before.keys() | tasks_after.keys() if before.get(k) != tasks_after.get(k)}
    assert {(before.get(k) or tasks_after.get(k))[0] for k in moved} <= {second["lead_id"]}
    assert sum(sync.get("tasks (suggested_tasks)", (0, 0, 0))) == len(moved), (sync, moved)
    assert bool(moved) == second["has_task"], (moved, second["has_task"])


def test_deal_risk(trip: RoundTrip) -> None:
    rows = trip.sql(
        'select "aiRiskScore", "aiRiskLevel"::text, "aiRiskTrend" from deals '
        "where status = 'open' and \"aiWinProbability\" is not null"
    )
    assert rows
    for score, level, trend in rows:
        assert level == ("high" if score >= 60 else "medium" if score >= 35 else "low")
        assert trend in ("rising", "steady", "falling", "not enough history")


def test_lead_components(trip: RoundTrip) -> None:
    rows = trip.sql(
        'select "fitScore", "engagementScore", "intentScore" from leads where "leadScore" is not null'
    )
    assert rows and all(all(0 <= v <= 100 for v in r) for r in rows)
    assert len({r[0] for r in rows}) > 1  # the fit differs between leads


def test_suggested_tasks_are_erp_tasks(trip: RoundTrip) -> None:
    rows = trip.sql(
        'select category, priority::text, status::text, "dueDate", "expiresAt", title, '
        'description, "leadId", "dealId", "customerId", "assigneeId" from tasks '
        "where source = 'crmlens'"
    )
    assert len(rows) > 10
    for category, priority, status, due, expires, title, reason, *about, _assignee in rows:
        assert category in ("call", "email", "meeting", "review")
        assert priority in ("high", "medium", "low") and status == "pending"
        assert due is not None and expires.date() > due and title and reason
        assert sum(x is not None for x in about) == 1  # one lead, deal or customer
    # Assigned to the owner of what they are about.
    assert (
        trip.sql(
            'select count(*) from tasks t join leads l on l.id = t."leadId" '
            'where t.source = \'crmlens\' and t."assigneeId" is distinct from l."assignedToId"'
        )[0][0]
        == 0
    )
    # The reps' own tasks stand beside them.
    assert (
        trip.sql("select count(*) from tasks where source = 'manual'")[0][0]
        == trip.counts["public.tasks"]
    )
    # An agent's list: open tasks due in the week, highest priority first (plain SQL).
    week = trip.sql(
        "with today as (select min(\"dueDate\") as d from tasks where source = 'crmlens') "
        'select "assigneeId", title, priority::text, "dueDate" from tasks, today '
        "where status = 'pending' and \"dueDate\" between today.d and today.d + 6 "
        'and "assigneeId" = (select "assigneeId" from tasks where source = \'crmlens\' '
        'and "assigneeId" is not null group by 1 order by count(*) desc limit 1) '
        "order by array_position(array['urgent', 'high', 'medium', 'low'], priority::text), "
        '"dueDate"'
    )
    assert week and len({r[0] for r in week}) == 1
    # Nobody marked do-not-contact, or who declined marketing, is to be called or written to.
    barred = trip.sql(
        'select count(*) from tasks t join leads l on l.id = t."leadId" '
        'join customer_contacts c on c.id = l."contactId" '
        "where t.source = 'crmlens' and t.category in ('call', 'email', 'meeting') "
        'and (c."doNotContact" or c."marketingOptIn" = false)'
    )[0][0]
    assert barred == 0
