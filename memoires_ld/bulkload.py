"""`memoires-ld load`: many fiche files into a store, validated in parallel, cached (#7).

Each file is read and parsed once, by one of `jobs` worker processes, and checked there
(shape_check, else pyshacl with a reused Validator; the shapes read once per process); the
verdict is kept by the file's content hash in `INSTANCE_DIR/validation-cache.sqlite`, so
that loading the same files again validates only what changed. For a new fiche that
conforms, the worker also builds the N-Quads that store it (loading.new_fiche: its graph,
its first revision, its file's digest); the main process only joins those bytes into
chunks for the store (`Store.load_nquads`) while the others are still being checked.
Fiches the store already holds go through the write path (one revision each), unchanged
ones nowhere. A fiche that does not conform is not stored; the others are.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import rdflib
from rdflib import BNode, Graph, Literal, URIRef

from . import __version__, datadir, shape_check, validation
from .history import META_GRAPH
from .iris import Iris
from .loading import FicheFile, file_digest, new_fiche
from .resources import folder
from .store import Store

#: The digest of the file each fiche was last loaded from (not data/'s: sync_data would
#: retire a fiche it knows that is not in data/).
LOAD_DIGEST = ox.NamedNode("urn:x-memoires-ld:load-digest")
CACHE = "validation-cache.sqlite"
#: The reason the revisions of a load give.
REASON = "Chargée par memoires-ld load."
#: Bytes of N-Quads handed to the store at a time (new fiches, ~15 KB each).
LOAD_BYTES = 32_000_000
#: Files handed to the workers and not yet taken back, at most (their N-Quads: ~26 KB each).
IN_FLIGHT = 1_000
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


@dataclass(frozen=True)
class Verdict:
    tag: str
    path: Path
    digest: str
    conforms: bool
    #: validation.report_summary() of a fiche that does not conform, as JSON
    summary: str = ""
    #: the verdict came from the cache
    cached: bool = False


@dataclass
class Loaded:
    """What a load did, fiche by fiche."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    invalid: list[Verdict] = field(default_factory=list)
    validated: int = 0  # files validated now (not answered by the cache)


# -- validation in worker processes -------------------------------------------------------


