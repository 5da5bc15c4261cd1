"""The history model, as a SPARQL user sees it (README "History")."""

from __future__ import annotations

import pytest
from writes_fixtures import TAGS, open_small, retitled, seed_fiche

from memoires_ld import history, writes
from memoires_ld.iris import DEFAULT_BASE, Iris

IRIS = Iris(DEFAULT_BASE)
TAG = TAGS[0]

PREFIXES = """
PREFIX cs: <http://purl.org/vocab/changeset/schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX as: <https://www.w3.org/ns/activitystreams#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX schema: <http://schema.org/>
"""


@pytest.fixture
def store(tmp_path):
    store = open_small(tmp_path)
    writes.replace_fiche(
        store, retitled(seed_fiche(TAG), TAG, "Titre changé"), agent="camille", reason="coquille"
    )
    writes.retire_fiche(store, TAGS[1], agent="dominique", reason="doublon")
    return store


def test_who_changed_what(store):
    """The query of the README: each revision of a fiche, who, when, what."""
    rows = store.query(
        PREFIXES
        + """
        SELECT ?n ?who ?kind ?p ?o WHERE {
          ?rev cs:subjectOfChange <FICHE> ; schema:version ?n ;
               prov:wasAttributedTo [ <http://xmlns.com/foaf/0.1/accountName> ?who ] ;
               prov:wasGeneratedBy [ a ?kind ] ;
               cs:addition [ rdf:predicate ?p ; rdf:object ?o ] .
          FILTER(?kind != prov:Activity && ?p = dct:title)
        } ORDER BY ?n""".replace("FICHE", str(IRIS.fiche(TAG)))
    )
    found = [(int(r["n"].value), r["who"].value, r["kind"].value, r["o"].value) for r in rows]
    assert found[-1] == (
        2,
        "camille",
        "https://www.w3.org/ns/activitystreams#Update",
        "Titre changé",
    )
    assert found[0][:2] == (1, "import")


def test_old_triples_are_not_current_data(store):
    """Removed triples are reified, not asserted: the union graph only holds current data."""
    titles = store.query(PREFIXES + f"SELECT ?t {{ <{IRIS.fiche(TAG)}> dct:title ?t }}")
    assert [r["t"].value for r in titles] == ["Titre changé"]
    fiches = store.query(
        PREFIXES + "SELECT (COUNT(?f) AS ?n) { ?f a <https://w3id.org/memoires-ld/ns#Fiche> }"
    )
    assert int(next(iter(fiches))["n"].value) == len(TAGS) - 1


def test_revisions_chain_and_the_history_points_at_the_last(store):
    rows = store.query(
        PREFIXES
        + f"""SELECT ?last ?total ?previous {{
          GRAPH <{IRIS.history(TAG)}> {{
            <{IRIS.history(TAG)}> as:last ?last ; as:totalItems ?total .
            ?last prov:wasRevisionOf ?previous }} }}"""
    )
    (row,) = list(rows)
    assert row["last"].value == str(IRIS.revision(TAG, 2))
    assert row["previous"].value == str(IRIS.revision(TAG, 1))
    assert int(row["total"].value) == 2


def test_histories_stay_out_of_the_published_quads(store):
    graphs = {q.graph_name for q in store.quads()}
    assert not any(getattr(g, "value", "").endswith(("/history", "#tombstone")) for g in graphs)
    assert not any(getattr(g, "value", "").startswith("urn:x-memoires-ld:") for g in graphs)


def test_tombstone_and_changes_since(store):
    gone = history.get_tombstone(store, TAGS[1])
    assert (gone.title, gone.reason) == (
        "Accompagnement d'un réseau associatif sur la mutualisation d'une fonction employeur",
        "doublon",
    )
    since = history.revisions(store, TAG)[-1].at
    assert [(c.tag, c.kind, c.agent) for c in history.changes_since(store, since)] == [
        (TAG, "replace", "camille"),
        (TAGS[1], "retire", "dominique"),
    ]
