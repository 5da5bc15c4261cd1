"""`memoires-ld load`: many fiche files into a store, validated in parallel, cached (#7).

Worker processes (one per core) take the files in batches. For each file a worker reads it
once, takes its digest, and looks its verdict up in `INSTANCE_DIR/validation-cache.sqlite`
(kept by content hash: loading the same files again validates only what changed); if it has
none, it parses and checks the file (shape_check, else pyshacl with a reused Validator; the
shapes read once per process). For a new fiche that conforms it writes the N-Quads that store
it (loading.new_fiche: its graph, its first revision, its file's digest) to the batch's spool
file. The main process sorts the verdicts, keeps the new ones in the cache, and hands each
spool file to the store (`Store.load_nquads`) while the workers go on with the next batches.
Fiches the store already holds go through the write path (one revision each), unchanged
ones nowhere. A fiche that does not conform is not stored; the others are.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import sqlite3
import tempfile
import threading
import uuid
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
from .loading import FicheFile, new_fiche
from .resources import folder
from .store import Store

#: The digest of the file each fiche was last loaded from (not data/'s: sync_data would
#: retire a fiche it knows that is not in data/).
LOAD_DIGEST = ox.NamedNode("urn:x-memoires-ld:load-digest")
CACHE = "validation-cache.sqlite"
#: The reason the revisions of a load give.
REASON = "Chargée par memoires-ld load."
#: A worker's batch: files of about this many bytes to store (their N-Quads: ~2× as many,
#: one file handed to the store at once), or this many files.
BATCH_BYTES = 16_000_000
BATCH_FILES = 2_000
#: Batches handed to the workers and not yet taken back, at most: their files wait on disk
#: (~35 MB each, so 4.5 GB at most; 2.6 GB for 100k new fiches) while the store writes, so
#: that the workers never wait for it and leave the cores to the store once done.
IN_FLIGHT = 128
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
    build: bool


#: What every batch of one load shares (set in each worker by `_start_worker`).
_load: dict = {}


def _start_worker(base: str, genid: str, reason: str, at: datetime, spool: str, cache: str) -> None:
    # In these processes only: keep rdf:HTML literals as text. rdflib parses each into a
    # DOM with html5rdf (half the cost of reading a fiche), and no shape looks inside.
    rdflib.term._toPythonMapping[URIRef(str(rdflib.RDF.HTML))] = str
    shape_check.compiled()  # the shapes, read and compiled once per process
    _load.update(iris=Iris(base), base=base, genid=genid, reason=reason, at=at)
    _load["spool"] = Path(spool)
    _load["cache"] = Cache(Path(cache)) if cache else None  # read here, written by the main


def _work(batch: list[Job]) -> tuple[list[Verdict], str]:
    """The batch's verdicts, and the file of N-Quads that stores its new fiches that
    conform ("" if none): the main process hands that file to the store as it is."""
    verdicts, written = [], 0
    path = _load["spool"] / f"{uuid.uuid4().hex}.nq"
    with path.open("wb") as out:
        for job in batch:
            verdict, nquads = _one(job)
            verdicts.append(verdict)
            written += out.write(nquads)
    if not written:
        path.unlink()
    return verdicts, str(path) if written else ""


def _one(job: Job) -> tuple[Verdict, bytes]:
    """A file's verdict, and if it is new and conforms, its N-Quads (loading.new_fiche).

    The file is parsed once. The verdict: the compiled shapes when the fiche surely
    conforms (~1 ms), else pyshacl (~10 ms), which decides and writes the report.
    """
    path, base, cache = Path(job.path), _load["base"], _load["cache"]
    text = path.read_bytes()
    digest = hashlib.sha256(text).hexdigest()
    cached = cache.get(cache.key(digest, base)) if cache is not None else None
    if cached is not None:
        verdict = Verdict(job.tag, path, digest, *cached, cached=True)
        if not (verdict.conforms and job.build):
            return verdict, b""
    triples = list(ox.parse(text, format=ox.RdfFormat.TURTLE, base_iri=base))
    if cached is None:
        verdict = Verdict(job.tag, path, digest, True)
        if not shape_check.surely_conforms(triples):
            report = validation.validate(read_graph(triples))
            summary = "" if report.conforms else json.dumps(validation.report_summary(report))
            verdict = Verdict(job.tag, path, digest, report.conforms, summary)
    if not (verdict.conforms and job.build):
        return verdict, b""
    f = FicheFile(job.tag, path, digest)
    reason, at = _load["reason"], _load["at"]
    return verdict, new_fiche(
        _load["iris"],
        f,
        triples,
        reason=reason,
        digest_key=LOAD_DIGEST,
        at=at,
        genid=_load["genid"],
    )


class Cache:
    """Verdicts by (file digest, base, rules digest), in SQLite (one writer: this process)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=60)
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
    store: Store,
    files: list[Path],
    *,
    jobs: int = 0,
    cache: Cache | None = None,
    spool: Path | None = None,
) -> Loaded:
    """Validate and store fiche files (TAG.ttl, IRIs relative to the store's base).

    The batches' N-Quads wait in a new folder in `spool` (default: the system's temporary
    folder; better a disk than a tmpfs: see IN_FLIGHT), removed at the end.
    """
    from .writes import COUNT_WRITE, IMPORT_AGENT, now, replace_fiche

    iris = Iris(store.base)
    existing = {iris.tag_of(g.value) for g in store.published_graphs()} - {None}
    known = {
        iris.tag_of(q.subject.value.removesuffix("/history")): q.object.value
        for q in store.match(None, LOAD_DIGEST, None, META_GRAPH)
    }
    done = Loaded()
    changed: list[Verdict] = []

    def sort(verdict: Verdict) -> None:
        done.validated += not verdict.cached
        if not verdict.conforms:
            done.invalid.append(verdict)
        elif known.get(verdict.tag) == verdict.digest:
            done.unchanged.append(verdict.tag)
        elif verdict.tag in existing:
            changed.append(verdict)
        else:
            done.added.append(verdict.tag)

    def stored(folder: str) -> Iterator[Path]:
        """The batches' files of N-Quads, their verdicts sorted and kept on the way."""
        todo = [Job(path.stem, str(path), build=path.stem not in existing) for path in files]
        cached = str(cache.path) if cache is not None else ""
        shared = (store.base, store.genid, REASON, now(), folder, cached)
        for verdicts, nquads in _run(todo, shared, jobs, cache):
            for verdict in verdicts:
                sort(verdict)
            if nquads:
                yield Path(nquads)
                # Stored (the store asks for the next file only then), or moved away.
                Path(nquads).unlink(missing_ok=True)

    if spool is not None:
        spool.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="memoires-ld-load-", dir=spool) as folder:
        store.load_nquads(stored(folder))
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


