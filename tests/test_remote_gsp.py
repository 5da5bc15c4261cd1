"""Loads through the Graph Store Protocol (#7): `STORE_GSP_URL` set, `SparqlStore.load` POSTs
each graph's triples to it; the same quads as through SPARQL Update, on a real Virtuoso
(/sparql-graph-crud-auth, Digest auth)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from virtuoso_server import fresh
from writes_fixtures import TAGS, retitled, seed_fiche, small_data

from memoires_ld import config, store_sparql
from memoires_ld.iris import DEFAULT_BASE
from memoires_ld.store import open_configured
from memoires_ld.store_http import StoreUnavailable
from memoires_ld.store_sparql import DEFAULT_GRAPH, SparqlStore, StoreError
from memoires_ld.writes import replace_fiche

XSD = "http://www.w3.org/2001/XMLSchema#"
G1, G2 = ox.NamedNode("urn:x-test:graph-1"), ox.NamedNode("urn:x-test:graph-2")
P = ox.NamedNode("urn:x-test:p")


def tricky_quads() -> list[ox.Quad]:
    """Literals of every kind, blank nodes shared across graphs, the default graph."""
    node, other = ox.BlankNode("n1"), ox.BlankNode("n2")
    objects = [
        ox.Literal('é « guillemets » "quotes"\nnouvelle ligne\t\\', language="fr"),
        ox.Literal("2024-05-01T10:00:00+02:00", datatype=ox.NamedNode(f"{XSD}dateTime")),
        ox.Literal("42", datatype=ox.NamedNode(f"{XSD}integer")),
        ox.Literal("3.5", datatype=ox.NamedNode(f"{XSD}decimal")),
        ox.Literal("𝄞 emoji 🙂"),
        ox.Literal("english", language="en-GB"),
        ox.NamedNode("https://exemple.org/chemin?a=1&b=é"),
        other,
    ]
    quads = [ox.Quad(node, P, o, G1) for o in objects]
    quads += [ox.Quad(other, P, ox.Literal(str(n)), G2) for n in range(30)]
    quads.append(ox.Quad(ox.NamedNode("urn:x-test:s"), P, node, ox.DefaultGraph()))
    return quads


def store_for(virtuoso, gsp: bool) -> SparqlStore:
    settings = fresh(virtuoso.settings(adapter=False, gsp=gsp))
    return store_sparql.from_settings(settings, DEFAULT_BASE)


def read_back(store: SparqlStore) -> set[ox.Quad]:
    found = set()
    for graph in (G1, G2, ox.DefaultGraph()):
        found |= set(store.match(None, None, None, graph))
    return found


@pytest.mark.parametrize("batch", [10_000, 7])
def test_a_load_by_graph_store_gives_what_an_update_load_gives(virtuoso, monkeypatch, batch):
    """Each graph POSTed (a graph cut across batches is POSTed more than once: POST adds)."""
    monkeypatch.setattr(store_sparql, "GSP_BATCH", batch)
    by_update = store_for(virtuoso, gsp=False)
    by_update.load(tricky_quads())
    expected = read_back(by_update)
    assert expected == set(tricky_quads())  # the test's own yardstick

    by_gsp = store_for(virtuoso, gsp=True)
    assert by_gsp.gsp_url == virtuoso.gsp
    by_gsp.load(tricky_quads())
    assert read_back(by_gsp) == expected
    assert by_gsp.match(None, None, None, DEFAULT_GRAPH)  # the default graph, named


def test_the_load_goes_through_the_graph_store(virtuoso):
    """The anonymous Graph Store refuses writes: a load sent there fails, with a clear error."""
    store = store_for(virtuoso, gsp=True)
    store.gsp_url = f"http://127.0.0.1:{virtuoso.http_port}/sparql-graph-crud"
    store.http.user = None  # anonymous
    with pytest.raises(StoreUnavailable, match="refuse"):
        store.load(tricky_quads())
    settings = virtuoso.settings(adapter=False)  # not emptied: nothing was written
    assert not read_back(store_sparql.from_settings(settings, DEFAULT_BASE))


def canonical(quads) -> set[ox.Quad]:
    """The quads with their blank nodes named by their place (each load makes new ones)."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


def test_a_new_store_loaded_by_graph_store_is_the_same_and_writable(tmp_path, virtuoso):
    """data/ loaded at first opening (open_remote) by Graph Store, then by Update: same quads;
    a fiche write then works as on any store (writes stay SPARQL Update)."""
    data = small_data(tmp_path / "data")

    def opened(gsp: bool, name: str):
        settings = fresh(virtuoso.settings(adapter=False, gsp=gsp))
        folders = {"INSTANCE_DIR": str(tmp_path / name), "DATA_DIR": str(data)}
        return open_configured(config.load(folders | settings), writable=True)

    by_update = canonical(opened(False, "update").quads())
    store = opened(True, "gsp")
    assert store.gsp_url
    assert canonical(store.quads()) == by_update
    assert len(by_update) > 300
    revision = replace_fiche(store, retitled(seed_fiche(TAGS[0]), TAGS[0], "Après"), agent="r")
    assert revision.number == 2


def test_a_graph_store_that_fails_names_the_graph(virtuoso):
    """Not a Graph Store at that URL: the error says which URL, which graph and what came."""
    store = store_for(virtuoso, gsp=True)
    store.gsp_url = f"http://127.0.0.1:{virtuoso.http_port}/pas-de-graph-store"
    with pytest.raises(StoreError) as raised:
        store.load(tricky_quads()[:1])
    assert raised.value.status == 502
    assert "pas-de-graph-store" in raised.value.message
    assert G1.value in raised.value.message and "404" in raised.value.message
