"""The one write path: validated, atomic, If-Match checked, recorded; data/ synced through it."""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timedelta

import pyoxigraph as ox
import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, SH
from writes_fixtures import TAGS, open_small, renamed, retitled, seed_fiche

from memoires_ld import history, writes
from memoires_ld.errors import Conflict, Gone, InvalidFiche, NotFound, PreconditionFailed
from memoires_ld.iris import DEFAULT_BASE, Iris
from memoires_ld.namespaces import MLD

IRIS = Iris(DEFAULT_BASE)
TAG = TAGS[0]


@pytest.fixture
def store(tmp_path):
    return open_small(tmp_path)


def fiche_triples(store, tag):
    return {q.triple for q in store.graph_quads(str(IRIS.fiche(tag)))}


def title(store, tag):
    values = [
        t.object.value
        for t in fiche_triples(store, tag)
        if t.predicate == ox.NamedNode(str(DCTERMS.title))
        and t.subject == ox.NamedNode(str(IRIS.fiche(tag)))
    ]
    return values[0] if values else None


def test_a_new_instance_starts_with_one_revision_per_fiche(store):
    for tag in TAGS:
        (first,) = history.revisions(store, tag)
        assert (first.number, first.kind, first.agent) == (1, "create", "import")
        assert history.state_at(store, tag, 1) == fiche_triples(store, tag)


def test_replace_records_a_revision_and_changes_the_version(store):
    before, etag = store.version, history.etag(store, TAG)
    revision = writes.replace_fiche(
        store, retitled(seed_fiche(TAG), TAG, "Nouveau titre"), agent="alice", if_match=etag
    )
    assert (revision.number, revision.kind, revision.agent) == (2, "replace", "alice")
    assert title(store, TAG) == "Nouveau titre"
    assert store.version != before
    assert history.etag(store, TAG) != etag
    # history matches: replaying the changes gives the stored graph
    assert history.state_at(store, TAG, 2) == fiche_triples(store, TAG)
    added, removed = history.changes(store, TAG, 2)
    assert {t.predicate.value for t in added} == {
        str(DCTERMS.title),
        str(DCTERMS.modified),
        "http://schema.org/dateModified",
    }
    assert len(removed) == 3


def test_modified_is_now_in_paris_and_created_is_kept(store):
    created = [t for t in fiche_triples(store, TAG) if t.predicate.value == str(DCTERMS.created)]
    writes.replace_fiche(store, retitled(seed_fiche(TAG), TAG, "T"), agent="alice")
    triples = fiche_triples(store, TAG)
    assert [t for t in triples if t.predicate.value == str(DCTERMS.created)] == created
    (modified,) = [t.object.value for t in triples if t.predicate.value == str(DCTERMS.modified)]
    when = datetime.fromisoformat(modified)
    assert when.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    assert abs(when - writes.now()) < timedelta(minutes=1)


def test_an_invalid_fiche_is_not_stored(store):
    graph = seed_fiche(TAG)
    graph.remove((None, DCTERMS.title, None))
    before, version = fiche_triples(store, TAG), store.version
    with pytest.raises(InvalidFiche) as error:
        writes.replace_fiche(store, graph, agent="alice")
    assert not error.value.report.conforms
    assert any(r.path == DCTERMS.title for r in error.value.report.violations)
    assert fiche_triples(store, TAG) == before and store.version == version
    assert len(history.revisions(store, TAG)) == 1


@pytest.mark.parametrize(
    "extra",
    [
        (URIRef(f"{DEFAULT_BASE}fiche/{TAGS[1]}"), DCTERMS.title, Literal("Volé", lang="fr")),
        (URIRef("https://ailleurs.example/x"), DCTERMS.title, Literal("x")),
        (URIRef(f"{DEFAULT_BASE}agent/someone"), DCTERMS.description, Literal("pas un nom")),
        (BNode(), FOAF.name, Literal("anonyme")),
    ],
    ids=["other-fiche", "foreign-iri", "agent-beyond-name-and-type", "blank-node"],
)
def test_a_fiche_only_talks_about_its_own_resources(store, extra):
    graph = seed_fiche(TAG)
    graph.add(extra)
    with pytest.raises(InvalidFiche) as error:
        writes.replace_fiche(store, graph, agent="alice")
    assert (None, RDF.type, SH.ValidationReport) in error.value.report.graph
    assert len(history.revisions(store, TAG)) == 1


