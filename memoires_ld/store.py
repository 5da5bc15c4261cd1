"""The store: an embedded, persistent Oxigraph database in the instance folder.

Each fiche lives in its own named graph (named by the fiche IRI), the vocabulary in
`https://w3id.org/memoires-ld/ns`; SPARQL sees the union of all graphs as its default graph.

A load never touches the store being served: the data is loaded into a new folder
`store-<version>/`, then `store.current` (a one-line file, replaced atomically) is pointed
at it. A crash or kill -9 during a load leaves the previous store in use; a restart with
unchanged data reopens the store as it is (no reload).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pyoxigraph as ox

from . import datadir
from .namespaces import W3ID
from .resources import folder

VOCABULARY_GRAPH = ox.NamedNode(W3ID + "ns")
POINTER = "store.current"


def code_version() -> str:
    """Digest of what shapes the loaded store besides data/: the vocabulary files."""
    digest = hashlib.sha256()
    for path in sorted(folder("ontology").glob("*.ttl")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


class Store:
    """A small interface over pyoxigraph; a remote SPARQL engine can implement the same."""

    def __init__(self, oxigraph: ox.Store, version: str, base: str):
        self.ox = oxigraph
        self.version = version
        self.base = base

    # -- reading -------------------------------------------------------------
    def query(self, sparql: str, *, substitutions: dict | None = None, **options):
        """Run a SPARQL query over the union of the graphs."""
        return self.ox.query(
            sparql, use_default_graph_as_union=True, substitutions=substitutions, **options
        )

    def graph_quads(self, graph_iri: str) -> list[ox.Quad]:
        return list(self.ox.quads_for_pattern(None, None, None, ox.NamedNode(graph_iri)))

    def has_graph(self, graph_iri: str) -> bool:
        return self.ox.contains_named_graph(ox.NamedNode(graph_iri))

    def about(self, iri: str) -> list[ox.Triple]:
        """Every triple whose subject is `iri`, in any graph, without duplicates."""
        seen = dict.fromkeys(
            q.triple for q in self.ox.quads_for_pattern(ox.NamedNode(iri), None, None)
        )
        return list(seen)

    def __len__(self) -> int:
        return len(self.ox)


def load_into(target: ox.Store, data_dir: Path, base: str) -> None:
    """Load the vocabulary and every fiche of `data_dir` into an empty store."""
    for path in sorted(folder("ontology").glob("*.ttl")):
        target.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=VOCABULARY_GRAPH)
    fiches = data_dir / datadir.RDF_DIR / datadir.FICHES_DIR
    for path in sorted(fiches.glob("*.ttl")):
        # The file's own IRIs are relative: the fiche IRI is the file's IRI under `base`.
        graph = ox.NamedNode(f"{base}fiche/{path.stem}")
        target.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=base, to_graph=graph)
    target.flush()


def open_store(instance_dir: Path, data_dir: Path, base: str) -> Store:
    """Open the instance's store, (re)loading it first if `data_dir` or the base changed."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    wanted = f"{datadir.version(data_dir)}-{code_version()}-{_digest(base)}"
    pointer = instance_dir / POINTER
    current = pointer.read_text().strip() if pointer.exists() else None
    path = instance_dir / f"store-{wanted}"
    if current != wanted or not path.is_dir():
        staging = instance_dir / f".loading-{wanted}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        fresh = ox.Store(str(staging))
        load_into(fresh, data_dir, base)
        del fresh
        shutil.rmtree(path, ignore_errors=True)
        os.replace(staging, path)
        tmp = pointer.with_suffix(".tmp")
        tmp.write_text(wanted + "\n")
        os.replace(tmp, pointer)
        _remove_stale(instance_dir, keep=path.name)
    return Store(ox.Store(str(path)), version=wanted, base=base)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _remove_stale(instance_dir: Path, keep: str) -> None:
    for old in instance_dir.glob("store-*"):
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
    for old in instance_dir.glob(".loading-*"):
        shutil.rmtree(old, ignore_errors=True)
