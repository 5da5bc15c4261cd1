"""`memoires-ld load`: many fiche files into a store, validated in parallel, cached (#7).

Each file is validated on its own (validation.validate: one reused Validator per worker
process, the shapes read once) by `jobs` worker processes; the verdict is kept by the
file's content hash in `INSTANCE_DIR/validation-cache.sqlite`, so that loading the same
files again validates only what changed. The conforming fiches stream to the store while
the others are still being validated: new fiches in batches (`Store.load`, with their
first revision), fiches the store already holds through the write path (one revision
each), unchanged ones not at all. A fiche that does not conform is not stored; the others
are.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import rdflib
from rdflib import BNode, Graph, Literal, URIRef

from . import __version__, datadir, shape_check, validation
from .history import META_GRAPH
from .iris import Iris
from .loading import FicheFile, fiche_quads
from .resources import folder
from .store import Store

#: The digest of the file each fiche was last loaded from (not data/'s: sync_data would
#: retire a fiche it knows that is not in data/).
LOAD_DIGEST = ox.NamedNode("urn:x-memoires-ld:load-digest")
CACHE = "validation-cache.sqlite"
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


def read_graph(path: Path, base: str) -> Graph:
    """A fiche file as an rdflib graph, parsed by pyoxigraph (3× faster than rdflib's)."""
    graph = Graph(bind_namespaces="none")
    for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=base):
        graph.add((_term(quad.subject), URIRef(quad.predicate.value), _term(quad.object)))
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


def _start_worker() -> None:
    # In these processes only: keep rdf:HTML literals as text. rdflib parses each into a
    # DOM with html5rdf (half the cost of reading a fiche), and no shape looks inside.
    rdflib.term._toPythonMapping[URIRef(str(rdflib.RDF.HTML))] = str
    shape_check.compiled()  # the shapes, read and compiled once per process


def _check(job: tuple[str, str, str, str]) -> Verdict:
    """A file's verdict: the compiled shapes when the fiche surely conforms (~1 ms), else
    pyshacl (~10 ms), which decides and writes the report."""
    tag, path, digest, base = job
    quads = ox.parse(path=path, format=ox.RdfFormat.TURTLE, base_iri=base)
    if shape_check.surely_conforms(quads):
        return Verdict(tag, Path(path), digest, True)
    report = validation.validate(read_graph(Path(path), base))
    summary = "" if report.conforms else json.dumps(validation.report_summary(report))
    return Verdict(tag, Path(path), digest, report.conforms, summary)


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


def validate_files(
    files: Iterable[Path], base: str, *, jobs: int = 0, cache: Cache | None = None
) -> Iterator[Verdict]:
    """Each file's verdict, from the cache or from `jobs` worker processes (0: one per core)."""
    jobs = jobs or multiprocessing.cpu_count()
    todo = []
    for path in files:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        known = cache.get(cache.key(digest, base)) if cache is not None else None
        if known is not None:
            yield Verdict(path.stem, path, digest, *known, cached=True)
        else:
            todo.append((path.stem, str(path), digest, base))
    if not todo:
        return
    context = multiprocessing.get_context("forkserver")
    with context.Pool(jobs, initializer=_start_worker) as pool:
        pending = []
        for verdict in pool.imap(_check, todo, chunksize=16):
            pending.append((cache.key(verdict.digest, base), verdict) if cache else None)
            if cache is not None and len(pending) >= 1000:
                cache.put(pending)
                pending = []
            yield verdict
        if cache is not None and pending:
            cache.put(pending)


# -- loading ------------------------------------------------------------------------------


def load_files(
    store: Store, files: list[Path], *, jobs: int = 0, cache: Cache | None = None
) -> Loaded:
    """Validate and store fiche files (TAG.ttl, IRIs relative to the store's base)."""
    from .writes import COUNT_WRITE, IMPORT_AGENT, replace_fiche

    iris = Iris(store.base)
    existing = {iris.tag_of(g.value) for g in store.published_graphs()} - {None}
    known = {
        iris.tag_of(q.subject.value.removesuffix("/history")): q.object.value
        for q in store.match(None, LOAD_DIGEST, None, META_GRAPH)
    }
    done = Loaded()
    changed: list[Verdict] = []

    def new_fiches() -> Iterator[FicheFile]:
        for verdict in validate_files(files, store.base, jobs=jobs, cache=cache):
            done.validated += not verdict.cached
            if not verdict.conforms:
                done.invalid.append(verdict)
            elif known.get(verdict.tag) == verdict.digest:
                done.unchanged.append(verdict.tag)
            elif verdict.tag in existing:
                changed.append(verdict)
            else:
                done.added.append(verdict.tag)
                yield FicheFile(verdict.tag, verdict.path, verdict.digest)

    reason = "Chargée par memoires-ld load."
    store.load(fiche_quads(store.base, new_fiches(), reason=reason, digest_key=LOAD_DIGEST))
    if done.added:
        store.update(COUNT_WRITE)  # a new version: caches and ETags move on
    for verdict in changed:
        graph = datadir.read_turtle(verdict.path, store.base)
        replace_fiche(store, graph, agent=IMPORT_AGENT, reason=reason, stamp=False)
        hist = ox.NamedNode(str(iris.history(verdict.tag)))
        store.update(
            f"DELETE WHERE {{ GRAPH {META_GRAPH} {{ {hist} {LOAD_DIGEST} ?d }} }} ;\n"
            f"INSERT DATA {{ GRAPH {META_GRAPH} {{ {hist} {LOAD_DIGEST} "
            f"{ox.Literal(verdict.digest)} }} }}"
        )
        done.replaced.append(verdict.tag)
    return done