def test_a_graph_must_describe_one_fiche_of_this_instance(store):
    graph = seed_fiche(TAG, base="https://other.example/")
    with pytest.raises(InvalidFiche):
        writes.create_fiche(store, graph, agent="alice")
    two = seed_fiche(TAGS[0]) + seed_fiche(TAGS[1])
    with pytest.raises(InvalidFiche):
        writes.replace_fiche(store, two, agent="alice")


def test_if_match(store):
    etag = history.etag(store, TAG)
    writes.replace_fiche(store, retitled(seed_fiche(TAG), TAG, "A"), agent="a", if_match=etag)
    with pytest.raises(PreconditionFailed) as error:
        writes.replace_fiche(store, retitled(seed_fiche(TAG), TAG, "B"), agent="b", if_match=etag)
    assert error.value.headers["ETag"] == history.etag(store, TAG)
    assert title(store, TAG) == "A"
    writes.replace_fiche(store, retitled(seed_fiche(TAG), TAG, "C"), agent="c", if_match="*")
    assert title(store, TAG) == "C"
    with pytest.raises(PreconditionFailed):  # a weak tag never matches (strong comparison)
        writes.retire_fiche(store, TAG, agent="c", if_match="W/" + history.etag(store, TAG))
    # the ETag of a page is "<state>-<variant>": any format of the current state matches
    page_tag = f'"{history.state(store, TAG)}-0a1b2c3d"'
    writes.replace_fiche(store, retitled(seed_fiche(TAG), TAG, "D"), agent="d", if_match=page_tag)
    with pytest.raises(PreconditionFailed):
        writes.retire_fiche(store, TAG, agent="d", if_match=page_tag)


def test_create_conflict_and_missing_fiches(store):
    with pytest.raises(Conflict):
        writes.create_fiche(store, seed_fiche(TAG), agent="alice")
    with pytest.raises(NotFound):
        writes.replace_fiche(store, renamed(seed_fiche(TAG), TAG, "Nouvelle"), agent="alice")
    with pytest.raises(NotFound):
        writes.retire_fiche(store, "Nouvelle", agent="alice")


def test_create_a_new_fiche(store):
    graph = renamed(seed_fiche(TAG), TAG, "UneNouvelleFiche")
    graph.remove((None, DCTERMS.created, None))
    revision = writes.create_fiche(store, graph, agent="alice", reason="première version")
    assert (revision.number, revision.kind, revision.reason) == (1, "create", "première version")
    triples = fiche_triples(store, "UneNouvelleFiche")
    created = {t.object.value for t in triples if t.predicate.value == str(DCTERMS.created)}
    modified = {t.object.value for t in triples if t.predicate.value == str(DCTERMS.modified)}
    assert created == modified and len(created) == 1


def test_retire_leaves_a_tombstone_and_the_history(store):
    name = title(store, TAG)
    revision = writes.retire_fiche(store, TAG, agent="alice", reason="Doublon de l'autre fiche")
    assert revision.kind == "retire" and revision.number == 2
    assert not store.has_graph(str(IRIS.fiche(TAG)))
    gone = history.get_tombstone(store, TAG)
    assert (gone.title, gone.reason) == (name, "Doublon de l'autre fiche")
    # out of listings and dumps: no mld:Fiche, no quad of it in the published data
    fiches = {r["f"].value for r in store.query(f"SELECT ?f {{ ?f a <{MLD.Fiche}> }}")}
    assert str(IRIS.fiche(TAG)) not in fiches and len(fiches) == len(TAGS) - 1
    assert not [q for q in store.quads() if q.subject.value == str(IRIS.fiche(TAG))]
    assert history.state_at(store, TAG, 2) == set()
    assert len(history.state_at(store, TAG, 1)) > 0
    with pytest.raises(Gone):
        writes.replace_fiche(store, seed_fiche(TAG), agent="alice")
    with pytest.raises(Gone):
        writes.retire_fiche(store, TAG, agent="alice")


