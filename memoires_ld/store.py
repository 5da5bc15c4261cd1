"""The store: what the rest of the code may ask of a store, and the embedded one.

`Store` is the contract every backend keeps: SPARQL queries over the union of the graphs
(results as pyoxigraph terms, whatever the engine), SPARQL updates applied as one request,
quads by pattern, named graphs, bulk loads and a version that changes with every write.
`EmbeddedStore` (here, the default) keeps it on an embedded Oxigraph database in the
instance folder; `store_sparql.SparqlStore` on any SPARQL 1.1 Query + Update server (#7).

Each fiche lives in its own named graph (named by the fiche IRI), the vocabulary in
`https://w3id.org/memoires-ld/ns`, the provenance of the import (data/rdf/import.ttl) in
the default graph; SPARQL sees the union of all graphs as its default graph.

A new instance loads data/ into a new folder `store-<version>/`, then `store.current` (a
small file, replaced atomically) is pointed at it: a crash or kill -9 during that load leaves
no store (the next start loads again). Afterwards the store also holds fiches written on the
web (writes.py), so it is never reloaded: a changed data/ is applied as an import through
the write path (one revision by "import" per changed fiche). A restart with unchanged data
reopens the store as it is, without reading the data files: their names, sizes and
modification times are compared with those recorded at the last start. A new BASE_URL starts
a new store (the old one, with the old IRIs, stays in its folder).

`Store.version` changes with every write (a counter in the store's own bookkeeping graph,
updated in the write's own update request): caches and ETags key on it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import weakref
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

import pyoxigraph as ox

from . import datadir
from .namespaces import W3ID
from .resources import folder

VOCABULARY_GRAPH = ox.NamedNode(W3ID + "ns")
POINTER = "store.current"
#: Quads per `bulk_extend` of a load (~100 MB of memory).
LOAD_CHUNK = 200_000
LOCK = "store.lock"
Term = ox.NamedNode | ox.BlankNode | ox.Literal
Graph = ox.NamedNode | ox.DefaultGraph


def code_version() -> str:
    """Digest of what shapes the loaded store besides data/: the vocabulary files."""
    digest = hashlib.sha256()
    for path in sorted(folder("ontology").glob("*.ttl")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


class Store:
    """The contract of a store. Terms are pyoxigraph's; reads see the union of the graphs."""

    base: str
    #: False for a store opened read-only (writes are refused)
    writable: bool = True
    #: Where the data's default graph (the import's provenance) is kept: the default graph
    #: itself, or a named graph in an engine whose default graph is the union of the others.
    default_graph: Graph = ox.DefaultGraph()
    #: The prefix of the IRIs that stand for blank nodes in the store (skolem IRIs), or ""
    #: if it keeps blank nodes.
    genid: str = ""

    # -- what each backend implements --------------------------------------------------
    @property
    def version(self) -> str:
        """Changes whenever what the store holds changes: each write, data, vocabulary, base."""
        raise NotImplementedError

    def query(self, sparql: str) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run a SPARQL query over the union of the graphs: solutions, a boolean or triples."""
        raise NotImplementedError

    def update(self, sparql: str) -> None:
        """Apply a SPARQL Update request, all of it or nothing (one transaction)."""
        raise NotImplementedError

    def match(
        self,
        subject: Term | None = None,
        predicate: ox.NamedNode | None = None,
        object: Term | None = None,
        graph: Graph | None = None,
    ) -> Iterator[ox.Quad]:
        """The quads matching a pattern (None matches anything; no blank node as a key)."""
        raise NotImplementedError

    def named_graphs(self) -> list[ox.NamedNode]:
        """This instance's named graphs (an engine's own graphs left out)."""
        raise NotImplementedError

    def load(self, quads: Iterable[ox.Quad]) -> None:
        """Add many quads fast, without a transaction: a new store, a bulk load."""
        raise NotImplementedError

    def load_nquads(self, files: Iterable[Path]) -> None:
        """`load` the quads of N-Quads files written for this store by bulkload.py (our own
        serialiser; blank nodes as `genid` IRIs if it has one). The same blank node label in
        two files may or may not be the same node: keep them apart."""
        self.load(q for f in files for q in ox.parse(path=str(f), format=ox.RdfFormat.N_QUADS))

    def close(self) -> None:
        """Release what the store holds open (idempotent)."""

    # -- built on the above --------------------------------------------------------------
    def write_count(self) -> int:
        """How many writes the store has seen (its bookkeeping graph's counter)."""
        from .history import META, META_GRAPH, WRITES

        for quad in self.match(META, WRITES, None, META_GRAPH):
            return int(quad.object.value)
        return 0

    def has_graph(self, graph_iri: str) -> bool:
        return any(True for _ in self.match(None, None, None, ox.NamedNode(graph_iri)))

    def graph_quads(self, graph_iri: str) -> list[ox.Quad]:
        return list(self.match(None, None, None, ox.NamedNode(graph_iri)))

    def published_graphs(self) -> list[ox.NamedNode]:
        """The named graphs of the published data: the fiches and the vocabulary."""
        return [g for g in self.named_graphs() if not _internal(g.value)]

    def quads(self) -> Iterator[ox.Quad]:
        """Every quad of the published data, graph by graph (the default graph's included).

        Not published this way: the fiches' histories and tombstones (served on their own
        pages), the store's bookkeeping.
        """
        for graph in [ox.DefaultGraph(), *sorted(self.published_graphs(), key=str)]:
            yield from self.match(None, None, None, graph)

    def about(self, iri: str) -> list[ox.Triple]:
        """Every triple whose subject is `iri`, in any graph, without duplicates."""
        return list(dict.fromkeys(q.triple for q in self.match(ox.NamedNode(iri))))

    def describe(
        self, subjects: Iterable[Term], graph: Graph, follow: frozenset = frozenset()
    ) -> list[ox.Quad]:
        """The quads of `graph` about `subjects`, following blank nodes (a concise bounded
        description) and the IRIs that are objects of the `follow` predicates."""
        return _walk(subjects, lambda node: self.match(node, None, None, graph), follow)

    def written(self, term: Term) -> str:
        """A term as written in a request to this store (N-Triples)."""
        return str(term)

    def stored_graph(self, graph: Graph) -> Graph:
        """The graph a quad of `graph` is kept in (see `default_graph`)."""
        return self.default_graph if isinstance(graph, ox.DefaultGraph) else graph


def _walk(subjects: Iterable[Term], lookup, follow: frozenset) -> list[ox.Quad]:
    found, todo, seen = [], deque(subjects), set()
    while todo:
        node = todo.popleft()
        if node in seen:
            continue
        seen.add(node)
        for quad in lookup(node):
            found.append(quad)
            if isinstance(quad.object, ox.BlankNode) or (
                quad.predicate in follow and isinstance(quad.object, ox.NamedNode)
            ):
                todo.append(quad.object)
    return found


def _internal(graph: str) -> bool:
    """A graph of history.py: a fiche's history or tombstone, the store's bookkeeping."""
    return graph.endswith(("/history", "#tombstone")) or graph.startswith("urn:x-memoires-ld:")


class EmbeddedStore(Store):
    """The store on an embedded Oxigraph database (pyoxigraph)."""

    def __init__(self, oxigraph: ox.Store, version: str, base: str, *, writable: bool = True):
        self.ox = oxigraph
        self._loaded = version
        self.base = base
        self.writable = writable

    @property
    def version(self) -> str:
        count = self.write_count()
        return f"{self._loaded}.{count}" if count else self._loaded

    @version.setter
    def version(self, value: str) -> None:
        self._loaded = value

    def query(self, sparql: str, **options):
        """Run a SPARQL query over the union of the graphs (options: pyoxigraph's)."""
        return self.ox.query(sparql, use_default_graph_as_union=True, **options)

    def update(self, sparql: str) -> None:
        # Oxigraph runs an update request in a single transaction.
        self.ox.update(sparql)

    def match(self, subject=None, predicate=None, object=None, graph=None):
        return self.ox.quads_for_pattern(subject, predicate, object, graph)

    def named_graphs(self) -> list[ox.NamedNode]:
        return list(self.ox.named_graphs())

    def has_graph(self, graph_iri: str) -> bool:
        return self.ox.contains_named_graph(ox.NamedNode(graph_iri))

    def load(self, quads: Iterable[ox.Quad]) -> None:
        # `bulk_extend` by chunks: a `bulk_load` per file would write files to disk for each
        # fiche (0.9 s for the 38 seed fiches, one RocksDB file per fiche), and one call for
        # everything holds it all in memory first (10k fiches with their history: 1.6 GB).
        quads = iter(quads)
        while chunk := list(islice(quads, LOAD_CHUNK)):
            self.ox.bulk_extend(chunk)
        self.ox.flush()

    def load_nquads(self, files: Iterable[Path]) -> None:
        # One `bulk_load` per file of many fiches (bulkload.BATCH_BYTES): read, parsed and
        # written in Rust, no Python object per quad. `lenient`: the IRIs are not checked
        # again (our serialiser wrote them from checked terms; 10 % of the load's time).
        # It gives blank nodes new labels, the same within a file.
        for path in files:
            self.ox.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS, lenient=True)
        self.ox.flush()

    def close(self) -> None:
        # This store's hold on the process's handle goes: once no Store holds it, the next
        # open reopens the database (a read-only one then sees the writes made since).
        self._handle = None

    def __len__(self) -> int:
        """Number of quads (a triple repeated in two graphs counts twice)."""
        return len(self.ox)


