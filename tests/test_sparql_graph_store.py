"""The Graph Store HTTP Protocol at /sparql/graph (indirect identification: ?graph=, ?default).

Reading is public: every named graph of the store, and its default graph, in each RDF
format, with ETag/304 and 404 for a graph the store lacks. Writing is off by default (403);
with SPARQL_UPDATE=True (a throwaway instance) the W3C GSP manifest for indirect
identification (tests/data/w3c/graph-store-protocol/manifest-indirect.ttl) passes as
written. Direct identification (a graph's own URL as the request URL) is not offered: our
graphs are named by the fiches' IRIs, which already serve the fiche documents.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic
from sparql_server import W3C, rdf_graph, serve
from w3c_manifest import read_manifest, run

MANIFEST = W3C / "graph-store-protocol" / "manifest-indirect.ttl"
TESTS = read_manifest(MANIFEST, "/gsp", "/sparql/graph")
VOCABULARY = "https://w3id.org/memoires-ld/ns"
FORMATS = ["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"]


@pytest.fixture(scope="module")
def readonly(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("gsp-readonly")) as server:
        yield server


@pytest.fixture(scope="module")
def writable(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("gsp-writable"), SPARQL_UPDATE=True) as server:
        yield server


def test_the_manifest_has_every_indirect_test():
    assert [t.id for t in TESTS] == [
        "put_get_repeat_indirect",
        "put_get_default",
        "put_delete_get_delete_indirect",
        "post_get_post_get_indirect",
        "post_get_new_graph",
        "head_existing_indirect",
        "head_non_existing_indirect",
        "put_get_uri_pct_encoded_indirect",
        "put_get_uri_pct_encoded_twice",
    ]


@pytest.mark.parametrize("test", TESTS, ids=lambda t: t.id)
def test_graph_store_protocol_with_writes_on(writable, test):
    """GSP manifest-indirect.ttl, each entry as written (SPARQL_UPDATE=True), each on a store
    without the graphs of the others (several expect 201 Created for the same graph)."""
    engine = writable.app.extensions["sparql"]
    for graph in engine.store.ox.named_graphs():
        if graph.value.startswith(("http://www.example/", writable.base + "sparql/graph/")):
            engine.apply(f"DROP GRAPH {graph}")
    run(writable, test)


def test_a_graph_written_is_seen_by_sparql(writable):
    turtle = b"<http://www.example/s> <http://www.example/p> 'o' ."
    target = "/sparql/graph?graph=" + quote("http://www.example/g", safe="")
    status, _, _ = writable.request("PUT", target, turtle, {"Content-Type": "text/turtle"})
    assert status in (201, 204)
    query = "ASK { GRAPH <http://www.example/g> { <http://www.example/s> ?p 'o' } }"
    status, _, body = writable.request(
        "GET", "/sparql?query=" + quote(query), headers={"Accept": "application/json"}
    )
    assert status == 200 and json.loads(body)["boolean"] is True


@pytest.mark.parametrize("accept", FORMATS)
def test_a_named_graph_in_every_format(readonly, accept):
    store = readonly.app.extensions["store"]
    lines = [f"{q.subject} {q.predicate} {q.object} ." for q in store.graph_quads(VOCABULARY)]
    expected = Graph().parse(data="\n".join(lines), format="nt")
    status, headers, body = readonly.request(
        "GET", "/sparql/graph?graph=" + quote(VOCABULARY, safe=""), headers={"Accept": accept}
    )
    assert status == 200 and headers["content-type"].split(";")[0] == accept
    assert isomorphic(rdf_graph(body, headers["content-type"]), expected)


def test_the_default_graph_and_head(readonly):
    status, headers, body = readonly.request("GET", "/sparql/graph?default")
    assert status == 200 and headers["content-type"].startswith("text/turtle")
    graph = rdf_graph(body, headers["content-type"])
    assert len(graph) > 0  # the provenance of the import
    status, head_headers, head_body = readonly.request("HEAD", "/sparql/graph?default")
    assert status == 200 and head_body == b""
    assert head_headers["etag"] == headers["etag"]


def test_etag_and_304(readonly):
    target = "/sparql/graph?graph=" + quote(VOCABULARY, safe="")
    _, headers, _ = readonly.request("GET", target)
    status, _, body = readonly.request("GET", target, headers={"If-None-Match": headers["etag"]})
    assert status == 304 and body == b""


@pytest.mark.parametrize(
    ("target", "status"),
    [
        ("/sparql/graph?graph=" + quote("http://nowhere.example/g", safe=""), 404),
        ("/sparql/graph", 400),
        ("/sparql/graph?graph=x&default", 400),
        ("/sparql/graph?graph=a%20b", 400),
    ],
)
def test_bad_reads(readonly, target, status):
    got, headers, body = readonly.request("GET", target, headers={"Accept": "text/plain"})
    assert got == status
    assert headers["content-type"].startswith("text/plain") and body.decode().strip()


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_writes_are_refused_by_default(readonly, method):
    target = "/sparql/graph?graph=" + quote(VOCABULARY, safe="")
    before = len(readonly.app.extensions["store"].graph_quads(VOCABULARY))
    status, _, body = readonly.request(
        method, target, b"<a:b> <a:c> <a:d> .", {"Content-Type": "text/turtle"}
    )
    assert status == 403 and "désactivées" in body.decode()
    assert len(readonly.app.extensions["store"].graph_quads(VOCABULARY)) == before
