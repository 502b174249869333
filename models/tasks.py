"""Suggested tasks: what a rep or a customer success manager should do, as rows a CRM
can put on someone's task list.

Each family's next action (:mod:`models.lead_scoring`, :mod:`models.deal_scoring`,
:mod:`models.churn`) that is a person's job becomes one task per entity: its type
(call, e-mail, meeting or an internal review), priority, due date and expiry counted
from the data's today, its owner (the entity's owner in the CRM) and its reason (the
score and the strongest reason behind it). Actions that are marketing's or that need
nothing ("Add to a nurture sequence", "Keep the regular check-ins") make no task.

A task that contacts a person (call, e-mail, meeting) is never suggested for someone
marked do-not-contact or not opted in: for a lead, its contact (by id, else by e-mail);
for a deal or an account, the account's contacts — blocked when it has contacts and
none may be contacted. Where the source records consent for some people, a person
without it counts as not opted in; a source that records none blocks nobody for it.

``task_id`` is stable (a hash of the entity, the task type and the action), so a daily
run that suggests the same task does not rewrite it, and a task no longer suggested
disappears from a mapping that owns its rows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import polars as pl

CALL, EMAIL, MEETING, REVIEW = "call", "email", "meeting", "review"
CONTACTS = (CALL, EMAIL, MEETING)  # task types that reach a person
HIGH, MEDIUM, LOW = "high", "medium", "low"
EXPIRES_AFTER_DAYS = 7  # a task not done this long after its due date is stale


@dataclass(frozen=True)
class Task:
    """The task a next action becomes."""

    task_type: str
    priority: str
    due_days: int


# next action (the families' texts) -> task; actions not listed make no task.
TASKS: dict[str, dict[str, Task]] = {
    "lead": {
        "Book the demo they asked for": Task(MEETING, HIGH, 1),
        "Confirm the demo date": Task(EMAIL, MEDIUM, 2),
        "Call today": Task(CALL, HIGH, 0),
        "Follow up this week": Task(EMAIL, MEDIUM, 5),
    },
    "opportunity": {
        "Book a meeting with the decision maker this week": Task(MEETING, HIGH, 5),
        "Confirm the close date with the buyer": Task(CALL, HIGH, 2),
        "Call the buyer to restart the conversation": Task(CALL, HIGH, 2),
        "Bring in a second stakeholder": Task(MEETING, MEDIUM, 7),
        "Agree the remaining steps and a signature date": Task(MEETING, MEDIUM, 7),
        "Book the next meeting to move it forward": Task(MEETING, MEDIUM, 7),
        "Requalify: confirm need, budget and timing": Task(CALL, LOW, 14),
    },
    "account": {
        "Escalate the open urgent tickets": Task(REVIEW, HIGH, 1),
        "Schedule a health check with the champion before renewal": Task(MEETING, HIGH, 7),
        "Review billing with finance": Task(REVIEW, MEDIUM, 7),
        "Book an adoption session with the users": Task(MEETING, MEDIUM, 14),
        "Review seat needs with the champion": Task(CALL, MEDIUM, 14),
        "Schedule a health check with the champion": Task(MEETING, MEDIUM, 14),
        "Prepare the renewal": Task(REVIEW, LOW, 30),
    },
}
WHAT = {"lead": "Lead score", "opportunity": "Win chance", "account": "Churn risk"}

SCHEMA = {
    "task_id": pl.String,
    "entity_type": pl.String,
    "entity_id": pl.String,
    "task_type": pl.String,
    "subject": pl.String,
    "priority": pl.String,
    "due_date": pl.Date,
    "owner_id": pl.String,
    "reason": pl.String,
    "expires_at": pl.Datetime("us"),
    "as_of": pl.Datetime("us"),
    "scored_at": pl.Datetime("us"),
    "valid_until": pl.Datetime("us"),
    "run_id": pl.String,
}


def suggest(
    entity_type: str, scored: pl.DataFrame, *, scored_at: datetime, run_id: str
) -> tuple[pl.DataFrame, int]:
    """The tasks one family's scores suggest.

    Args:
        entity_type: ``lead``, ``opportunity`` or ``account``.
        scored: one row per scored entity: ``entity_id``, ``name``, ``owner_id``,
            ``score``, ``next_action``, ``reasons`` (JSON), ``as_of``, ``valid_until``,
            ``contactable`` (False: do-not-contact or not opted in), and for deals
            ``risk_level``.
        scored_at: when the scores were made.
        run_id: the run.

    Returns:
        The tasks (:data:`SCHEMA`), and how many contact tasks consent held back.
    """
    actions = TASKS[entity_type]
    table = pl.DataFrame(
        {
            "next_action": list(actions),
            "task_type": [t.task_type for t in actions.values()],
            "priority": [t.priority for t in actions.values()],
            "due_days": [t.due_days for t in actions.values()],
        }
    )
    rows = scored.join(table, on="next_action", how="inner")
    reaches = pl.col("task_type").is_in(CONTACTS)
    blocked = rows.filter(reaches & ~pl.col("contactable").fill_null(True)).height
    rows = rows.filter(~reaches | pl.col("contactable").fill_null(True))
    if "risk_level" in rows.columns:  # a deal at high risk is a high-priority task
        rows = rows.with_columns(
            priority=pl.when(pl.col("risk_level") == HIGH)
            .then(pl.lit(HIGH))
            .otherwise(pl.col("priority"))
        )
    name = pl.col("name").fill_null(pl.col("entity_id"))
    first_reason = pl.col("reasons").str.json_path_match("$[0].text")
    reason = pl.format("{}: {}/100", pl.lit(WHAT[entity_type]), pl.col("score"))
    reason = (
        pl.when(first_reason.is_not_null())
        .then(pl.format("{}. {}.", reason, first_reason.str.strip_chars_end(".")))
        .otherwise(pl.format("{}.", reason))
    )
    due = pl.col("as_of").dt.date() + pl.duration(days=pl.col("due_days"))
    identity = rows.select(
        pl.concat_str(
            [pl.lit(entity_type), pl.col("entity_id"), pl.col("task_type"), pl.col("next_action")],
            separator="|",
        )
    ).to_series()
    ids = [f"T-{hashlib.sha1(v.encode()).hexdigest()[:16]}" for v in identity.to_list()]
    out = rows.select(
        task_id=pl.Series(ids, dtype=pl.String),
        entity_type=pl.lit(entity_type),
        entity_id=pl.col("entity_id"),
        task_type=pl.col("task_type"),
        subject=pl.format("{} — {}", pl.col("next_action"), name),
        priority=pl.col("priority"),
        due_date=due,
        owner_id=pl.col("owner_id"),
        reason=reason,
        expires_at=(due + pl.duration(days=EXPIRES_AFTER_DAYS)).cast(pl.Datetime("us")),
        as_of=pl.col("as_of").cast(pl.Datetime("us")),
        scored_at=pl.lit(scored_at).cast(pl.Datetime("us")),
        valid_until=pl.col("valid_until").cast(pl.Datetime("us")),
        run_id=pl.lit(run_id),
    )
    return out.cast(SCHEMA), blocked


def empty() -> pl.DataFrame:
    """No tasks, in :data:`SCHEMA`."""
    return pl.DataFrame(schema=SCHEMA)
