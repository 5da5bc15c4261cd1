"""The listing follows the write path: every write changes the store version, and the
facet and text indexes of the new version see the new title, words and facets."""

from __future__ import annotations

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, XSD
from writes_fixtures import open_small, retitled, seed_fiche

from memoires_ld import facets, search, writes
from memoires_ld.facets import Query
from memoires_ld.iris import DEFAULT_BASE

TAG = "FormationDesConseilsCitoyens"


def listing(store, tmp_path, text: str = "") -> list[str]:
    index = facets.index_for(store)
    text_index = search.index_for(store, index, tmp_path / "instance")
    matches = text_index.match(text) if text else None
    return [f.title for f in index.find(Query(text=text, per_page=100), matches).items]


def test_a_replaced_then_retired_fiche(tmp_path):
    store = open_small(tmp_path)
    before = listing(store, tmp_path)
    assert "Formation des Conseils Citoyens" in before and len(before) == 3
    assert listing(store, tmp_path, "zygomatique") == []

    graph = retitled(seed_fiche(TAG), TAG, "Formation zygomatique des Conseils Citoyens")
    action = URIRef(f"{DEFAULT_BASE}fiche/{TAG}#action")
    graph.set((action, DCTERMS.temporal, Literal("2019", datatype=XSD.gYear)))
    writes.replace_fiche(store, graph, agent="test")
    after = listing(store, tmp_path)
    assert "Formation zygomatique des Conseils Citoyens" in after
    assert "Formation des Conseils Citoyens" not in after and len(after) == 3
    assert listing(store, tmp_path, "zygomatique") == [
        "Formation zygomatique des Conseils Citoyens"
    ]
    years = facets.index_for(store).find(Query()).counts["annee"]
    assert years["2019"] == 1

    writes.retire_fiche(store, TAG, agent="test")
    assert len(listing(store, tmp_path)) == 2
    assert listing(store, tmp_path, "zygomatique") == []
    text_index = search.index_for(store, facets.index_for(store), tmp_path / "instance")
    assert list((tmp_path / "instance").glob("search-*.sqlite")) == [text_index.path]