def parse_file(path: Path, base: str | None, graph: Graph) -> Iterator[ox.Quad]:
    """The triples of a Turtle file as quads of `graph`, relative IRIs against `base`."""
    for quad in ox.parse(
        path=str(path), format=ox.RdfFormat.TURTLE, base_iri=base, rename_blank_nodes=True
    ):
        yield ox.Quad(quad.subject, quad.predicate, quad.object, graph)


_parse = parse_file  # the name writes.py knows


# -- which store, from the settings -------------------------------------------------------


def open_configured(settings: dict, *, writable: bool = False) -> Store:
    """The store the settings name: embedded in INSTANCE_DIR (STORE empty) or a SPARQL server.

    Either way data/ is loaded into a new store, or its changes applied, before it is used.
    """
    instance, data, base = (
        Path(settings["INSTANCE_DIR"]),
        Path(settings["DATA_DIR"]),
        settings["BASE_URL"],
    )
    if not settings.get("STORE"):
        return open_store(instance, data, base, writable=writable)
    from .store_sparql import open_remote

    return open_remote(settings, instance, data, base)


# -- the embedded store in the instance folder --------------------------------------------


def open_store(instance_dir: Path, data_dir: Path, base: str, *, writable: bool = False) -> Store:
    """Open the instance's embedded store, loading data/ on first start or applying its changes.

    Read-only by default: any number of threads and processes can share it (RocksDB takes no
    lock). `writable=True` (the web app with one worker): only one process may hold it; in
    that process every caller shares one handle.
    """
    path, version = prepare(instance_dir, data_dir, base)
    return _store(path, version, base, writable=writable)