def _batches(jobs: list[Job], workers: int) -> Iterator[list[Job]]:
    """Jobs in batches of about BATCH_BYTES of files (a file's N-Quads: ~2× its size), and
    at least four batches per worker (a small load is shared too). The first batches are
    small, each twice the one before, so that the store starts early."""
    most = max(16, min(BATCH_FILES, len(jobs) // (4 * workers)))
    batch, size, first = [], 0, 64
    for job in jobs:
        batch.append(job)
        size += os.path.getsize(job.path) if job.build else 0
        if size >= BATCH_BYTES or len(batch) >= min(first, most):
            yield batch
            batch, size, first = [], 0, first * 2
    if batch:
        yield batch


def _run(
    todo: list[Job], shared: tuple, jobs: int, cache: Cache | None
) -> Iterator[tuple[list[Verdict], str]]:
    """The batches' results from `jobs` worker processes (0: one per core), in order; the
    verdicts found now are kept in the cache. `shared`: the workers' `_start_worker`."""
    # At most IN_FLIGHT batches handed out and not yet taken back: without a bound the
    # workers' files could pile up on disk while the store writes (100k: 2.6 GB).
    window, stop = threading.Semaphore(IN_FLIGHT), threading.Event()

    workers = jobs or multiprocessing.cpu_count()

    def handed_out() -> Iterator[list[Job]]:
        for batch in _batches(todo, workers):
            window.acquire()
            if stop.is_set():
                return
            yield batch

    context = multiprocessing.get_context("forkserver")
    base = shared[0]
    with context.Pool(workers, _start_worker, shared) as pool:
        try:
            for verdicts, nquads in pool.imap(_work, handed_out()):
                window.release()
                if cache is not None:
                    found = [(cache.key(v.digest, base), v) for v in verdicts if not v.cached]
                    if found:
                        cache.put(found)
                yield verdicts, nquads
        finally:
            stop.set()
            window.release(IN_FLIGHT)  # the feeding thread must not wait any longer
