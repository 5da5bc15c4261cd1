"""The listing's indexes follow the writes: after each write the facet index and the text
index are brought up to date from the history (the fiches written since), and then equal
indexes built anew from the store — same fiches in the same order, same bitsets, counts,
sorts and search results — on both backends; writes made by another process too.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, XSD
from virtuoso_server import fresh
from writes_fixtures import TAGS, renamed, retitled, seed_fiche, small_data

from memoires_ld import config, facets, search, writes
from memoires_ld.facets import FacetIndex, Query
from memoires_ld.iris import DEFAULT_BASE
from memoires_ld.store import open_configured

WORDS = ("coopération", "conseils", "zygomatique", "equipe", "gaucher", "réseau atelier")
BUILD = search.build  # not counted by `builds`
QUERIES = (
    Query(per_page=100),
    Query({"nature": frozenset({"formation"})}, per_page=100),
    Query({"annee": frozenset({"2017", "1999"}), "statut": frozenset({"terminee"})}),
    *(Query(sort=s, per_page=100) for s in facets.SORTS if s != "pertinence"),
)


@pytest.fixture
def settings(tmp_path, backend) -> dict:
    small_data(tmp_path / "data")
    overrides = {"INSTANCE_DIR": str(tmp_path / "instance"), "DATA_DIR": str(tmp_path / "data")}
    return config.load(overrides | fresh(backend))


@pytest.fixture
def builds(monkeypatch) -> list[str]:
    """What was built from scratch (a facet index, a text index file) from now on."""
    built: list[str] = []
    from_store, build = FacetIndex.from_store.__func__, search.build

    def facet_index(cls, store):
        built.append("facets")
        return from_store(cls, store)

    def text_file(*args):
        built.append("text")
        return build(*args)

    monkeypatch.setattr(FacetIndex, "from_store", classmethod(facet_index))
    monkeypatch.setattr(search, "build", text_file)
    return built


def fiche(tag: str, title: str, year: str | None = None, source: str = TAGS[2]):
    """A seed fiche under `tag` with `title` (and another year, if given)."""
    graph = retitled(renamed(seed_fiche(source), source, tag), tag, title)
    if year:
        action = URIRef(f"{DEFAULT_BASE}fiche/{tag}#action")
        graph.set((action, DCTERMS.temporal, Literal(year, datatype=XSD.gYear)))
    return graph


def assert_same_as_rebuilt(store, folder: Path, tmp_path: Path) -> None:
    index = facets.index_for(store, saved=lambda version: search.saved(folder, version))
    text = search.index_for(store, index, folder)
    fresh_index = FacetIndex(store.version, *facets.read(store))
    fresh_text = search.TextIndex(_built(store, fresh_index, tmp_path), fresh_index)
    assert index.version == store.version
    assert index.fiches == fresh_index.fiches
    assert index.bits == fresh_index.bits
    assert index.by_agent == fresh_index.by_agent
    assert index.values == fresh_index.values
    for key in index.by_agent:
        assert index.agent_names.get(key) == fresh_index.agent_names.get(key)
    for query in QUERIES:
        assert index.find(query) == fresh_index.find(query)
    for word in WORDS:
        assert list(text.match(word)) == list(fresh_text.match(word)), word
        found = list(text.match(word))[:5]
        assert text.snippets(word, found) == fresh_text.snippets(word, found)


def _built(store, index: FacetIndex, tmp_path: Path) -> search.TextFile:
    file = search.TextFile(tmp_path / "rebuilt" / "search.sqlite")
    file.path.parent.mkdir(exist_ok=True)
    BUILD(file.path, search.documents(store, index), index)
    with closing(sqlite3.connect(file.path)) as db:
        file._read_rowids(db, search._state(db)["build"])
    return file


def test_writes_update_the_indexes_without_rebuilding(settings, tmp_path, builds):
    store = open_configured(settings, writable=True)
    folder = tmp_path / "instance"
    assert_same_as_rebuilt(store, folder, tmp_path)
    assert builds == ["facets", "text"]
    before = len(facets.index_for(store))

    steps = [
        lambda: writes.create_fiche(store, fiche("Zzz", "Zygomatique en fin de liste"), agent="a"),
        lambda: writes.create_fiche(store, fiche("Aaa", "« Abeilles » en tête", "1999"), agent="a"),
        lambda: writes.replace_fiche(
            store, fiche(TAGS[2], "Formation zygomatique des Conseils", "2019"), agent="b"
        ),
        lambda: writes.retire_fiche(store, TAGS[0], agent="b"),
        lambda: writes.replace_fiche(store, fiche("Zzz", "Milieu de liste"), agent="a"),
        lambda: writes.create_fiche(store, seed_fiche(TAGS[0]), agent="c"),  # brought back
    ]
    for number, step in enumerate(steps):
        step()
        assert_same_as_rebuilt(store, folder, tmp_path)
        if number == 0:  # the imported fiches share one time: not read again
            assert facets.index_for(store).changed == {f"{DEFAULT_BASE}fiche/Zzz"}
    assert builds == ["facets", "text"]  # followed, never rebuilt
    assert len(facets.index_for(store)) == before + 2
    titles = [f.title for f in facets.index_for(store).fiches]
    assert titles[0] == "« Abeilles » en tête" and "Milieu de liste" in titles
    assert [p.name for p in folder.glob("search-*.sqlite")] == [
        search.index_for(store, facets.index_for(store), folder).path.name
    ]


WRITER = """
import json, sys
from memoires_ld import writes
from memoires_ld.store import open_configured
from writes_fixtures import TAGS, retitled, seed_fiche

