"""What the pages of the vocabulary show: schemes, concepts, the ontology, the shapes."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SH, SKOS

from .. import iris as iris_
from ..iris import Iris
from ..namespaces import CC, PREFIXES, SCHEMA
from ..store import Store
from . import queries
from .documents import Document
from .pages import Link, Triples, concept_link

PREF_LABEL = ox.NamedNode(str(SKOS.prefLabel))
EXTRA_PREFIXES = {
    "shapes": "https://w3id.org/memoires-ld/shapes#",
    "dash": "http://datashapes.org/dash#",
}


def curie(iri: str) -> str:
    """`dct:title` for an IRI of a namespace we publish, else the IRI."""
    for prefix, namespace in (PREFIXES | EXTRA_PREFIXES).items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def _position(g: Triples, iri: str) -> int:
    value = g.one(iri, SCHEMA.position)
    return int(value) if value and value.lstrip("-").isdigit() else 0


def scheme_page(doc: Document, store: Store, iris: Iris, lang: str) -> dict:
    g = Triples(doc.triples)
    counts = queries.counts_by_concept(store)
    members = [t.subject.value for t in doc.triples if t.predicate.value == str(SKOS.inScheme)]
    concepts = []
    for concept in sorted(set(members), key=lambda c: _position(g, c)):
        link = concept_link(concept, iris, lang)
        link.extra = {"notation": g.one(concept, SKOS.notation), "count": counts.get(concept, 0)}
        concepts.append(link)
    return {
        "title": g.text(doc.iri, SKOS.prefLabel, lang) or doc.iri,
        "concepts": concepts,
    }


def concept_page(doc: Document, store: Store, iris: Iris, lang: str) -> dict:
    g, c = Triples(doc.triples), doc.iri
    scheme = g.one(c, SKOS.inScheme)
    scheme_name = scheme.rsplit("/", 1)[-1] if scheme else ""
    scheme_label = queries_label(store, scheme, lang) if scheme else ""
    return {
        "title": g.text(c, SKOS.prefLabel, lang) or c,
        "scheme": Link(scheme_label, str(iris.scheme_page(scheme_name)), scheme or ""),
        "notation": g.one(c, SKOS.notation),
        "alt": g.texts(c, SKOS.altLabel, lang),
        "definition": g.text(c, SKOS.definition, lang),
        "scope": g.text(c, SKOS.scopeNote, lang),
        "legal": g.one(c, CC.legalcode),
        "fiches": queries.fiches_with(store, c),
    }


def queries_label(store: Store, iri: str, lang: str) -> str:
    labels = {
        q.object.language: q.object.value for q in store.match(ox.NamedNode(iri), PREF_LABEL, None)
    }
    return labels.get(lang) or labels.get("fr") or iri


def vocabulary_page(doc: Document, store: Store, iris: Iris, lang: str) -> dict:
    g = Triples(doc.triples)
    schemes = []
    for name in iris_.SCHEMES:
        iri = str(iris_.scheme(name))
        count = len({t.subject.value for t in doc.triples if t.object.value == iri})
        link = Link(g.text(iri, SKOS.prefLabel, lang) or name, str(iris.scheme_page(name)), iri)
        link.extra = {"count": len(g.all(iri, SKOS.hasTopConcept)) or count}
        schemes.append(link)
    return {"title": None, "schemes": schemes}


def ontology_page(doc: Document, store: Store, iris: Iris, lang: str) -> dict:
    g, o = Triples(doc.triples), doc.iri
    terms = sorted(s for s in g.index if s.startswith(o + "#"))
    classes = [_term(g, t, iris, lang) for t in terms if str(OWL.Class) in g.iris(t, RDF.type)]
    properties = [_term(g, t, iris, lang) for t in terms if t not in {c.iri for c in classes}]
    return {
        "title": g.text(o, DCTERMS.title, lang) or o,
        "description": g.text(o, DCTERMS.description, lang),
        "version": g.one(o, OWL.versionInfo),
        "note": g.text(o, SKOS.note, lang),
        "classes": classes,
        "properties": properties,
    }


def _term(g: Triples, iri: str, iris: Iris, lang: str) -> Link:
    relations = []
    for key, prop in (
        ("ontology.subclass", RDFS.subClassOf),
        ("ontology.subproperty", RDFS.subPropertyOf),
        ("ontology.domain", RDFS.domain),
        ("ontology.range", RDFS.range),
    ):
        values = [Link(curie(v), iris.page(v), v) for v in g.iris(iri, prop)]
        if values:
            relations.append((key, values))
    link = Link(g.text(iri, RDFS.label, lang) or curie(iri), iris.page(iri), iri)
    link.note = g.text(iri, RDFS.comment, lang) or ""
    link.extra = {"curie": curie(iri), "anchor": iri.rsplit("#", 1)[-1], "relations": relations}
    return link


def shapes_page(doc: Document, store: Store, iris: Iris, lang: str) -> dict:
    g, s = Triples(doc.triples), doc.iri
    nodes = sorted(t.subject.value for t in doc.triples if t.object.value == str(SH.NodeShape))
    shapes = []
    for node in nodes:
        properties = sorted(g.iris(node, SH.property), key=lambda p: float(g.one(p, SH.order) or 0))
        shapes.append(
            {
                "iri": node,
                "anchor": node.rsplit("#", 1)[-1],
                "label": g.text(node, RDFS.label, lang) or curie(node),
                "comment": g.text(node, RDFS.comment, lang),
                "targets": [Link(curie(t), iris.page(t), t) for t in g.iris(node, SH.targetClass)],
                "properties": [_property(g, p, lang) for p in properties],
            }
        )
    return {
        "title": g.text(s, RDFS.label, lang) or s,
        "description": g.text(s, RDFS.comment, lang),
        "version": g.one(s, OWL.versionInfo),
        "shapes": shapes,
    }


def _property(g: Triples, shape: str, lang: str) -> dict:
    low, high = g.one(shape, SH.minCount), g.one(shape, SH.maxCount)
    severity = g.one(shape, SH.severity) or str(SH.Violation)
    return {
        "anchor": shape.rsplit("#", 1)[-1],
        "name": g.text(shape, SH.name, lang) or curie(shape),
        "description": g.text(shape, SH.description, lang),
        "path": _path(g, g.all(shape, SH.path)),
        "count": f"{low or 0}..{high or 'n'}",
        "warning": severity == str(SH.Warning),
    }


def _path(g: Triples, values: list) -> str:
    """A SHACL path for people: `schema:mainEntity / dct:extent`, `^dct:creator`."""
    if not values:
        return ""
    node = values[0]
    if isinstance(node, ox.NamedNode):
        return curie(node.value)
    inverse = g.all(node.value, SH.inversePath)
    if inverse:
        return "^" + _path(g, inverse)
    steps = []
    while node is not None and node.value != str(RDF.nil):
        steps.append(_path(g, g.all(node.value, RDF.first)))
        rest = g.all(node.value, RDF.rest)
        node = rest[0] if rest else None
    return " / ".join(steps)
