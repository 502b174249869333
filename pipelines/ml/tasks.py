"""``ml/suggested_tasks``: the families' next actions as tasks a CRM can assign
(:mod:`models.tasks`), after the day's scores."""

# No `from __future__ import annotations`: Dagster inspects the context annotation at runtime.
import time

import polars as pl
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from crmlens import sql as queries
from crmlens.clock import data_today
from crmlens.warehouse import replace_table, session, table_exists
from models import tasks
from pipelines.resources import CrmlensResource

TASKS_KEY = AssetKey(["ml", "suggested_tasks"])
# entity type -> (its score table, the query that adds what a task needs)
SOURCES = {
    "lead": ("lead_scores", "task_leads"),
    "opportunity": ("opportunity_scores", "task_opportunities"),
    "account": ("churn_scores", "task_accounts"),
}
NO_CONTACTS = (
    "(select null::varchar as contact_id, null::varchar as account_id, "
    "null::varchar as email, null::boolean as opt_in, null::boolean as do_not_contact "
    "where false)"
)


@asset(
    key=TASKS_KEY,
    group_name="ml",
    deps=[AssetKey(["ml", table]) for table, _ in SOURCES.values()],
    kinds={"duckdb"},
    description="Suggested tasks per lead, deal and customer (type, priority, due date, "
    "owner, reason, expiry), never a contact task for someone marked do-not-contact or "
    "not opted in.",
)
def suggested_tasks(context: AssetExecutionContext, crmlens: CrmlensResource) -> MaterializeResult:
    started = time.perf_counter()
    settings = crmlens.settings()
    with session(settings.warehouse_path) as con:
        today = data_today(con, settings.as_of)
        contacts = (
            "staging.stg_crm__contacts"
            if table_exists(con, "staging", "stg_crm__contacts")
            else NO_CONTACTS
        )
        con.execute(f"create or replace temp view _task_contact_rows as select * from {contacts}")
        con.execute(queries.load("pipelines.ml", "task_consent"))
        frames, held_back = [], {}
        for entity_type, (table, query) in SOURCES.items():
            if not table_exists(con, "ml", table):
                continue
            scored = con.sql(queries.load("pipelines.ml", query)).pl()
            found, blocked = tasks.suggest(
                entity_type, scored, scored_at=today, run_id=context.run_id
            )
            frames.append(found)
            held_back[entity_type] = blocked
        table = pl.concat(frames) if frames else tasks.empty()
        replace_table(con, "ml", "suggested_tasks", table)
    counts = table.group_by("entity_type", "priority").len().sort("entity_type", "priority")
    return MaterializeResult(
        metadata={
            "rows": table.height,
            "by_entity_and_priority": MetadataValue.json(
                {f"{e} {p}": n for e, p, n in counts.iter_rows()}
            ),
            "contact_tasks_held_back_for_consent": MetadataValue.json(held_back),
            "seconds": round(time.perf_counter() - started, 2),
        }
    )