store = open_configured(json.loads(sys.argv[1]), writable=True)
graph = retitled(seed_fiche(TAGS[1]), TAGS[1], "Zygomatique, écrit par un autre processus")
writes.replace_fiche(store, graph, agent="cli")
writes.retire_fiche(store, TAGS[2], agent="cli")
"""


@pytest.mark.parametrize("restart", [False, True], ids=["running", "restarted"])
def test_writes_of_another_process_are_followed(settings, tmp_path, builds, restart):
    store = open_configured(settings)
    folder = tmp_path / "instance"
    assert_same_as_rebuilt(store, folder, tmp_path)
    old = facets.index_for(store)
    store.close()
    del store  # the writer needs the embedded database to itself

    tests = str(Path(__file__).parent)
    env = {"PYTHONPATH": tests}
    subprocess.run(
        [sys.executable, "-c", WRITER, json.dumps(settings, default=str)],
        check=True,
        env=env | {"PATH": "/usr/bin:/bin"},
        timeout=120,
    )

    store = open_configured(settings)  # a restart, or another worker on a SPARQL server
    if hasattr(store, "_version"):
        store._version = None  # a remote store's version is trusted a few seconds
    assert store.version != old.version
    if restart:  # a new process: the facet index is read back from the text index's file
        for registry in (facets._indexes, search._indexes, search._files):
            registry.clear()
    assert_same_as_rebuilt(store, folder, tmp_path)
    assert builds == ["facets", "text"]
    index = facets.index_for(store)
    text = search.index_for(store, index, folder)
    found = [index.fiches[n].title for n in text.match("zygomatique")]
    assert found == ["Zygomatique, écrit par un autre processus"]
    assert len(index) == len(old) - 1


def test_a_write_without_revisions_makes_the_indexes_anew(settings, tmp_path, builds):
    """A harvest replaces a source's graph and stamps it (no revision): the fiches it
    brought are not known one by one, so the indexes are built anew, then followed again."""
    store = open_configured(settings, writable=True)
    folder = tmp_path / "instance"
    assert_same_as_rebuilt(store, folder, tmp_path)
    graph = renamed(seed_fiche(TAGS[1]), TAGS[1], "Moissonnee")
    quads = [
        ox.Quad(
            *(ox.NamedNode(str(t)) if isinstance(t, URIRef) else _literal(t) for t in triple),
            ox.NamedNode(f"{DEFAULT_BASE}fiche/Moissonnee"),
        )
        for triple in retitled(graph, "Moissonnee", "Moissonnée zygomatique")
    ]
    stamp = ox.Literal(
        writes.now(precise=True).isoformat(), datatype=ox.NamedNode(str(XSD.dateTime))
    )
    sources, at = ox.NamedNode("urn:x-test:sources"), ox.NamedNode(str(PROV.generatedAtTime))
    store.update(
        " ;\n".join(
            [
                *writes.insert(store, quads),
                f"INSERT DATA {{ GRAPH {sources} {{ <urn:x-test:source> {at} {stamp} }} }}",
                writes.COUNT_WRITE,
            ]
        )
    )
    assert_same_as_rebuilt(store, folder, tmp_path)
    assert builds == ["facets", "text", "facets", "text"]
    titles = [f.title for f in facets.index_for(store).fiches]
    assert "Moissonnée zygomatique" in titles
    writes.replace_fiche(store, fiche(TAGS[2], "Après la moisson"), agent="a")
    assert_same_as_rebuilt(store, folder, tmp_path)
    assert builds == ["facets", "text", "facets", "text"]  # followed again


def _literal(term: Literal) -> ox.Literal:
    if term.language:
        return ox.Literal(str(term), language=term.language)
    return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD.string)))
