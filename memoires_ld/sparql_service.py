"""The endpoint's service description (SPARQL 1.1 Service Description), with VoID counts.

Served at the endpoint URL itself for a GET without a query (SD §2). What clients such as
Comunica read from it: `sd:endpoint`, the languages, result and input formats, the
features (`sd:UnionDefaultGraph`: without FROM, a query sees all graphs merged), and the
default dataset with `void:triples` — of the default graph, and of each named graph listed.

Named graphs listed: the published ones (each fiche's graph, the vocabulary), up to
`MAX_GRAPHS`; a larger store lists none of the fiches (the description would weigh more
than the data) and says so in a comment. Histories and tombstones are named graphs too
(`{fiche}/history`, `{fiche}#tombstone`), queryable but not listed.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib.namespace import DCTERMS, RDF, RDFS, VOID

from .namespaces import SD
from .sparql import GRAPH_FORMAT_IRIS, RESULT_FORMATS
from .sparql_engine import Engine

MAX_GRAPHS = 1000
#: Counting a large store takes a while (10k fiches: 2 s); it runs once per store version.
STATISTICS_TIMEOUT = 60.0
#: Graph by graph, as Oxigraph's union default graph shows them (a triple in two graphs
#: twice): counting distinct triples needs all of them in memory (10k fiches: 14 s, 1 GB).
_COUNT_TRIPLES = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
_COUNT_PER_GRAPH = "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


@dataclass(frozen=True)
class Statistics:
    version: str
    #: triples of the default graph, graph by graph (see _COUNT_TRIPLES); None if not counted
    triples: int | None
    #: (graph IRI, triples) of the published named graphs, in IRI order
    graphs: tuple[tuple[str, int], ...]
    #: how many published named graphs there are (all of them, listed or not)
    graph_count: int


_lock = threading.Lock()


def statistics(engine: Engine, base: str) -> Statistics:
    """The counts of the store's current version (computed once per version, in a worker)."""
    version = engine.store.version
    cached = engine.service_statistics
    if cached is not None and cached.version == version:
        return cached
    with _lock:
        cached = engine.service_statistics
        if cached is not None and cached.version == version:
            return cached
        published = {g.value for g in engine.store.published_graphs()}
        triples = _count(engine, _COUNT_TRIPLES, base)
        per_graph = {}
        if len(published) <= MAX_GRAPHS:
            for row in _rows(engine, _COUNT_PER_GRAPH, base):
                if row["g"]["value"] in published:
                    per_graph[row["g"]["value"]] = int(row["n"]["value"])
        result = Statistics(version, triples, tuple(sorted(per_graph.items())), len(published))
        engine.service_statistics = result
        return result


def _rows(engine: Engine, query: str, base: str) -> list[dict]:
    job = {"query": query, "base": base, "format": "json", "union": True}
    job |= {"store": str(engine.snapshots.current()[1]), "max_bytes": 200_000_000}
    _, body = engine.run(job, STATISTICS_TIMEOUT)
    return json.loads(body)["results"]["bindings"]


def _count(engine: Engine, query: str, base: str) -> int | None:
    try:
        return int(_rows(engine, query, base)[0]["n"]["value"])
    except Exception:  # too long, too large: the description goes without the count
        return None


def describe(
    endpoint: str, dataset: str, stats: Statistics, *, update: bool, federated: bool
) -> list[ox.Triple]:
    """The service description graph of the endpoint at `endpoint`."""
    triples: list[ox.Triple] = []

    def add(subject, predicate, obj) -> None:
        triples.append(ox.Triple(subject, ox.NamedNode(str(predicate)), obj))

    service = ox.NamedNode(endpoint)
    add(service, RDF.type, _n(SD.Service))
    add(service, SD.endpoint, service)
    add(
        service,
        DCTERMS.title,
        ox.Literal("Point d'accès SPARQL des mémoires d'action", language="fr"),
    )
    add(service, DCTERMS.title, ox.Literal("SPARQL endpoint of the action records", language="en"))
    add(service, SD.supportedLanguage, _n(SD.SPARQL11Query))
    if update:
        add(service, SD.supportedLanguage, _n(SD.SPARQL11Update))
        for iri in GRAPH_FORMAT_IRIS.values():  # read by the Graph Store Protocol
            add(service, SD.inputFormat, ox.NamedNode(iri))
    for fmt in RESULT_FORMATS:
        add(service, SD.resultFormat, ox.NamedNode(fmt.iri))
    for iri in GRAPH_FORMAT_IRIS.values():
        add(service, SD.resultFormat, ox.NamedNode(iri))
    add(service, SD.feature, _n(SD.UnionDefaultGraph))
    if federated:
        add(service, SD.feature, _n(SD.BasicFederatedQuery))
    add(service, SD.defaultEntailmentRegime, ox.NamedNode("http://www.w3.org/ns/entailment/Simple"))

    # Blank nodes with fixed labels: the same counts give the same bytes (a strong ETag).
    data = ox.BlankNode("dataset")
    add(service, SD.defaultDataset, data)
    add(data, RDF.type, _n(SD.Dataset))
    add(data, RDFS.seeAlso, ox.NamedNode(dataset))
    default = ox.BlankNode("default-graph")
    add(data, SD.defaultGraph, default)
    add(default, RDF.type, _n(SD.Graph))
    add(
        default,
        RDFS.comment,
        ox.Literal(
            "L'union de tous les graphes : chaque fiche, son historique, le vocabulaire ; "
            "ses triplets comptés graphe par graphe (un triplet de deux graphes compte deux fois, "
            "comme une requête le voit).",
            language="fr",
        ),
    )
    if stats.triples is not None:
        add(default, VOID.triples, _integer(stats.triples))
    for n, (name, count) in enumerate(stats.graphs):
        named, graph = ox.BlankNode(f"named-{n}"), ox.BlankNode(f"graph-{n}")
        add(data, SD.namedGraph, named)
        add(named, RDF.type, _n(SD.NamedGraph))
        add(named, SD.name, ox.NamedNode(name))
        add(named, SD.graph, graph)
        add(graph, RDF.type, _n(SD.Graph))
        add(graph, VOID.triples, _integer(count))
    if len(stats.graphs) < stats.graph_count:
        add(
            data,
            RDFS.comment,
            ox.Literal(
                f"{stats.graph_count} graphes nommés publiés, non listés ici : chaque fiche "
                "est un graphe nommé par l'IRI de la fiche.",
                language="fr",
            ),
        )
    return triples


def _n(term) -> ox.NamedNode:
    return ox.NamedNode(str(term))


def _integer(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
