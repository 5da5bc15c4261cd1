"""Real clients against the running endpoint: SPARQLWrapper, rdflib's SPARQLStore, pyld.

Each client talks HTTP to a live server; what it reads is compared with what the store
answers for the same query, asked directly. On both backends: the embedded store, Virtuoso.
"""

from __future__ import annotations

import csv
import io
import json

import pyoxigraph as ox
import pytest
from pyld import jsonld
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from sparql_server import rdf_graph, serve
from SPARQLWrapper import CSV, GET, JSON, JSONLD, POST, TURTLE, XML, SPARQLWrapper
from virtuoso_server import fresh

FICHE = "https://w3id.org/memoires-ld/ns#Fiche"
TITLES = f"""PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?f ?t WHERE {{ ?f a <{FICHE}> ; dct:title ?t }} ORDER BY ?f"""
CONSTRUCT = f"""PREFIX dct: <http://purl.org/dc/terms/>
CONSTRUCT {{ ?f dct:title ?t ; dct:creator ?c }}
WHERE {{ ?f a <{FICHE}> ; dct:title ?t ; dct:creator ?c }}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory, backend):
    """A live server on each backend: the embedded store, then a real Virtuoso."""
    tmp = tmp_path_factory.mktemp("clients")
    with serve(tmp, SPARQL_RATE_LIMIT=0, **fresh(backend)) as live:
        yield live


def expected_titles(server) -> list[tuple[str, str]]:
    store = server.app.extensions["store"]  # asked directly, not through the endpoint
    return [(r["f"].value, r["t"].value) for r in store.query(TITLES)]


def expected_graph(server, query: str) -> Graph:
    store = server.app.extensions["store"]
    nt = ox.serialize(store.query(query), format=ox.RdfFormat.N_TRIPLES)
    return Graph().parse(data=nt.decode(), format="nt")


def wrapper(server, method: str, fmt: str, query: str) -> SPARQLWrapper:
    client = SPARQLWrapper(server.endpoint, agent="memoires-ld tests")
    client.setMethod(method)
    client.setReturnFormat(fmt)
    client.setQuery(query)
    return client


@pytest.mark.parametrize("method", [GET, POST])
def test_sparqlwrapper_select_json(server, method):
    document = wrapper(server, method, JSON, TITLES).queryAndConvert()
    rows = [(b["f"]["value"], b["t"]["value"]) for b in document["results"]["bindings"]]
    assert rows == expected_titles(server) and len(rows) == 38


@pytest.mark.parametrize("method", [GET, POST])
def test_sparqlwrapper_select_xml(server, method):
    document = wrapper(server, method, XML, TITLES).queryAndConvert()  # a minidom Document
    rows = []
    for result in document.getElementsByTagName("result"):
        values = {
            b.getAttribute("name"): b.firstChild.firstChild.nodeValue
            for b in result.getElementsByTagName("binding")
        }
        rows.append((values["f"], values["t"]))
    assert rows == expected_titles(server)


def test_sparqlwrapper_select_csv(server):
    data = wrapper(server, GET, CSV, TITLES).queryAndConvert()
    table = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert table[0] == ["f", "t"]
    assert [tuple(row) for row in table[1:]] == expected_titles(server)


@pytest.mark.parametrize("method", [GET, POST])
def test_sparqlwrapper_ask(server, method):
    assert wrapper(server, method, JSON, f"ASK {{ ?s a <{FICHE}> }}").queryAndConvert()["boolean"]
    assert wrapper(server, method, XML, "ASK { FILTER(false) }").query().convert() is not True


@pytest.mark.parametrize("method", [GET, POST])
@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [(TURTLE, "text/turtle"), (XML, "application/rdf+xml"), (JSONLD, "application/ld+json")],
)
def test_sparqlwrapper_construct(server, method, fmt, media_type):
    """SPARQLWrapper's own RDF conversion builds an rdflib ConjunctiveGraph, deprecated in
    rdflib 7.6: the response is read as it came, and parsed here."""
    response = wrapper(server, method, fmt, CONSTRUCT).query().response
    assert response.headers["Content-Type"].split(";")[0] == media_type
    got = rdf_graph(response.read(), media_type)
    assert isomorphic(got, expected_graph(server, CONSTRUCT))


def test_sparqlwrapper_describe(server):
    fiche = f"{server.base}fiche/AtelierCohesionDEquipe"
    query = f"DESCRIBE <{fiche}>"
    turtle = wrapper(server, GET, TURTLE, query).queryAndConvert()  # bytes, as served
    got = Graph().parse(data=turtle.decode(), format="turtle")
    assert isomorphic(got, expected_graph(server, query))
    assert (URIRef(fiche), None, None) in got


def test_rdflib_sparqlstore(server):
    graph = Graph(store=SPARQLStore(server.endpoint, returnFormat="json", method="POST"))
    rows = [(str(r.f), str(r.t)) for r in graph.query(TITLES)]
    assert rows == expected_titles(server)
    assert graph.query(f"ASK {{ ?s a <{FICHE}> }}").askAnswer is True
    constructed = Graph()
    for triple in graph.query(CONSTRUCT):
        constructed.add(triple)
    assert isomorphic(constructed, expected_graph(server, CONSTRUCT))
    # the store also reads triples by pattern (a SELECT underneath)
    fiche = URIRef(f"{server.base}fiche/AtelierCohesionDEquipe")
    titles = set(graph.objects(fiche, URIRef("http://purl.org/dc/terms/title")))
    assert titles == {Literal("Atelier cohésion d'équipe", lang="fr")}


def refuse_remote(url, options=None):
    raise jsonld.JsonLdError(
        f"no network in tests: {url}", "loading document failed", code="loading document failed"
    )


def test_jsonld_construct_expands_to_the_same_graph(server):
    status, headers, body = server.request(
        "POST",
        "/sparql",
        CONSTRUCT.encode(),
        {"Content-Type": "application/sparql-query", "Accept": "application/ld+json"},
    )
    assert status == 200 and headers["content-type"] == "application/ld+json"
    document = json.loads(body)
    with pytest.raises(jsonld.JsonLdError):  # the loader does refuse any remote context
        jsonld.expand(
            {"@context": "https://schema.org/", "name": "x"}, {"documentLoader": refuse_remote}
        )
    expanded = jsonld.expand(document, {"documentLoader": refuse_remote})
    nquads = jsonld.to_rdf(
        expanded, {"format": "application/n-quads", "documentLoader": refuse_remote}
    )
    got = Graph().parse(data=nquads, format="nt")
    assert len(got) > 50
    assert isomorphic(got, expected_graph(server, CONSTRUCT))
