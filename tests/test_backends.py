"""The same behaviour on every store backend (#7): the embedded store and Virtuoso 7.

The pages, listing, dumps and write API tests take the `backend` fixture too
(test_resources, test_fiches_listing, test_dataset, test_writes_api); here: the SPARQL
endpoint, dumps compared across backends, the history of a write, a YesWiki-style sync, the
protocols alone (`sparql+http`, no Virtuoso adapter) and the account's rights.
"""

from __future__ import annotations

import gzip
import time
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic
from virtuoso_server import fresh
from web_fixtures import BASE, all_fiches, fiche_graph, make_app
from writes_fixtures import TAGS, retitled, seed_fiche, small_data

from memoires_ld import config, datadir, history, writes
from memoires_ld.errors import PreconditionFailed
from memoires_ld.store import open_configured
from memoires_ld.store_http import StoreUnavailable
from memoires_ld.store_sparql import SparqlStore

NATURES = """PREFIX dct: <http://purl.org/dc/terms/> PREFIX mld: <https://w3id.org/memoires-ld/ns#>
SELECT ?nature (COUNT(DISTINCT ?f) AS ?n) WHERE {
  ?f a mld:Fiche ; <http://virtual-assembly.org/ontologies/pair#documents> ?a .
  ?a dct:type ?nature } GROUP BY ?nature ORDER BY ?nature"""
TAG = "AtelierCohesionDEquipe"


@pytest.fixture(scope="module")
def app(tmp_path_factory, backend):
    app = make_app(tmp_path_factory.mktemp("backends"), store=backend)
    app.config["SPARQL_RATE_LIMIT"] = 0
    return app


def sparql(app, query: str, accept: str):
    response = app.test_client().get(
        "/sparql?" + urlencode({"query": query}), headers={"Accept": accept}
    )
    assert response.status_code == 200, response.data[:500]
    return response


def test_select_through_the_endpoint_counts_as_the_data_says(app):
    expected: dict[str, int] = {}
    for row in all_fiches().query(NATURES):
        expected[str(row.nature)] = int(row.n)
    response = sparql(app, NATURES, "application/sparql-results+json")
    got = ox.parse_query_results(response.data, format=ox.QueryResultsFormat.JSON)
    assert {s["nature"].value: int(s["n"].value) for s in got} == expected


@pytest.mark.parametrize("accept", ["text/turtle", "application/n-triples", "application/ld+json"])
def test_construct_through_the_endpoint_is_the_fiche(app, accept):
    fiche = f"<{BASE}fiche/{TAG}>"
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {fiche} {{ ?s ?p ?o }} }}"
    response = sparql(app, query, accept)
    fmt = ox.RdfFormat.from_media_type(accept)
    got = Graph().parse(
        data=ox.serialize(ox.parse(response.data, fmt), format=ox.RdfFormat.N_TRIPLES), format="nt"
    )
    assert isomorphic(got, fiche_graph(TAG))


def test_ask_and_describe_through_the_endpoint(app):
    response = sparql(app, f"ASK {{ <{BASE}fiche/{TAG}> ?p ?o }}", "application/sparql-results+xml")
    assert ox.parse_query_results(response.data, format=ox.QueryResultsFormat.XML)
    response = sparql(app, f"DESCRIBE <{BASE}fiche/{TAG}>", "application/n-triples")
    subjects = {t.subject for t in ox.parse(response.data, ox.RdfFormat.N_TRIPLES)}
    assert ox.NamedNode(f"{BASE}fiche/{TAG}") in subjects


def test_a_syntax_error_is_a_400_on_every_backend(app):
    response = app.test_client().get("/sparql?" + urlencode({"query": "SELECT WHERE {"}))
    assert response.status_code == 400


def dump(app) -> Graph:
    with app.test_client().get("/dumps/memoires.nt.gz") as response:
        assert response.status_code == 200
        return Graph().parse(data=gzip.decompress(response.data), format="nt")


def test_the_dumps_are_the_same_on_both_backends(tmp_path, virtuoso):
    embedded = dump(make_app(tmp_path / "embedded"))
    remote = dump(make_app(tmp_path / "virtuoso", store=virtuoso.settings()))
    assert len(embedded) > 2000
    assert isomorphic(embedded, remote)


