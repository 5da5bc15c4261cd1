"""Bulk loads into any store: a new store from data/, streamed in batches of fiches.

A fiche loaded this way gets its first revision (by "import") in the same stream as its
triples, and the digest of the file it came from, so that a later load or data/ sync only
touches what changed. That revision names the file's digest and the number of triples
instead of reifying them (history.py): ~25 quads beside the fiche's ~55, not ~270. Nothing
here reads the store back, and nothing holds more than one fiche: the stream is the store's
to batch.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox

from . import datadir, history
from .history import DATA_DIGEST, META, META_GRAPH, STORE_ID, N, Revision
from .iris import Iris
from .resources import folder
from .store import VOCABULARY_GRAPH, Store, parse_file


@dataclass(frozen=True)
class FicheFile:
    """A fiche to load: its tag, the file, and the file's digest (sha256 of its bytes)."""

    tag: str
    path: Path
    digest: str


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def other_graphs(base: str, data_dir: Path) -> dict[ox.NamedNode | ox.DefaultGraph, tuple]:
    """What the store holds besides fiches, each with its files' digest and quads: the
    vocabulary and the import's provenance (the default graph)."""
    found = {}
    for graph, files in (
        (VOCABULARY_GRAPH, sorted(folder("ontology").glob("*.ttl"))),
        (ox.DefaultGraph(), [data_dir / datadir.RDF_DIR / datadir.IMPORT_FILE]),
    ):
        files = [f for f in files if f.is_file()]
        digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
        base_iri = None if isinstance(graph, ox.NamedNode) else base
        found[graph] = (digest, [q for f in files for q in parse_file(f, base_iri, graph)])
    return found


def source_key(graph: ox.NamedNode | ox.DefaultGraph) -> ox.NamedNode:
    """The subject of a non-fiche graph's data digest in the bookkeeping graph."""
    return graph if isinstance(graph, ox.NamedNode) else ox.NamedNode("urn:x-memoires-ld:default")


def load_data(store: Store, data_dir: Path) -> None:
    """Load data/ into a new, empty store: vocabulary, provenance, fiches and their history."""
    store.load(data_quads(store.base, data_dir))


def data_quads(base: str, data_dir: Path) -> Iterator[ox.Quad]:
    """Everything of data/, the store's id last (a store without an id did not finish)."""
    for graph, (digest, quads) in other_graphs(base, data_dir).items():
        yield from quads
        yield ox.Quad(source_key(graph), DATA_DIGEST, ox.Literal(digest), META_GRAPH)
    paths = sorted((data_dir / datadir.RDF_DIR / datadir.FICHES_DIR).glob("*.ttl"))
    files = (FicheFile(p.stem, p, file_digest(p)) for p in paths)
    yield from fiche_quads(base, files, reason="Chargée depuis data/.", digest_key=DATA_DIGEST)
    yield ox.Quad(META, STORE_ID, ox.Literal(uuid.uuid4().hex), META_GRAPH)


def fiche_quads(
    base: str,
    files: Iterable[FicheFile],
    *,
    reason: str,
    digest_key: ox.NamedNode,
    at: datetime | None = None,
) -> Iterator[ox.Quad]:
    """Each fiche's quads, its first revision and its file's digest, fiche after fiche."""
    from .writes import now

    iris, at = Iris(base), at or now()
    for f in files:
        parsed = ox.parse(path=str(f.path), format=ox.RdfFormat.TURTLE, base_iri=base)
        nquads = new_fiche(iris, f, parsed, reason=reason, digest_key=digest_key, at=at)
        yield from ox.parse(nquads, format=ox.RdfFormat.N_QUADS)


def new_fiche(
    iris: Iris,
    f: FicheFile,
    triples: Iterable[ox.Quad | ox.Triple],
    *,
    reason: str,
    digest_key: ox.NamedNode,
    at: datetime,
    genid: str = "",
) -> bytes:
    """The N-Quads that store a new fiche: its triples in its graph, its first revision (by
    "import") and its file's digest. Blank nodes get fresh random labels here (the kernel's
    randomness, not a generator that processes forked from one parent would share), so
    that two fiches' blank nodes never meet, whichever process built them; for a store
    that keeps them as IRIs (`Store.genid`), those IRIs."""
    from .writes import IMPORT_AGENT

    triples = list(dict.fromkeys(triples))
    revision = Revision(
        tag=f.tag,
        number=1,
        iri=str(iris.revision(f.tag, 1)),
        kind="create",
        agent=IMPORT_AGENT,
        agent_iri=str(iris.user(IMPORT_AGENT)),
        at=at,
        reason=reason,
        added=len(triples),
    )
    recorded = history.record(iris, revision, [], [], source_digest=f.digest)
    recorded.append(ox.Quad(N(iris.history(f.tag)), digest_key, ox.Literal(f.digest), META_GRAPH))
    if genid:
        skolems: dict = {}
        recorded = [_renamed(q, q.graph_name, skolems, genid) for q in recorded]
    fiche = N(iris.fiche(f.tag))
    return in_graph(triples, fiche, genid) + ox.serialize(recorded, format=ox.RdfFormat.N_QUADS)


def in_graph(triples: list[ox.Quad | ox.Triple], graph: ox.NamedNode, genid: str = "") -> bytes:
    """`triples` as N-Quads of `graph`, their blank nodes with fresh labels (or IRIs)."""
    written = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    if b"_:" not in written:  # no blank node: the graph added to each line, 10× faster
        # Each line ends with " .\n" and only there: a literal's line breaks are escaped.
        return written.replace(b" .\n", f" {graph} .\n".encode())
    fresh: dict = {}
    quads = [_renamed(t, graph, fresh, genid) for t in triples]
    return ox.serialize(quads, format=ox.RdfFormat.N_QUADS)


def _renamed(t: ox.Quad | ox.Triple, graph, fresh: dict, genid: str) -> ox.Quad:
    """`t` in `graph`, each blank node replaced by a fresh one (history.fresh_blank_node),
    or by its IRI under `genid`."""

    def renamed(term):
        if not isinstance(term, ox.BlankNode):
            return term
        if term not in fresh:
            node = history.fresh_blank_node()
            fresh[term] = ox.NamedNode(genid + node.value) if genid else node
        return fresh[term]

    return ox.Quad(renamed(t.subject), t.predicate, renamed(t.object), graph)
