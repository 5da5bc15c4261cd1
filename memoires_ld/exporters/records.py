"""Read a published fiche back into a `FicheRecord`: the inverse of `mapping.map_fiche`.

Facet values come back in the form's order, years in ascending order; the description is
read from `schema:articleBody` (`htmlblocks`), its images from the fiche's numbered image
nodes. What a record does not hold (types, labels, the import run) is not read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, SKOS

from .. import datadir, vocabulary
from ..importers.htmlblocks import html_blocks
from ..iris import DEFAULT_BASE, Iris
from ..mapping import AGENT_TYPES, LINK_PROPERTIES
from ..namespaces import MLD, PAIR, SCHEMA
from ..record import Agent, Block, FicheRecord, Link


def read_records(data_dir: Path) -> Iterator[FicheRecord]:
    """The fiches of a data folder as records, by tag."""
    iris = Iris(DEFAULT_BASE)
    for tag, graph in datadir.read_fiches(data_dir, DEFAULT_BASE):
        yield read_record(graph, tag, iris)


def read_record(graph: Graph, tag: str, iris: Iris) -> FicheRecord:
    fiche, action = iris.fiche(tag), iris.action(tag)
    record = FicheRecord(
        tag=str(graph.value(fiche, DCTERMS.identifier) or tag),
        title=str(graph.value(fiche, DCTERMS.title) or ""),
        natures=_concepts(graph, action, DCTERMS.type, "nature"),
        participants=_concepts(graph, action, MLD.participants, "participants"),
        durations=_concepts(graph, action, DCTERMS.extent, "duree"),
        status=_iri(graph.value(action, PAIR.hasStatus)),
        success=_iri(graph.value(action, MLD.reussite)),
        years=sorted(int(str(year)) for year in graph.objects(action, DCTERMS.temporal)),
        authors_raw=str(graph.value(fiche, SCHEMA.creditText) or ""),
        authors=_agents(graph, graph.objects(fiche, SCHEMA.author)),
        contributors=_agents(graph, graph.objects(action, SCHEMA.contributor)),
        licence=_iri(graph.value(fiche, DCTERMS.license)),
        created=_datetime(graph.value(fiche, DCTERMS.created)),
        modified=_datetime(graph.value(fiche, DCTERMS.modified)),
        notes=sorted(str(note) for note in graph.objects(fiche, SKOS.editorialNote)),
    )
    source = graph.value(fiche, DCTERMS.source)
    record.source = str(source) if source is not None else None
    account = graph.value(fiche, SCHEMA.maintainer)
    owner = graph.value(account, FOAF.accountName) if account is not None else None
    record.owner = str(owner) if owner is not None else None
    record.links = [
        Link(kind=kind, url=str(url))
        for kind, prop in LINK_PROPERTIES.items()
        for url in sorted(graph.objects(fiche, prop))
    ]
    _read_description(graph, record, iris)
    return record


def _read_description(graph: Graph, record: FicheRecord, iris: Iris) -> None:
    """Blocks from the HTML; images (and the form's image, numbered first) from their nodes."""
    fiche = iris.fiche(record.tag)
    body = graph.value(fiche, SCHEMA.articleBody)
    blocks = html_blocks(str(body), ours=True) if body is not None else []
    count = len(set(graph.objects(fiche, SCHEMA.image)))
    figures = sum(1 for block in blocks if block.kind == "image")
    number = count - figures  # 1 if the form's image field is filled, else 0
    if number == 1:
        record.image = str(graph.value(iris.image(record.tag, 1), SCHEMA.name))
    for k, block in enumerate(blocks):
        if block.kind == "image":
            number += 1
            node = iris.image(record.tag, number)
            blocks[k] = Block(
                kind="image",
                file=str(graph.value(node, SCHEMA.name) or block.file),
                size=str(graph.value(node, SCHEMA.contentSize) or ""),
                text=str(graph.value(node, SCHEMA.caption) or ""),
            )
    record.description = blocks


def _concepts(graph: Graph, node: URIRef, prop: URIRef, scheme: str) -> list[URIRef]:
    found = set(graph.objects(node, prop))
    return [c for c in vocabulary.concepts(scheme) if c in found]


def _agents(graph: Graph, nodes) -> list[Agent]:
    agents = []
    for node in sorted(nodes):
        types = set(graph.objects(node, RDF.type))
        kind = next((k for k, ts in AGENT_TYPES.items() if ts[0] in types), "agent")
        name = str(graph.value(node, FOAF.name) or "")
        agents.append(Agent(slug=str(node).rsplit("/", 1)[-1], name=name, kind=kind))
    return agents


def _iri(value) -> URIRef | None:
    return value if isinstance(value, URIRef) else None


def _datetime(value) -> datetime | None:
    found = value.toPython() if isinstance(value, Literal) else None
    return found if isinstance(found, datetime) else None