def settings_for(tmp: Path, backend: dict) -> dict:
    data = tmp / "data"
    if not data.exists():
        small_data(data)
    return config.load({"INSTANCE_DIR": str(tmp / "instance"), "DATA_DIR": str(data)} | backend)


def test_a_write_its_history_and_a_stale_etag(tmp_path, backend):
    store = open_configured(settings_for(tmp_path, fresh(backend)), writable=True)
    before = store.version
    etag = history.etag(store, TAG)
    graph = retitled(seed_fiche(TAG), TAG, "Un autre titre")
    revision = writes.replace_fiche(store, graph, agent="robot", if_match=etag)
    assert revision.number == 2 and store.version != before
    assert history.state_at(store, TAG, 2) == {
        q.triple for q in store.graph_quads(f"{BASE}fiche/{TAG}")
    }
    added, removed = history.changes(store, TAG, 2)
    assert [t.object.value for t in added if t.predicate.value.endswith("/title")] == [
        "Un autre titre"
    ]
    assert len(removed) >= 1
    with pytest.raises(PreconditionFailed):
        writes.replace_fiche(store, retitled(graph, TAG, "Trop tard"), agent="robot", if_match=etag)
    retired = writes.retire_fiche(store, TAGS[1], agent="robot", reason="Doublon")
    assert history.get_tombstone(store, TAGS[1]).reason == "Doublon"
    assert [r.number for r in history.revisions(store, TAGS[1])] == [1, retired.number]
    graph_quads = history.revision_quads(store, TAG, 2)
    assert any(isinstance(q.object, ox.BlankNode) for q in graph_quads)  # blank nodes, as written


def test_a_changed_data_folder_is_synced_on_reopening(tmp_path, backend):
    settings = settings_for(tmp_path, fresh(backend))
    open_configured(settings, writable=True)
    data = Path(settings["DATA_DIR"])
    (data / datadir.RDF_DIR / datadir.FICHES_DIR / f"{TAGS[0]}.ttl").unlink()
    store = open_configured(settings, writable=True)
    assert history.get_tombstone(store, TAGS[0]) is not None
    assert not store.has_graph(f"{BASE}fiche/{TAGS[0]}")
    assert store.has_graph(f"{BASE}fiche/{TAGS[1]}")


def test_the_protocols_alone_without_the_virtuoso_adapter(tmp_path, virtuoso):
    """`sparql+http://`: INSERT DATA loads, no bulk loader, no Virtuoso DEFINE."""
    plain = virtuoso.settings(adapter=False)
    store = open_configured(settings_for(tmp_path, fresh(plain)), writable=True)
    assert type(store) is SparqlStore
    assert len(store.published_graphs()) == 1 + len(TAGS)
    revision = writes.replace_fiche(store, retitled(seed_fiche(TAG), TAG, "Autre"), agent="robot")
    assert revision.number == 2
    assert history.state_at(store, TAG, 2) == {
        q.triple for q in store.graph_quads(f"{BASE}fiche/{TAG}")
    }


def test_another_process_sees_a_write_after_the_version_delay(tmp_path, virtuoso):
    settings = settings_for(tmp_path, fresh(virtuoso.settings()))
    one = open_configured(settings, writable=True)
    other = open_configured(settings, writable=True)
    seen = other.version
    writes.replace_fiche(one, retitled(seed_fiche(TAG), TAG, "Vu ailleurs"), agent="robot")
    assert one.version != seen  # at once for the writer
    time.sleep(1.1)
    assert other.version == one.version


def test_wrong_credentials_and_the_anonymous_endpoint(tmp_path, virtuoso):
    settings = virtuoso.settings() | {"STORE_PASSWORD": "wrong"}
    with pytest.raises(StoreUnavailable):
        open_configured(settings_for(tmp_path, settings))
    anonymous = SparqlStore(f"http://127.0.0.1:{virtuoso.http_port}/sparql", BASE)
    assert anonymous.query("ASK { }")
    with pytest.raises(Exception, match=r"(?i)permission|security|denied"):
        anonymous.update("INSERT DATA { GRAPH <urn:x:g> { <urn:x:s> <urn:x:p> 1 } }")