class _Handle:
    """An open database, shared by every Store of this process on the same folder."""

    def __init__(self, oxigraph: ox.Store, writable: bool):
        self.ox = oxigraph
        self.writable = writable


#: Closed when the last Store using it is gone (e.g. before gunicorn forks its workers).
_OPEN: weakref.WeakValueDictionary[str, _Handle] = weakref.WeakValueDictionary()


def _store(path: Path, version: str, base: str, *, writable: bool) -> EmbeddedStore:
    """A Store on `path`, sharing this process's handle on it (RocksDB allows one writer)."""
    key = str(path.resolve())
    handle = _OPEN.get(key)
    if handle is None or (writable and not handle.writable):
        oxigraph = ox.Store(str(path)) if writable else ox.Store.read_only(str(path))
        handle = _OPEN[key] = _Handle(oxigraph, writable)
    store = EmbeddedStore(handle.ox, version=version, base=base, writable=handle.writable)
    store._handle = handle  # keeps it open as long as the store is used
    return store


def prepare(instance_dir: Path, data_dir: Path, base: str) -> tuple[Path, str]:
    """Make sure the store of the current data exists; return its folder and version.

    Serialised across processes by a lock file, so that two servers starting at once load
    the data once.
    """
    instance_dir.mkdir(parents=True, exist_ok=True)
    with locked(instance_dir / LOCK):
        datadir.recover(data_dir)
        stamp = data_stamp(data_dir, base)
        pointer = instance_dir / POINTER
        current, current_stamp = _read_pointer(pointer)
        if current and current_stamp == stamp and (instance_dir / f"store-{current}").is_dir():
            return instance_dir / f"store-{current}", current
        existing = _existing(instance_dir, base, current)
        if existing is None:  # a new instance (or a new base URL): load data/
            current = f"{datadir.version(data_dir)}-{code_version()}-{_digest(base)}"
            path = instance_dir / f"store-{current}"
            _load(instance_dir, data_dir, base, path)
        else:  # data/ or the vocabulary changed: import the changes through the write path
            from .writes import sync_store

            current, path = existing, instance_dir / f"store-{existing}"
            sync_store(_store(path, current, base, writable=True), data_dir)
        _write_atomically(pointer, f"{current}\n{stamp}\n")
        _remove_stale(instance_dir, keep=path.name)
        return path, current


