"""The data folder is written all or nothing, with IRIs relative to the base."""

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from memoires_ld import datadir
from memoires_ld.iris import DEFAULT_BASE


def fiche_graph(tag: str) -> Graph:
    g = Graph()
    fiche = URIRef(f"{DEFAULT_BASE}fiche/{tag}")
    g.add((fiche, URIRef("http://schema.org/mainEntity"), URIRef(f"{fiche}#action")))
    g.add((fiche, URIRef("http://purl.org/dc/terms/title"), Literal(f"Titre {tag}", lang="fr")))
    g.add((fiche, URIRef("http://schema.org/url"), URIRef("https://schema.org/other")))
    return g


def test_written_files_are_relative_and_resolve_against_any_base(tmp_path: Path):
    datadir.write(tmp_path, {"A": fiche_graph("A")}, Graph())
    text = (tmp_path / "rdf/fiches/A.ttl").read_text()
    assert DEFAULT_BASE not in text
    assert "<fiche/A#action>" in text
    [(tag, graph)] = list(datadir.read_fiches(tmp_path, "https://memoires.example.org/"))
    assert tag == "A"
    fiche = URIRef("https://memoires.example.org/fiche/A")
    assert (fiche, URIRef("http://schema.org/mainEntity"), URIRef(f"{fiche}#action")) in graph
    # IRIs of other sites are left untouched
    assert (fiche, URIRef("http://schema.org/url"), URIRef("https://schema.org/other")) in graph


def test_round_trip_with_the_default_base(tmp_path: Path):
    datadir.write(tmp_path, {"A": fiche_graph("A"), "B": fiche_graph("B")}, Graph())
    read = dict(datadir.read_fiches(tmp_path, DEFAULT_BASE))
    assert set(read) == {"A", "B"}
    assert isomorphic(read["B"], fiche_graph("B"))


def test_a_failed_write_leaves_the_previous_data(tmp_path: Path):
    datadir.write(tmp_path, {"A": fiche_graph("A")}, Graph())
    before = datadir.version(tmp_path)

    class Broken(Graph):
        def serialize(self, *args, **kwargs):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        datadir.write(tmp_path, {"A": fiche_graph("A"), "B": Broken()}, Graph())
    assert datadir.version(tmp_path) == before
    assert [p.name for p in tmp_path.iterdir()] == ["rdf"]  # no staging folder left


def test_an_interrupted_swap_is_recovered(tmp_path: Path):
    datadir.write(tmp_path, {"A": fiche_graph("A")}, Graph())
    before = datadir.version(tmp_path)
    (tmp_path / "rdf").rename(tmp_path / ".rdf-old")  # crash between the two renames
    assert datadir.version(tmp_path) == before
    assert (tmp_path / "rdf/fiches/A.ttl").exists()


def test_version_changes_with_the_data(tmp_path: Path):
    datadir.write(tmp_path, {"A": fiche_graph("A")}, Graph())
    first = datadir.version(tmp_path)
    datadir.write(tmp_path, {"A": fiche_graph("A"), "B": fiche_graph("B")}, Graph())
    assert datadir.version(tmp_path) != first
