"""The YesWiki commands: `memoires-ld import yeswiki` and `memoires-ld export yeswiki`.

They wrap `pipeline.import_yeswiki` and `exporters.yeswiki`; `cli.py` registers them.
Exit codes as everywhere: 0 done, 1 a fiche does not conform, 2 error (nothing written).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import click

from . import validation

MAPPING_HELP = (
    "Mapping file (TOML) from the form's fields and list keys to fiches "
    "(default: mappings/osons-memoires-action.toml)."
)
T = TypeVar("T")
FORM_HELP = "Bazar form id (bn_id_nature); default: the [form] id of the mapping file."


def _progress(items: list[T], label: str) -> Iterator[T]:
    """A progress bar on standard error (the entries being read, the fiches being validated)."""
    with click.progressbar(items, label=label, file=sys.stderr) as bar:
        yield from bar


@click.command("yeswiki")
@click.argument("base_url", metavar="BASE_URL")
@click.option("--form", "form_id", metavar="ID", help=FORM_HELP)
@click.option(
    "--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path), help=MAPPING_HELP
)
@click.option("--full", is_flag=True, help="Map every entry again, even unchanged ones.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.01),
    default=30.0,
    show_default=True,
    help="Seconds to wait for each answer of the wiki.",
)
@click.option(
    "--max-mb",
    type=click.FloatRange(min=0.001),
    default=50.0,
    show_default=True,
    help="Largest answer accepted from the wiki, in megabytes.",
)
@click.pass_context
def import_yeswiki(
    ctx: click.Context,
    base_url: str,
    form_id: str | None,
    mapping: Path | None,
    full: bool,
    timeout: float,
    max_mb: float,
):
    """Import a Bazar form of a live YesWiki into data/rdf.

    BASE_URL is the address of the wiki's pages (https://site/?, https://site/wakka.php?wiki=
    or https://site/). The 4.x API
    (?api/forms/ID) is read, else the 2018 JSON handler (?BazaR/json). New entries and
    entries whose date_maj_fiche changed are mapped and validated, the others kept; fiches
    the wiki no longer publishes are retired. All or nothing: on an error (exit 2) or a
    violation (exit 1) data/ is left as it was. Only BASE_URL is contacted.

    \b
    Example:
        memoires-ld import yeswiki 'https://osons.cc/wakka.php?wiki=' --form 5
    """
    from .pipeline import import_yeswiki as run

    result, summary = run(
        base_url,
        Path(ctx.obj["DATA_DIR"]),
        form_id=form_id,
        mapping=mapping,
        full=full,
        timeout=timeout,
        max_bytes=int(max_mb * 1024 * 1024),
        progress=_progress,
    )
    for line in summary.lines():
        click.echo(line)
    warnings = result.report.warnings
    click.echo(
        f"{len(result.fiches)} fiche(s) validée(s), 0 violation, {len(warnings)} avertissement(s)."
    )
    if warnings:
        click.echo(validation.report_text(result.report))


@click.group("export")
def export():
    """Write the published fiches in the format of a source."""


@export.command("yeswiki")
@click.option("--form", "form_id", metavar="ID", help=FORM_HELP)
@click.option(
    "--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path), help=MAPPING_HELP
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: standard output).",
)
@click.pass_context
def export_yeswiki(
    ctx: click.Context, form_id: str | None, mapping: Path | None, output: Path | None
):
    """Write the fiches of data/rdf as YesWiki Bazar entries.

    The JSON has the shape of ?api/forms/ID/entries (YesWiki 4.x): an object keyed by page
    name. What an entry cannot carry is listed on standard error.

    \b
    Example:
        memoires-ld export yeswiki --form 5 --output entries.json
    """
    from .exporters.records import read_records
    from .exporters.yeswiki import export_entries, to_json
    from .importers.bazar_mapping import load_mapping

    records = list(read_records(Path(ctx.obj["DATA_DIR"])))
    entries, losses = export_entries(records, load_mapping(mapping), form_id)
    if output is None:
        click.echo(to_json(entries), nl=False)
    else:
        output.write_text(to_json(entries), encoding="utf-8")
    for line in losses:
        click.echo(line, err=True)
    click.echo(
        f"{len(entries)} fiche(s) exportée(s), {len(losses)} perte(s) signalée(s).", err=True
    )
