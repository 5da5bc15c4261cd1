"""Helpers shared by the tests of writes, history, accounts and forms (not a test module)."""

from __future__ import annotations

import shutil
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS

from memoires_ld import datadir
from memoires_ld.iris import DEFAULT_BASE
from memoires_ld.store import Store, open_store

SEED = Path(__file__).resolve().parents[1] / "data"
TAGS = (
    "AtelierCohesionDEquipe",
    "AccompagnementDUnReseauAssociatifSurLaMu",
    "FormationDesConseilsCitoyens",
)


def small_data(target: Path, tags=TAGS) -> Path:
    """A data folder with a few seed fiches (a fresh load takes a fraction of a second)."""
    fiches = target / datadir.RDF_DIR / datadir.FICHES_DIR
    fiches.mkdir(parents=True)
    for tag in tags:
        shutil.copy(SEED / datadir.RDF_DIR / datadir.FICHES_DIR / f"{tag}.ttl", fiches)
    shutil.copy(SEED / datadir.RDF_DIR / datadir.IMPORT_FILE, target / datadir.RDF_DIR)
    return target


def open_small(tmp_path: Path, base: str = DEFAULT_BASE) -> Store:
    data = tmp_path / "data"
    if not data.exists():
        small_data(data)
    return open_store(tmp_path / "instance", data, base, writable=True)


def seed_fiche(tag: str, base: str = DEFAULT_BASE) -> Graph:
    """A seed fiche's graph, IRIs resolved against `base`."""
    return datadir.read_turtle(SEED / datadir.RDF_DIR / datadir.FICHES_DIR / f"{tag}.ttl", base)


def retitled(graph: Graph, tag: str, title: str, base: str = DEFAULT_BASE) -> Graph:
    """A copy of a fiche graph with another French title."""
    copy = Graph()
    for triple in graph:
        copy.add(triple)
    copy.set((URIRef(f"{base}fiche/{tag}"), DCTERMS.title, Literal(title, lang="fr")))
    return copy


def renamed(graph: Graph, old: str, new: str, base: str = DEFAULT_BASE) -> Graph:
    """A copy of a fiche graph under another tag (its own IRIs and identifier follow)."""
    old_iri, new_iri = f"{base}fiche/{old}", f"{base}fiche/{new}"

    def move(term):
        if isinstance(term, URIRef) and (str(term) == old_iri or term.startswith(old_iri + "#")):
            return URIRef(new_iri + term[len(old_iri) :])
        if term == Literal(old):
            return Literal(new)
        return term

    copy = Graph()
    for s, p, o in graph:
        copy.add((move(s), p, move(o)))
    return copy
