"""The W3C SPARQL 1.1 Protocol and Service Description test suites, against a live server.

The Protocol manifest (tests/data/w3c/protocol/manifest.ttl) is machine-readable: each test
is a list of HTTP requests (`ht:Request`: method, path, headers, body) with the expected
response (`mf:expectedStatus`, `mf:expectedFormat`, `mf:expectedBoolean`). It is read here
and run as it is, request after request, over real HTTP (the path prefix `/sparql/` mapped
to our `/sparql`), with the fixture graphs of `ut:graphData` loaded first.

* On the instance as configured by default (updates off), every query test and every
  bad_* test passes as written; each update_* test gets 403 with a message, as required.
* With SPARQL_UPDATE=True, updates are a door of the write path (#5): an editor's API token,
  the graphs of fiches only (tests/test_sparql_writes.py). There, every bad_* test passes as
  written with the token added (400 for the request itself, not 401/403); each update_*
  test writes graphs that are not fiches (CLEAR ALL, kasei.us, example.org): 401 without a
  token, 403 naming the graph with one, and nothing is written.

The three Service Description tests carry no machine-readable detail; what they check comes
from the SD conformance section and the reference validator (kasei/sparql11-sdvalidator):
returns-rdf, has-endpoint-triple (?s sd:endpoint <the URL>), conforms-to-schema (every
sd:NamedGraph has an sd:name).
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.collection import Collection
from sparql_server import W3C, load_w3c_dataset, rdf_graph, results, serve
from w3c_manifest import MF, read_manifest, run

from memoires_ld.accounts import Accounts

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")


PROTOCOL = read_manifest(W3C / "protocol" / "manifest.ttl", "/sparql/", "/sparql")
UPDATE_TESTS = [t.id for t in PROTOCOL if t.id.startswith("update_")]


def test_the_manifest_has_every_test():
    """mf:entries of the Protocol manifest: 34 tests, all read (a test lost would pass)."""
    assert len(PROTOCOL) == 34
    assert len(UPDATE_TESTS) == 7
    assert all(t.requests and all(r.statuses for r in t.requests) for t in PROTOCOL)


@pytest.fixture(scope="module")
def readonly(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("readonly")) as server:
        load_w3c_dataset(server.app)
        yield server


@pytest.fixture(scope="module")
def writable(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("writable")
    with serve(tmp, SPARQL_UPDATE=True) as server:
        accounts = Accounts(tmp / "instance")
        accounts.add("robot", "un mot de passe sûr", "editor")
        server.token = accounts.create_token("robot")[1]
        load_w3c_dataset(server.app)
        yield server


@pytest.mark.parametrize(
    "test", [t for t in PROTOCOL if t.id not in UPDATE_TESTS], ids=lambda t: t.id
)
def test_protocol_as_configured(readonly, test):
    """Protocol manifest, each query_* and bad_* entry, on the default (read-only) instance."""
    run(readonly, test)


@pytest.mark.parametrize("test_id", UPDATE_TESTS)
def test_updates_are_refused_by_default(readonly, test_id):
    """Protocol manifest, update_* entries: SPARQL Update is off by default → 403, saying so."""
    test = next(t for t in PROTOCOL if t.id == test_id)
    first = test.requests[0]
    status, headers, body = readonly.request(first.method, first.path, first.body, first.headers)
    assert status == 403
    assert "text/plain" in headers["content-type"]
    assert "désactivées" in body.decode()
    assert_w3c_data_intact(readonly)


def assert_w3c_data_intact(server) -> None:
    query = "ASK { GRAPH <http://kasei.us/2009/09/sparql/data/data1.rdf> { ?s ?p ?o } }"
    status, headers, body = server.request(
        "POST", "/sparql", query.encode(), {"Content-Type": "application/sparql-query"}
    )
    assert status == 200 and bool(results(body, headers["content-type"])) is True


@pytest.mark.parametrize(
    "test", [t for t in PROTOCOL if t.id.startswith("bad_")], ids=lambda t: t.id
)
def test_bad_requests_with_updates_on(writable, test):
    """bad_* entries as written, with an editor's token: refused for what they are (4xx but
    not 401/403: the credentials are good), nothing written."""
    version = writable.app.extensions["store"].version
    for request in test.requests:
        headers = request.headers | {"Authorization": f"Bearer {writable.token}"}
        status, _, body = writable.request(request.method, request.path, request.body, headers)
        assert 400 <= status < 500 and status not in (401, 403), (status, body)
    assert writable.app.extensions["store"].version == version
    assert_w3c_data_intact(writable)


@pytest.mark.parametrize("test_id", UPDATE_TESTS)
def test_w3c_updates_with_updates_on(writable, test_id):
    """update_* entries: anonymous → 401; with an editor's token → 403 naming the first
    graph that is not a fiche's; nothing written either way."""
    first = next(t for t in PROTOCOL if t.id == test_id).requests[0]
    version = writable.app.extensions["store"].version
    status, headers, body = writable.request(first.method, first.path, first.body, first.headers)
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
    authorised = first.headers | {"Authorization": f"Bearer {writable.token}"}
    accept = {"Accept": "application/json"}
    status, headers, body = writable.request(
        first.method, first.path, first.body, authorised | accept
    )
    assert status == 403, body
    refused = json.loads(body)
    assert refused["error"] == "graphe-interdit" and refused["graph"] in refused["message"]
    assert writable.app.extensions["store"].version == version
    assert_w3c_data_intact(writable)


def test_update_requests_go_by_post_only(writable):
    """bad_update_get, more precisely: the update is not run (the data is still there)."""
    status, _, _ = writable.request(
        "GET", "/sparql?update=CLEAR%20ALL", headers={"Authorization": f"Bearer {writable.token}"}
    )
    assert status == 400
    assert_w3c_data_intact(writable)


