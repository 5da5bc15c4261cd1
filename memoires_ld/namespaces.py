"""RDF namespaces used across memoires-ld, and the prefixes we publish with."""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SH, SKOS, VOID, XSD

from .vocab import MLD

#: Our own terms and concept schemes: one persistent namespace, the same on every instance,
#: so that fiches harvested from several publishers share their terms. `MLD` (ns#) is a
#: DefinedNamespace: only the terms minted in ontology/memoires-ld.ttl exist.
W3ID = "https://w3id.org/memoires-ld/"
VOCAB = Namespace(W3ID + "vocab/")
SHAPES = Namespace(W3ID + "shapes#")

SCHEMA = Namespace("http://schema.org/")
PAIR = Namespace("http://virtual-assembly.org/ontologies/pair#")
CC = Namespace("http://creativecommons.org/ns#")
DCMITYPE = Namespace("http://purl.org/dc/dcmitype/")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
DASH = Namespace("http://datashapes.org/dash#")
LDP = Namespace("http://www.w3.org/ns/ldp#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
AS = Namespace("https://www.w3.org/ns/activitystreams#")
#: Talis Changeset vocabulary: what a revision added and removed, as reified statements.
CS = Namespace("http://purl.org/vocab/changeset/schema#")

PREFIXES: dict[str, str] = {
    "mld": str(MLD),
    "vocab": str(VOCAB),
    "dct": str(DCTERMS),
    "dcmitype": str(DCMITYPE),
    "schema": str(SCHEMA),
    "pair": str(PAIR),
    "cc": str(CC),
    "skos": str(SKOS),
    "prov": str(PROV),
    "foaf": str(FOAF),
    "dcat": str(DCAT),
    "void": str(VOID),
    "owl": str(OWL),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
    "sh": str(SH),
    "hydra": str(HYDRA),
    "cs": str(CS),
    "as": str(AS),
}


def bind_prefixes(graph):
    """Bind our publishing prefixes on an rdflib graph and return it."""
    for prefix, iri in PREFIXES.items():
        graph.bind(prefix, iri, override=True, replace=True)
    return graph
