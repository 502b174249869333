"""``crmlens init DIR``: a starter source spec from a folder of CRM exports."""

from __future__ import annotations

from pathlib import Path

import click

from cli.console import console
from cli.errors import friendly_errors


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("crmlens_spec.yml"),
    show_default=True,
    help="Where to write the spec.",
)
@click.option("--name", default=None, help="The spec's name [default: the folder's name].")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@friendly_errors
def init(folder: Path, out: Path, name: str | None, force: bool) -> None:
    """Write a starter spec for the exports in FOLDER (Salesforce, HubSpot, Pipedrive, Zoho…).

    Each file's name and headers decide its canonical table; headers are mapped onto
    canonical columns, the rest become custom attributes. Lines it guessed say so.
    """
    from crmlens.sources.starter import starter_spec

    if out.exists() and not force:
        raise click.UsageError(f"{out} exists; pass --force to overwrite it or --out elsewhere")
    text, notes = starter_spec(folder, name)
    out.write_text(text)
    for note in notes:
        console.print(f"  {note}", soft_wrap=True)
    console.print(
        f"wrote {out}: review the lines marked `guessed` and `TODO`, then\n"
        f"  crmlens run --spec {out} --root {folder}"
    )
