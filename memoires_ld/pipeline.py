"""Import stages put together: read a source, map each fiche, validate it, write `data/`.

All or nothing: if one fiche cannot be read or does not conform, nothing is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF

from . import datadir, validation
from .errors import InvalidFiche
from .iris import DEFAULT_BASE, Iris
from .mapping import map_fiche
from .namespaces import SCHEMA, bind_prefixes
from .record import FicheRecord

if TYPE_CHECKING:
    from .importers.changes import Summary


@dataclass
class ImportResult:
    fiches: dict[str, Graph]
    report: validation.Report
    written_to: Path | None = None

    @property
    def warnings(self) -> list[validation.Result]:
        return self.report.warnings


def provenance(run: URIRef, source_name: str, source_bytes: bytes) -> Graph:
    """Describe the import run (PROV-O) without a clock: the same source gives the same data."""
    g = bind_prefixes(Graph())
    source = URIRef(f"{run}#source")
    g.add((run, RDF.type, PROV.Activity))
    g.add((run, PROV.used, source))
    g.add((source, RDF.type, PROV.Entity))
    g.add((source, DCTERMS.title, Literal(source_name)))
    g.add((source, SCHEMA.sha256, Literal(hashlib.sha256(source_bytes).hexdigest())))
    return g


def map_and_validate(
    records: Iterable[FicheRecord],
    iris: Iris,
    run: URIRef,
    *,
    progress: Callable[[list[Graph]], Iterable[Graph]] = list,
) -> ImportResult:
    """Map every record and validate each fiche; raise InvalidFiche if any does not conform.

    `progress` wraps the graphs being validated (the slow part), e.g. with a progress bar.
    """
    fiches: dict[str, Graph] = {}
    for record in records:
        fiches[record.tag] = map_fiche(record, iris, import_run=run)
    report = validation.validate_many(progress(list(fiches.values())))
    if not report.conforms:
        raise InvalidFiche(
            f"{len(report.violations)} violation(s) des formes SHACL : rien n'a été écrit.\n"
            + validation.report_text(report),
            report=report,
        )
    return ImportResult(fiches=fiches, report=report)


#: Pages of the Osons wiki, as its own links write them (e.g. `wakka.php?wiki=PageTest`).
OSONS_WIKI = "http://osons.cc/wakka.php?wiki="


def import_listing(source: Path, data_dir: Path, *, wiki: str = OSONS_WIKI) -> ImportResult:
    """Import the YesWiki listing page `source` into `data_dir`, replacing its fiches.

    `wiki` is the address of the source wiki's pages, to which the page name is appended:
    each fiche links back to the page it was read from.
    """
    from .authors import load_aliases
    from .importers.listing import parse_listing

    raw = source.read_bytes()
    records = parse_listing(raw.decode("utf-8"), aliases=load_aliases(data_dir / "aliases.csv"))
    for record in records:
        record.source = wiki + record.tag
    iris = Iris(DEFAULT_BASE)
    run = iris.import_run("listing-" + hashlib.sha256(raw).hexdigest()[:12])
    result = map_and_validate(records, iris, run)
    result.written_to = datadir.write(data_dir, result.fiches, provenance(run, source.name, raw))
    return result


def import_yeswiki(
    base_url: str,
    data_dir: Path,
    *,
    form_id: str | None = None,
    mapping: Path | None = None,
    full: bool = False,
    timeout: float = 30.0,
    max_bytes: int = 50 * 1024 * 1024,
    progress: Callable[[list, str], Iterable] | None = None,
) -> tuple[ImportResult, Summary]:
    """Import a Bazar form of the YesWiki at `base_url` into `data_dir`, all or nothing.

    Only new entries and entries whose `date_maj_fiche` changed are mapped (all of them with
    `full`); the other fiches are kept; fiches the wiki no longer publishes are retired.
    `mapping` is the mapping file (default: the Osons form's); `progress(items, label)` wraps
    the entries being read, then the fiches being validated (the CLI shows progress bars).
    """
    from .authors import load_aliases
    from .importers import changes, yeswiki
    from .importers.bazar_mapping import load_mapping
    from .importers.wikiclient import WikiClient

    spec = load_mapping(mapping)
    client = WikiClient(base_url, timeout=timeout, max_bytes=max_bytes)
    wiki = yeswiki.read_wiki(client, form_id or spec.form_id)
    reading = yeswiki.plan_fields(wiki.form, spec, wiki.entries.values())
    existing = changes.existing_fiches(data_dir)
    plan = changes.compare(wiki, existing, full=full)
    aliases = load_aliases(data_dir / "aliases.csv")
    show = progress or (lambda items, label: items)
    records = [
        yeswiki.entry_record(wiki.entries[tag], wiki.form, reading, base_url, aliases)
        for tag in show(plan.to_map, "Lecture des fiches")
    ]
    raw = b"".join(body for _, body in client.answers)
    iris = Iris(DEFAULT_BASE)
    run = iris.import_run("yeswiki-" + hashlib.sha256(raw).hexdigest()[:12])
    result = map_and_validate(
        records, iris, run, progress=lambda graphs: show(graphs, "Validation des fiches")
    )
    source = f"{client.prefix} (YesWiki {wiki.generation}), formulaire {wiki.form.id}"
    summary = changes.Summary(
        f"{source} « {wiki.form.label} »",
        plan,
        reading.left_out,
        {r.tag: r.notes for r in records if r.notes},
    )
    if plan.to_map or plan.retired:
        kept = {tag: existing[tag] for tag in plan.unchanged}
        run_graph = changes.merged_provenance(data_dir, kept, provenance(run, source, raw))
        result.written_to = datadir.write(data_dir, {**kept, **result.fiches}, run_graph)
        summary.written = result.written_to
    return result, summary
