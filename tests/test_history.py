"""The history model, as a SPARQL user sees it (README "History")."""

from __future__ import annotations

import hashlib

import pytest
from bs4 import BeautifulSoup
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, VOID
from web_fixtures import make_app
from writes_fixtures import TAGS, open_small, retitled, seed_fiche, small_data

from memoires_ld import history, writes
from memoires_ld.iris import DEFAULT_BASE, Iris
from memoires_ld.namespaces import CS, SCHEMA

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
    assert found[0][:2] == (2, "camille")  # revision 1, an import, names its file instead


def test_an_imported_first_revision_names_its_file_instead_of_reifying(store, tmp_path):
    """#7: revision 1 of an imported fiche holds the file's digest and its size, no
    statements; its additions are rebuilt from the current graph and the later revisions."""
    rows = store.query(
        PREFIXES
        + f"""SELECT ?digest ?size (COUNT(?a) AS ?n) {{ GRAPH <{IRIS.history(TAG)}> {{
          <{IRIS.revision(TAG, 1)}> schema:sha256 ?digest ;
              <http://rdfs.org/ns/void#triples> ?size .
          OPTIONAL {{ <{IRIS.revision(TAG, 1)}> cs:addition ?a }} }} }} GROUP BY ?digest ?size"""
    )
    (row,) = list(rows)
    data_file = tmp_path / "data" / "rdf" / "fiches" / f"{TAG}.ttl"
    assert row["digest"].value == hashlib.sha256(data_file.read_bytes()).hexdigest()
    assert int(row["n"].value) == 0
    first = history.state_at(store, TAG, 1)
    assert int(row["size"].value) == len(first) == history.revisions(store, TAG)[0].added
    assert history.changes(store, TAG, 1) == (sorted(first, key=str), [])
    titles = {t.object.value for t in first if t.predicate.value == str(DCTERMS.title)}
    assert titles == {seed_fiche(TAG).value(IRIS.fiche(TAG), DCTERMS.title).toPython()}
    # the retired fiche's first revision comes back from what its retirement removed
    assert history.state_at(store, TAGS[1], 1) == set(history.changes(store, TAGS[1], 2)[1])
    assert history.state_at(store, TAGS[1], 2) == set()


def test_an_imported_fiche_takes_a_fraction_of_the_quads(tmp_path):
    """The history graph of a fiche just imported is a small fixed size, not 5 per triple."""
    store = open_small(tmp_path)
    for tag in TAGS:
        fiche = len(store.graph_quads(str(IRIS.fiche(tag))))
        kept = len(store.graph_quads(str(IRIS.history(tag))))
        assert fiche > 40 and kept < 30, (fiche, kept)  # was 5 × fiche + 25


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


def test_the_pages_of_an_imported_then_edited_fiche(tmp_path, backend):
    """History page, revision pages and their RDF, on both backends, when revision 1 is an
    import that names its file (#7) and revision 2 an edit."""
    data = small_data(tmp_path / "data")
    app = make_app(tmp_path, data=data, store=backend)
    store = app.extensions["store"]
    writes.replace_fiche(
        store, retitled(seed_fiche(TAG), TAG, "Titre changé"), agent="camille", reason="coquille"
    )
    client = app.test_client()
    html = {"Accept": "text/html"}
    page = BeautifulSoup(client.get(f"/fiche/{TAG}/history", headers=html).data, "html.parser")
    first_state = history.state_at(store, TAG, 1)
    size = len(first_state)
    edit = history.revisions(store, TAG)[1]
    text = page.get_text(" ", strip=True)
    assert f"(+{size} / −0 triplets)" in text
    assert f"(+{edit.added} / −{edit.removed} triplets)" in text and edit.removed >= 1
    first = BeautifulSoup(client.get(f"/fiche/{TAG}/revision/1", headers=html).data, "html.parser")
    assert len(first.find_all("ins")) == 2 * size and not first.find_all("del")  # + and value
    old_title = seed_fiche(TAG).value(IRIS.fiche(TAG), DCTERMS.title)
    shown = f'"{old_title}"@fr'
    assert shown in [ins.get_text() for ins in first.find_all("ins")]
    second = BeautifulSoup(client.get(f"/fiche/{TAG}/revision/2", headers=html).data, "html.parser")
    assert shown in [d.get_text() for d in second.find_all("del")]
    assert '"Titre changé"@fr' in [i.get_text() for i in second.find_all("ins")]
    rdf = Graph().parse(data=client.get(f"/fiche/{TAG}/history.ttl").get_data(as_text=True))
    rev1 = URIRef(str(IRIS.revision(TAG, 1)))
    assert rdf.value(rev1, SCHEMA.sha256) is not None
    assert int(rdf.value(rev1, VOID.triples)) == size
    assert (rev1, CS.addition, None) not in rdf
    one = Graph().parse(data=client.get(f"/fiche/{TAG}/revision/1.ttl").get_data(as_text=True))
    assert int(one.value(rev1, VOID.triples)) == size
