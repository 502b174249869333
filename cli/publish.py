"""``crmlens publish``: send the current scores to every target again, without rescoring.

The publish step of the pipeline on its own: ``ml.<table>`` → ``publish.<table>``,
the export folder, and PostgreSQL — the contract tables and, with a publish mapping
(``--mapping`` or ``CRMLENS_PUBLISH_MAPPING``), the CRM's own tables. Only the rows
that changed since the last publish are written. Useful after editing a mapping.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import click

from cli.console import console
from cli.errors import friendly_errors
from crmlens.settings import Settings


@click.command("publish")
@click.option(
    "--mapping",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A publish mapping onto the CRM's own tables [default: CRMLENS_PUBLISH_MAPPING].",
)
@click.option(
    "--table",
    "tables",
    multiple=True,
    help="Score table(s) to publish [default: every one the warehouse has].",
)
@click.pass_obj
@friendly_errors
def publish(settings: Settings, mapping: Path | None, tables: tuple[str, ...]) -> None:
    """Publish the current scores again: only the rows that changed are written."""
    from crmlens.publish.contract import SCORE_TABLES, score_table
    from crmlens.publish.mapping import load_mapping
    from crmlens.publish.run import publish as publish_table
    from crmlens.runlock import run_lock

    if mapping is not None:
        settings = settings.model_copy(update={"publish_mapping": mapping})
    if settings.publish_mapping:
        load_mapping(settings.publish_mapping)  # a mapping a user can fix fails here
    run_id = f"publish-{uuid.uuid4().hex[:12]}"
    with run_lock(settings.warehouse_path, "crmlens publish"):
        for table in [score_table(t) for t in tables] or list(SCORE_TABLES.values()):
            result = publish_table(settings, table, run_id)
            if not result.rows and not result.postgres:
                continue
            console.print(f"{table.name}: {result.rows:,} rows published")
            for sync in result.postgres:
                console.print(
                    f"  {sync.target.split('/')[-1]}: {sync.written:,} rows written "
                    f"({sync.inserted} inserted, {sync.updated} updated, {sync.deleted} deleted, "
                    f"{sync.unchanged} unchanged)"
                )