def rules_digest() -> str:
    """What a cached verdict depends on besides the file: the shapes, pyshacl, this code."""
    digest = hashlib.sha256(f"{__version__} {pyshacl.__version__}".encode())
    digest.update(Path(shape_check.__file__).read_bytes())
    for path in sorted(folder("shapes").glob("*.ttl")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def read_graph(triples: Iterable[ox.Quad | ox.Triple]) -> Graph:
    """Triples parsed by pyoxigraph (3× faster than rdflib's parser) as an rdflib graph."""
    graph = Graph(bind_namespaces="none")
    for t in triples:
        graph.add((_term(t.subject), URIRef(t.predicate.value), _term(t.object)))
    return graph


def _term(term):
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return Literal(term.value, datatype=None if datatype == XSD_STRING else URIRef(datatype))


@dataclass(frozen=True)
class Job:
    """One file for a worker: check it (unless its verdict is cached), and build the
    N-Quads that store it if it is new."""

    tag: str
    path: str
    digest: str
    check: bool
    build: bool


#: What every job of one load shares (set in each worker by `_start_worker`).
_load: dict = {}


def _start_worker(base: str, reason: str, at: datetime) -> None:
    # In these processes only: keep rdf:HTML literals as text. rdflib parses each into a
    # DOM with html5rdf (half the cost of reading a fiche), and no shape looks inside.
    rdflib.term._toPythonMapping[URIRef(str(rdflib.RDF.HTML))] = str
    shape_check.compiled()  # the shapes, read and compiled once per process
    _load.update(iris=Iris(base), base=base, reason=reason, at=at)


def _work(job: Job) -> tuple[Verdict, bytes]:
    """A file's verdict, and if it is new and conforms, its N-Quads (loading.new_fiche).

    The file is parsed once. The verdict: the compiled shapes when the fiche surely
    conforms (~1 ms), else pyshacl (~10 ms), which decides and writes the report.
    """
    path = Path(job.path)
    triples = list(ox.parse(path=job.path, format=ox.RdfFormat.TURTLE, base_iri=_load["base"]))
    verdict = Verdict(job.tag, path, job.digest, True, cached=not job.check)
    if job.check and not shape_check.surely_conforms(triples):
        report = validation.validate(read_graph(triples))
        summary = "" if report.conforms else json.dumps(validation.report_summary(report))
        verdict = Verdict(job.tag, path, job.digest, report.conforms, summary)
    if not (verdict.conforms and job.build):
        return verdict, b""
    f = FicheFile(job.tag, path, job.digest)
    reason, at = _load["reason"], _load["at"]
    quads = new_fiche(_load["iris"], f, triples, reason=reason, digest_key=LOAD_DIGEST, at=at)
    return verdict, ox.serialize(quads, format=ox.RdfFormat.N_QUADS)


class Cache:
    """Verdicts by (file digest, base, rules digest), in SQLite (one writer: this process)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS verdict (key TEXT PRIMARY KEY, conforms INTEGER, "
            "summary TEXT)"
        )
        self.rules = rules_digest()

    def key(self, digest: str, base: str) -> str:
        return f"{digest}:{hashlib.sha256(base.encode()).hexdigest()[:8]}:{self.rules}"

    def get(self, key: str) -> tuple[bool, str] | None:
        row = self.db.execute("SELECT conforms, summary FROM verdict WHERE key = ?", (key,))
        found = row.fetchone()
        return None if found is None else (bool(found[0]), found[1])

    def put(self, verdicts: list[tuple[str, Verdict]]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO verdict VALUES (?, ?, ?)",
            [(key, int(v.conforms), v.summary) for key, v in verdicts],
        )
        self.db.commit()

    def close(self) -> None:
        self.db.close()


def load_files(
    store: Store, files: list[Path], *, jobs: int = 0, cache: Cache | None = None
) -> Loaded:
    """Validate and store fiche files (TAG.ttl, IRIs relative to the store's base)."""
    from .writes import COUNT_WRITE, IMPORT_AGENT, now, replace_fiche

    iris = Iris(store.base)
    existing = {iris.tag_of(g.value) for g in store.published_graphs()} - {None}
    known = {
        iris.tag_of(q.subject.value.removesuffix("/history")): q.object.value
        for q in store.match(None, LOAD_DIGEST, None, META_GRAPH)
    }
    done = Loaded()
    changed: list[Verdict] = []
    todo: list[Job] = []

    def sort(verdict: Verdict) -> bool:
        """File the verdict; True if the fiche is new and conforms (to be added)."""
        done.validated += not verdict.cached
        if not verdict.conforms:
            done.invalid.append(verdict)
        elif known.get(verdict.tag) == verdict.digest:
            done.unchanged.append(verdict.tag)
        elif verdict.tag in existing:
            changed.append(verdict)
        else:
            done.added.append(verdict.tag)
            return True
        return False

    for path in files:
        digest = file_digest(path)
        cached = cache.get(cache.key(digest, store.base)) if cache is not None else None
        new = path.stem not in existing
        if cached is None:
            todo.append(Job(path.stem, str(path), digest, check=True, build=new))
        elif cached[0] and new:  # conforms (cached), not stored yet: a worker builds it
            todo.append(Job(path.stem, str(path), digest, check=False, build=True))
        else:
            sort(Verdict(path.stem, path, digest, *cached, cached=True))

    def chunks() -> Iterator[bytes]:
        """The new fiches' N-Quads, joined into chunks of about LOAD_BYTES."""
        parts, size = [], 0
        for verdict, nquads in _run(todo, store.base, REASON, now(), jobs, cache):
            if sort(verdict) and nquads:
                parts.append(nquads)
                size += len(nquads)
                if size >= LOAD_BYTES:
                    yield b"".join(parts)
                    parts, size = [], 0
        if parts:
            yield b"".join(parts)

    store.load_nquads(chunks())
    if done.added:
        store.update(COUNT_WRITE)  # a new version: caches and ETags move on
    for verdict in changed:
        graph = datadir.read_turtle(verdict.path, store.base)
        replace_fiche(store, graph, agent=IMPORT_AGENT, reason=REASON, stamp=False)
        hist = ox.NamedNode(str(iris.history(verdict.tag)))
        store.update(
            f"DELETE WHERE {{ GRAPH {META_GRAPH} {{ {hist} {LOAD_DIGEST} ?d }} }} ;\n"
            f"INSERT DATA {{ GRAPH {META_GRAPH} {{ {hist} {LOAD_DIGEST} "
            f"{ox.Literal(verdict.digest)} }} }}"
        )
        done.replaced.append(verdict.tag)
    return done


def _run(
    todo: list[Job], base: str, reason: str, at: datetime, jobs: int, cache: Cache | None
) -> Iterator[tuple[Verdict, bytes]]:
    """The jobs' results from `jobs` worker processes (0: one per core), in order; the
    verdicts found now are kept in the cache, 1,000 at a time."""
    if not todo:
        return
    # At most IN_FLIGHT jobs handed out and not yet taken back: without a bound the
    # workers' N-Quads pile up in this process while the store writes (100k: 1.2 GB).
    window, stop = threading.Semaphore(IN_FLIGHT), threading.Event()

    def handed_out() -> Iterator[Job]:
        for job in todo:
            window.acquire()
            if stop.is_set():
                return
            yield job

    context = multiprocessing.get_context("forkserver")
    initargs = (base, reason, at)
    with context.Pool(jobs or multiprocessing.cpu_count(), _start_worker, initargs) as pool:
        pending = []
        try:
            for verdict, nquads in pool.imap(_work, handed_out(), chunksize=16):
                window.release()
                if cache is not None and not verdict.cached:
                    pending.append((cache.key(verdict.digest, base), verdict))
                    if len(pending) >= 1000:
                        cache.put(pending)
                        pending = []
                yield verdict, nquads
        finally:
            stop.set()
            window.release(IN_FLIGHT)  # the feeding thread must not wait any longer
        if cache is not None and pending:
            cache.put(pending)