# -- Service Description (service-description/manifest.ttl) ------------------------------

SD_MANIFEST = Graph().parse(W3C / "service-description" / "manifest.ttl", format="turtle")


def test_the_sd_manifest_has_three_tests():
    entries = next(SD_MANIFEST.objects(None, MF.entries))
    names = {str(e).rsplit("#", 1)[1] for e in Collection(SD_MANIFEST, entries)}
    assert names == {"returns-rdf", "has-endpoint-triple", "conforms-to-schema"}


def service_description(server, accept="text/turtle") -> Graph:
    status, headers, body = server.request("GET", "/sparql", headers={"Accept": accept})
    assert status == 200, body[:300]
    return rdf_graph(body, headers["content-type"])


@pytest.mark.parametrize(
    "accept",
    ["text/turtle", "application/rdf+xml", "application/ld+json", "application/n-triples", "*/*"],
)
def test_sd_returns_rdf(readonly, accept):
    """returns-rdf: GET on the endpoint without a query returns RDF, in each format asked."""
    graph = service_description(readonly, accept)
    assert (None, RDF.type, SD.Service) in graph


def test_sd_has_endpoint_triple(readonly):
    """has-endpoint-triple: the description contains ?s sd:endpoint <the URL requested>."""
    graph = service_description(readonly)
    assert (None, SD.endpoint, URIRef(readonly.endpoint)) in graph


def test_sd_conforms_to_schema(readonly):
    """conforms-to-schema: every sd:NamedGraph has an sd:name (and the rest is well-formed)."""
    graph = service_description(readonly)
    named = set(graph.subjects(RDF.type, SD.NamedGraph))
    assert named, "the seed data has named graphs: they are listed"
    for node in named:
        assert isinstance(graph.value(node, SD.name), URIRef)
        assert (graph.value(node, SD.graph), RDF.type, SD.Graph) in graph
    for dataset in graph.subjects(RDF.type, SD.Dataset):
        assert (dataset, SD.defaultGraph, None) in graph


def test_sd_says_what_the_endpoint_does(readonly, writable):
    graph = service_description(readonly)
    service = URIRef(readonly.endpoint)
    assert set(graph.objects(service, SD.supportedLanguage)) == {SD.SPARQL11Query}
    assert set(graph.objects(service, SD.feature)) == {SD.UnionDefaultGraph}
    formats = {str(f).rsplit("/", 1)[1] for f in graph.objects(service, SD.resultFormat)}
    assert formats >= {"SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV"}
    assert formats >= {"SPARQL_Results_TSV", "Turtle", "JSON-LD", "N-Triples", "RDF_XML"}
    assert not list(graph.objects(service, SD.inputFormat))  # nothing is read: no writes
    on = service_description(writable)
    languages = set(on.objects(URIRef(writable.endpoint), SD.supportedLanguage))
    assert languages == {SD.SPARQL11Query, SD.SPARQL11Update}
    assert list(on.objects(URIRef(writable.endpoint), SD.inputFormat))


def test_sd_counts_what_queries_see(readonly):
    """void:triples of the default graph = the triples a query sees (Oxigraph's union keeps
    a triple once per graph); of each named graph = its triples; the published graphs are
    listed (the fiches and the vocabulary)."""
    graph = service_description(readonly)
    default = next(graph.objects(None, SD.defaultGraph))
    declared = int(graph.value(default, VOID.triples))
    query = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    status, headers, body = readonly.request(
        "POST", "/sparql", query.encode(), {"Content-Type": "application/sparql-query"}
    )
    assert declared == int(json.loads(body)["results"]["bindings"][0]["n"]["value"])
    names = {str(graph.value(n, SD.name)): n for n in graph.subjects(RDF.type, SD.NamedGraph)}
    fiches = [n for n in names if "/fiche/" in n]
    assert len(fiches) == 38 and "https://w3id.org/memoires-ld/ns" in names
    assert not [n for n in names if n.endswith("/history") or n.startswith("urn:")]
    vocabulary = graph.value(names["https://w3id.org/memoires-ld/ns"], SD.graph)
    query = "SELECT (COUNT(*) AS ?n) { GRAPH <https://w3id.org/memoires-ld/ns> { ?s ?p ?o } }"
    status, headers, body = readonly.request(
        "GET", "/sparql?query=" + _quote(query), headers={"Accept": "application/json"}
    )
    assert status == 200 and headers["content-type"] == "application/sparql-results+json"
    count = int(json.loads(body)["results"]["bindings"][0]["n"]["value"])
    assert int(graph.value(vocabulary, VOID.triples)) == count


def test_sd_is_linked_from_the_dataset(readonly):
    """VoID and DCAT point at the endpoint, whose URL is where the description is served."""
    status, headers, body = readonly.request("GET", "/dataset", headers={"Accept": "text/turtle"})
    assert status == 200 and headers["content-type"].startswith("text/turtle")
    dataset = Graph().parse(data=body, format="turtle")
    assert (None, VOID.sparqlEndpoint, URIRef(readonly.endpoint)) in dataset
    dcat = Namespace("http://www.w3.org/ns/dcat#")
    assert (None, dcat.endpointDescription, URIRef(readonly.endpoint)) in dataset


def test_a_browser_gets_the_editor_not_the_description(readonly):
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    status, headers, body = readonly.request("GET", "/sparql", headers={"Accept": accept})
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert BeautifulSoup(body, "html.parser").find(id="yasgui") is not None
    assert "accept" in headers["vary"].lower()


def _quote(text: str) -> str:
    return quote(text, safe="")
