"""Map a `FicheRecord` to RDF: the fiche (the record its authors wrote) and the action it documents.

The table of every field → property is in ontology/README.md; keep both in step.
"""

from __future__ import annotations

from datetime import datetime

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, SKOS, XSD

from . import description
from . import iris as iris_
from .iris import Iris
from .namespaces import DCMITYPE, MLD, PAIR, SCHEMA, SHAPES, bind_prefixes
from .record import Agent, FicheRecord

LINK_PROPERTIES = {
    "cahier-des-charges": MLD.cahierDesCharges,
    "reponse": MLD.reponse,
    "documentation": MLD.documentation,
    "autre": DCTERMS.references,
}

AGENT_TYPES = {
    "person": (FOAF.Person, SCHEMA.Person, PAIR.Person),
    "organization": (FOAF.Organization, SCHEMA.Organization, PAIR.Organization),
    "agent": (FOAF.Agent,),
}

CANCELLED = iris_.concept("statut", "annulee")


def fr(text: str) -> Literal:
    return Literal(text, lang="fr")


def date_time(value: datetime) -> Literal:
    """xsd:dateTime with its offset, written the way pyoxigraph and Jena keep it."""
    if value.utcoffset() is None:
        raise ValueError(f"a date without time zone cannot be published: {value}")
    return Literal(value.isoformat(), datatype=XSD.dateTime)


def map_fiche(record: FicheRecord, iris: Iris, *, import_run: URIRef | None = None) -> Graph:
    """Return the graph of one fiche: record, action, images, authors."""
    g = bind_prefixes(Graph())
    fiche, action = iris.fiche(record.tag), iris.action(record.tag)

    for t in (MLD.Fiche, SCHEMA.Article, PAIR.Document, DCMITYPE.Text):
        g.add((fiche, RDF.type, t))
    g.add((fiche, DCTERMS.identifier, Literal(record.tag)))
    _add_title(g, fiche, record.title)
    g.add((fiche, DCTERMS.language, Literal("fr")))
    g.add((fiche, SCHEMA.inLanguage, Literal("fr")))
    g.add((fiche, SCHEMA.mainEntity, action))
    g.add((fiche, PAIR.documents, action))
    g.add((fiche, DCTERMS.isPartOf, iris.fiches()))
    g.add((fiche, DCTERMS.conformsTo, SHAPES.FicheShape))

    if record.description:
        g.add((fiche, DCTERMS.description, fr(description.to_text(record.description))))
        g.add(
            (
                fiche,
                SCHEMA.articleBody,
                Literal(description.to_html(record.description), datatype=RDF.HTML),
            )
        )
    _add_images(g, record, iris)
    for link in record.links:
        g.add((fiche, LINK_PROPERTIES[link.kind], URIRef(link.url)))

    if record.authors_raw:
        g.add((fiche, SCHEMA.creditText, Literal(record.authors_raw)))
    for agent in record.authors:
        _add_author(g, record.tag, agent, iris)
    if record.owner:
        # The wiki account that created the page ("écrite par"): it maintains the page,
        # it is not an author.
        account = iris.account(record.owner)
        g.add((fiche, SCHEMA.maintainer, account))
        g.add((account, RDF.type, FOAF.OnlineAccount))
        g.add((account, FOAF.accountName, Literal(record.owner)))
    if record.source:
        g.add((fiche, DCTERMS.source, URIRef(record.source)))
        g.add((fiche, PROV.hadPrimarySource, URIRef(record.source)))
    if record.licence is not None:
        g.add((fiche, DCTERMS.license, record.licence))
        g.add((fiche, SCHEMA.license, record.licence))
    if record.created:
        g.add((fiche, DCTERMS.created, date_time(record.created)))
        g.add((fiche, SCHEMA.dateCreated, date_time(record.created)))
    if record.modified:
        g.add((fiche, DCTERMS.modified, date_time(record.modified)))
        g.add((fiche, SCHEMA.dateModified, date_time(record.modified)))
    for note in record.notes:
        g.add((fiche, SKOS.editorialNote, fr(note)))
    if import_run is not None:
        g.add((fiche, PROV.wasGeneratedBy, import_run))

    _add_action(g, record, iris)
    return g


def _add_title(g: Graph, node: URIRef, title: str) -> None:
    g.add((node, DCTERMS.title, fr(title)))
    g.add((node, SCHEMA.name, fr(title)))
    g.add((node, PAIR.label, Literal(title)))


def _add_action(g: Graph, record: FicheRecord, iris: Iris) -> None:
    fiche, action = iris.fiche(record.tag), iris.action(record.tag)
    for t in (PAIR.Project, SCHEMA.Event, DCMITYPE.Event):
        g.add((action, RDF.type, t))
    _add_title(g, action, record.title)
    g.add((action, SCHEMA.subjectOf, fiche))
    g.add((action, PAIR.documentedBy, fiche))
    for nature in record.natures:
        g.add((action, DCTERMS.type, nature))
        g.add((action, PAIR.hasType, nature))
    for value in record.participants:
        g.add((action, MLD.participants, value))
    for value in record.durations:
        g.add((action, DCTERMS.extent, value))
    if record.status is not None:
        g.add((action, PAIR.hasStatus, record.status))
        scheduled = SCHEMA.EventCancelled if record.status == CANCELLED else SCHEMA.EventScheduled
        g.add((action, SCHEMA.eventStatus, scheduled))
    if record.success is not None:
        g.add((action, MLD.reussite, record.success))
    for agent in record.contributors:
        node = _add_agent(g, agent, iris)
        g.add((action, PAIR.involves, node))
        g.add((action, SCHEMA.contributor, node))
    for year in record.years:
        g.add((action, DCTERMS.temporal, Literal(f"{year:04d}", datatype=XSD.gYear)))


def _add_images(g: Graph, record: FicheRecord, iris: Iris) -> None:
    fiche = iris.fiche(record.tag)
    images = [(record.image, "", "")] if record.image else []
    images += [(b.file, b.size, b.text) for b in record.description if b.kind == "image"]
    for number, (file, size, caption) in enumerate(images, start=1):
        node = iris.image(record.tag, number)
        g.add((fiche, SCHEMA.image, node))
        g.add((node, RDF.type, SCHEMA.ImageObject))
        g.add((node, SCHEMA.name, Literal(file)))
        if size:
            g.add((node, SCHEMA.contentSize, Literal(size)))
        if caption:
            g.add((node, SCHEMA.caption, fr(caption)))


def _add_agent(g: Graph, agent: Agent, iris: Iris) -> URIRef:
    node = iris.agent(agent.slug)
    for t in AGENT_TYPES[agent.kind]:
        g.add((node, RDF.type, t))
    g.add((node, FOAF.name, Literal(agent.name)))
    g.add((node, SCHEMA.name, Literal(agent.name)))
    return node


def _add_author(g: Graph, tag: str, agent: Agent, iris: Iris) -> None:
    fiche = iris.fiche(tag)
    node = _add_agent(g, agent, iris)
    g.add((fiche, DCTERMS.creator, node))
    g.add((fiche, SCHEMA.author, node))
    g.add((fiche, PROV.wasAttributedTo, node))
    if agent.role:
        # A role is said of this agent on this fiche only: a qualified attribution (PROV-O §3.3).
        attribution = iris.attribution(tag, agent.slug)
        g.add((fiche, PROV.qualifiedAttribution, attribution))
        g.add((attribution, RDF.type, PROV.Attribution))
        g.add((attribution, RDF.type, SCHEMA.Role))
        g.add((attribution, PROV.agent, node))
        g.add((attribution, SCHEMA.roleName, fr(agent.role)))
