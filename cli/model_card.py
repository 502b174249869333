"""``crmlens model-card --family NAME``: the champion's model card, from MLflow."""

from __future__ import annotations

import json

import click
from rich.markdown import Markdown

from cli.console import console
from cli.errors import friendly_errors
from crmlens.settings import Settings

FAMILIES = ("lead_scoring", "deal_scoring", "churn")


@click.command("model-card")
@click.option(
    "--family",
    "family_name",
    type=click.Choice(FAMILIES),
    default="lead_scoring",
    show_default=True,
    help="The model family.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the card as JSON.")
@click.pass_obj
@friendly_errors
def model_card(settings: Settings, family_name: str, as_json: bool) -> None:
    """Print the model card of a family's champion (or, without one, of its newest run):
    data window, split, metrics with intervals, calibration, top features, known limits,
    and the cold-start and no-signal verdicts."""
    from models.common import card
    from models.families import family

    spec = family(family_name)
    found, source = card.read(settings, spec.family)
    if found is None:
        console.print(f"{source}: no model card (train first: crmlens run)", soft_wrap=True)
        return
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    console.print(f"[dim]{source}[/]", soft_wrap=True)
    console.print(Markdown(card.markdown(found)))
