"""The Graph Store HTTP Protocol at /sparql/graph (indirect identification: ?graph=, ?default).

Reading is public: every named graph of the store, and its default graph, in each RDF
format, with ETag/304 and 404 for a graph the store lacks. Writing is off by default (403).
With SPARQL_UPDATE=True it is a door of the write path (#5): an editor's token, the graphs
of fiches only — tested in tests/test_sparql_writes.py. The W3C GSP manifest for indirect
identification (tests/data/w3c/graph-store-protocol/manifest-indirect.ttl): its read-only
entry passes as written; its writes name graphs that are not fiches (www.example): 401
without a token, 403 naming the graph with one, nothing written. Direct identification
(a graph's own URL as the request URL) is not offered: our graphs are named by the fiches'
IRIs, which already serve the fiche documents.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic
from sparql_server import W3C, rdf_graph, serve
from virtuoso_server import fresh
from w3c_manifest import read_manifest, run

from memoires_ld.accounts import Accounts

MANIFEST = W3C / "graph-store-protocol" / "manifest-indirect.ttl"
TESTS = read_manifest(MANIFEST, "/gsp", "/sparql/graph")
VOCABULARY = "https://w3id.org/memoires-ld/ns"
FORMATS = ["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"]


@pytest.fixture(scope="module")
def readonly(tmp_path_factory, backend):
    """On each backend: the embedded store, then a real Virtuoso."""
    with serve(tmp_path_factory.mktemp("gsp-readonly"), **fresh(backend)) as server:
        yield server


@pytest.fixture(scope="module")
def writable(tmp_path_factory):
    """Embedded only: it lives beside `readonly`, and one Virtuoso holds one app's data
    (GSP writes on Virtuoso: tests/test_sparql_writes.py)."""
    tmp = tmp_path_factory.mktemp("gsp-writable")
    with serve(tmp, SPARQL_UPDATE=True) as server:
        accounts = Accounts(tmp / "instance")
        accounts.add("robot", "un mot de passe sûr", "editor")
        server.token = accounts.create_token("robot")[1]
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


READ_ONLY = [t for t in TESTS if all(r.method in ("GET", "HEAD") for r in t.requests)]
WRITES = [t for t in TESTS if t not in READ_ONLY]


def test_one_entry_only_reads():
    assert [t.id for t in READ_ONLY] == ["head_non_existing_indirect"]


@pytest.mark.parametrize("test", READ_ONLY, ids=lambda t: t.id)
def test_graph_store_protocol_reads(readonly, writable, test):
    """The manifest's read-only entry, as written, writes off and on."""
    run(readonly, test)
    run(writable, test)


@pytest.mark.parametrize("test", WRITES, ids=lambda t: t.id)
def test_graph_store_protocol_writes_name_no_fiche(writable, test):
    """The manifest's first write of each entry: 401 anonymous, 403 with a token (its graph
    is not a fiche's; 400 for POST to the store itself, which names no fiche)."""
    first = test.requests[0]
    store = writable.app.extensions["store"]
    version = store.version
    status, headers, _ = writable.request(first.method, first.path, first.body, first.headers)
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
    authorised = first.headers | {
        "Authorization": f"Bearer {writable.token}",
        "Accept": "application/json",
    }
    status, _, body = writable.request(first.method, first.path, first.body, authorised)
    refused = json.loads(body)
    if first.path == "/sparql/graph":
        assert status == 400 and "POST /fiches" in refused["message"]
    else:
        assert status == 403 and refused["error"] == "graphe-interdit", body
        assert refused["graph"] == target_graph(first.path)
    assert store.version == version


def target_graph(path: str) -> str:
    query = parse_qs(urlsplit(path).query, keep_blank_values=True)
    return query["graph"][0] if "graph" in query else "DEFAULT"


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