def data_stamp(data_dir: Path, base: str) -> str:
    """What a store was last brought up to date with: data/ (by file stats), code, base."""
    return f"{_stat_digest(data_dir)}-{code_version()}-{_digest(base)}"


def _existing(instance_dir: Path, base: str, current: str | None) -> str | None:
    """The store folder of this base URL, if there is one."""
    suffix = f"-{_digest(base)}"
    if current and current.endswith(suffix) and (instance_dir / f"store-{current}").is_dir():
        return current
    found = sorted(instance_dir.glob(f"store-*{suffix}"))
    return found[0].name.removeprefix("store-") if found else None


def _load(instance_dir: Path, data_dir: Path, base: str, path: Path) -> None:
    from .loading import load_data

    staging = instance_dir / f".loading-{path.name}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    fresh = ox.Store(str(staging))
    load_data(EmbeddedStore(fresh, "loading", base), data_dir)
    # Write the memtable out: unflushed, it is replayed from the log at every opening, and
    # every read then searches it (1k fiches: 1 GB of RSS and minutes to write the dumps).
    fresh.flush()
    fresh.optimize()
    del fresh  # closes the database
    shutil.rmtree(path, ignore_errors=True)
    os.replace(staging, path)


def _read_pointer(pointer: Path) -> tuple[str | None, str | None]:
    if not pointer.exists():
        return None, None
    lines = pointer.read_text().split()
    return (lines[0] if lines else None), (lines[1] if len(lines) > 1 else None)


def _stat_digest(data_dir: Path) -> str:
    """Digest of the data files' names, sizes and modification times (no content read)."""
    digest = hashlib.sha256()
    root = data_dir / datadir.RDF_DIR
    for sub in (root, root / datadir.FICHES_DIR):
        if not sub.is_dir():
            continue
        with os.scandir(sub) as entries:
            files = sorted((e.name, e.stat()) for e in entries if e.name.endswith(".ttl"))
        for name, stat in files:
            digest.update(f"{sub.name}/{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


@contextmanager
def locked(path: Path):
    """An exclusive lock held by this process until the block ends (or the process dies)."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_stale(instance_dir: Path, keep: str) -> None:
    """Remove interrupted loads and older stores of the same base URL (never another's)."""
    suffix = keep.rsplit("-", 1)[-1]
    for old in instance_dir.glob(f"store-*-{suffix}"):
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
    for old in instance_dir.glob(".loading-*"):
        shutil.rmtree(old, ignore_errors=True)
