"""Full-text search: accents, case and ligatures ignored, words as prefixes, any input safe."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from synthetic import synthetic_store

from memoires_ld import search
from memoires_ld.facets import FacetIndex
from memoires_ld.iris import DEFAULT_BASE
from memoires_ld.store import open_store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("seed")
    shutil.copytree(ROOT / "data/rdf", tmp / "data/rdf")
    store = open_store(tmp / "instance", tmp / "data", DEFAULT_BASE)
    index = FacetIndex.from_store(store)
    return index, search.index_for(store, index, tmp / "instance")


def titles(seed, text: str) -> list[str]:
    index, text_index = seed
    return [index.fiches[n].title for n in text_index.match(text)]


@pytest.mark.parametrize("spelling", ["coopération", "cooperation", "COOPÉRATION", "Coopèration"])
def test_accents_and_case_are_ignored(seed, spelling):
    found = titles(seed, spelling)
    assert found == titles(seed, "coopération") and len(found) >= 5
    assert "Formation à la coopération - Acteurs politique de la ville" in found
    assert set(found) < set(titles(seed, "Coopé"))  # coopératif, coopérative…


def test_ligatures_match_both_ways(seed):
    assert titles(seed, "oeuvre") == titles(seed, "œuvre") == titles(seed, "ŒUVRE")
    assert titles(seed, "oeuvre")


def test_every_word_is_required_and_a_prefix(seed):
    numeric = set(titles(seed, "numérique"))
    both = set(titles(seed, "numéri coopé"))
    assert both and both < numeric
    assert titles(seed, "fablab amboise") == ["Accompagnement à la création d'un FabLab à Amboise"]


def test_authors_names_are_searched(seed):
    index, text_index = seed
    found = {index.fiches[n].iri for n in text_index.match("gaucher")}
    assert found == {f.iri for f in index.fiches if "sarah-gaucher" in f.keys("auteur")}


def test_title_hits_come_first(seed):
    found = titles(seed, "coopération")
    in_title = [t for t in found if "coopération" in t.lower()]
    assert found[: len(in_title)] == in_title
    assert len(in_title) < len(found)


@pytest.mark.parametrize(
    "text",
    [
        '" } ; DROP ALL ; SELECT * WHERE { ?s ?p ?o',
        "NEAR(a b) OR title:x AND NOT y*",
        '"unbalanced',
        "^ * - + ( ) : { }",
        "a" * 200,
        "",
        "\x00\x1f",
    ],
)
def test_any_input_is_only_words(seed, text):
    _, text_index = seed
    assert all(isinstance(n, int) for n in text_index.match(text))
    expression = search.match_expression(text)
    assert all(part.startswith(('"', '("')) for part in expression.split(" AND ") if part)


def test_snippets_mark_the_words_found(seed):
    _, text_index = seed
    found = text_index.match("cooperation")
    marked = text_index.snippets("cooperation", found[:3])
    assert marked and all("\x02" in s and "\x03" in s for s in marked.values())


def test_one_file_per_store(tmp_path):
    store = synthetic_store(50)
    index = FacetIndex.from_store(store)
    first = search.index_for(store, index, tmp_path)
    with sqlite3.connect(first.path) as db:
        assert db.execute("SELECT count(*) FROM fiches").fetchone() == (50,)
        assert db.execute("SELECT count(*) FROM docs").fetchone() == (50,)
    other = synthetic_store(60, seed=2)
    second = search.index_for(other, FacetIndex.from_store(other), tmp_path)
    assert not first.path.exists() and second.path.exists()
    assert [p.name for p in tmp_path.iterdir()] == [second.path.name]


def test_rowids_become_the_ordinals_of_the_facet_index(seed):
    index, text_index = seed
    found = text_index.match("cooperation")
    with sqlite3.connect(text_index.path) as db:
        iris = {
            iri
            for (iri,) in db.execute(
                "SELECT iri FROM docs WHERE id IN (SELECT rowid FROM fiches WHERE fiches MATCH ?)",
                (search.match_expression("cooperation"),),
            )
        }
    assert {index.fiches[n].iri for n in found} == iris


def test_a_file_without_the_write_count_is_completed_for_the_next_restart(tmp_path):
    """A text index file written before the write count was kept could not give the facet
    index back: every restart rebuilt it from the store. The first start completes it."""
    from memoires_ld import facets

    shutil.copytree(ROOT / "data/rdf", tmp_path / "data/rdf")
    store = open_store(tmp_path / "instance", tmp_path / "data", DEFAULT_BASE)
    folder = tmp_path / "instance"
    search.prepare(store, folder)
    with sqlite3.connect(search._path(folder, store.version)) as db:
        db.execute("DELETE FROM state WHERE name = 'at_count'")
    assert search.saved(folder, store.version) is None  # as an older release left it
    facets._indexes.clear(), search._indexes.clear(), search._files.clear()  # a new process
    search.prepare(store, folder)
    restored = search.saved(folder, store.version)
    assert restored is not None and restored.version == store.version
    assert len(restored.fiches) == 38 and restored.at is not None