def test_a_retired_fiche_can_be_created_again(store):
    writes.retire_fiche(store, TAG, agent="alice")
    revision = writes.create_fiche(store, seed_fiche(TAG), agent="bob", reason="retour")
    assert (revision.number, revision.kind) == (3, "create")
    assert history.get_tombstone(store, TAG) is None
    assert history.state_at(store, TAG, 3) == fiche_triples(store, TAG)


def test_changes_since(store):
    start = writes.now()
    time.sleep(1)
    later = writes.now()
    writes.replace_fiche(store, retitled(seed_fiche(TAG), TAG, "X"), agent="alice")
    writes.retire_fiche(store, TAGS[1], agent="bob")
    changes = history.changes_since(store, later)
    assert [(c.tag, c.kind) for c in changes] == [(TAG, "replace"), (TAGS[1], "retire")]
    assert len(history.changes_since(store, start - timedelta(days=1))) == len(TAGS) + 2


def test_an_unchanged_import_writes_nothing(store):
    before = store.version
    revision = writes.replace_fiche(store, seed_fiche(TAG), agent="import", stamp=False)
    assert revision.number == 1 and store.version == before


def test_write_time(store):
    """Measured: one validated write, on this machine, is well under a second."""
    graphs = [retitled(seed_fiche(TAG), TAG, f"Titre {n}") for n in range(10)]
    start = time.perf_counter()
    for graph in graphs:
        writes.replace_fiche(store, graph, agent="alice")
    per_write = (time.perf_counter() - start) / len(graphs)
    print(f"\n{per_write * 1000:.0f} ms per write")
    assert per_write < 1.0


# ----------------------------------------------------------------------------- data/ sync


def reopen(tmp_path):
    return open_small(tmp_path)


def test_a_changed_data_folder_is_imported_and_web_writes_are_kept(tmp_path):
    store = open_small(tmp_path)
    fiches = tmp_path / "data" / "rdf" / "fiches"
    web = renamed(seed_fiche(TAG), TAG, "EcriteSurLeWeb")
    writes.create_fiche(store, web, agent="alice")
    writes.retire_fiche(store, TAGS[2], agent="alice", reason="plus d'actualité")
    del store

    # one file changes, one goes away, one comes
    path = fiches / f"{TAG}.ttl"
    path.write_text(path.read_text().replace("Atelier cohésion d'équipe", "Atelier changé"))
    (fiches / f"{TAGS[1]}.ttl").unlink()
    shutil.copy(tmp_path / "data" / "rdf" / "fiches" / f"{TAG}.ttl", fiches / "Copie.ttl")
    copy = fiches / "Copie.ttl"
    copy.write_text(copy.read_text().replace(TAG, "Copie"))

    store = reopen(tmp_path)
    assert title(store, TAG) == "Atelier changé"
    assert history.revisions(store, TAG)[-1].agent == "import"
    assert history.revisions(store, TAGS[1])[-1].kind == "retire"
    assert store.has_graph(str(IRIS.fiche("EcriteSurLeWeb")))  # written on the web: kept
    assert store.has_graph(str(IRIS.fiche("Copie")))
    # retired on the web, its data/ file unchanged: stays retired
    assert history.get_tombstone(store, TAGS[2]) is not None
    version = store.version
    del store
    assert reopen(tmp_path).version == version  # nothing changed: nothing written


def test_current_graph_round_trips_through_the_write_path(store):
    graph = writes.current_graph(store, TAG)
    assert len(graph) == len(fiche_triples(store, TAG))
    assert writes.current_graph(store, "Inconnue") is None
    revision = writes.replace_fiche(store, retitled(graph, TAG, "Via current_graph"), agent="a")
    assert revision.number == 2 and title(store, TAG) == "Via current_graph"
