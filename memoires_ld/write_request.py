"""A planned write as it reaches the store: one SPARQL Update request (#7).

writes.py checks, validates and plans a write (what to delete, the quads to insert, the
revisions, the head of each fiche's history it read); this module sends it. On the embedded
store, written by one process under writes._LOCK, the request is plain (`run_plain`). On a
SPARQL server that several processes may share, it is conditional on the heads read
(`run`): another process may have written the fiche meanwhile, whatever lock this one holds.
docs/remote-stores.md tells the whole of it, with the Virtuoso behaviour met.

Requests are built only from pyoxigraph terms serialised as N-Triples, never from strings a
client sent.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from .history import META, META_GRAPH, PENDING, WRITE_ID, WRITES, N
from .namespaces import AS
from .store import EmbeddedStore, Store
from .store_sparql import RolledBack


def run_ops(store: Store, ops: list[str], quads: list[ox.Quad]) -> None:
    """Apply the operations, the new quads and the next write count in one request."""
    ops = [*ops, *insert(store, quads), COUNT_WRITE]
    store.update(" ;\n".join(ops))


#: Raise the write count inside the update itself (no read before: atomic on any server).
COUNT_WRITE = (
    f"DELETE {{ GRAPH {META_GRAPH} {{ {META} {WRITES} ?n }} }} "
    f"INSERT {{ GRAPH {META_GRAPH} {{ {META} {WRITES} ?next }} }} "
    f"WHERE {{ OPTIONAL {{ GRAPH {META_GRAPH} {{ {META} {WRITES} ?n }} }} "
    "BIND(COALESCE(?n + 1, 1) AS ?next) }"
)


@dataclass
class Write:
    """What a write runs: the graphs it replaces, the patterns it deletes and the quads it
    inserts for new `revisions`, if each history's head (`as:last`, None for none) is still
    the one read (`heads`); or only bookkeeping operations (`ops`: no fiche changes)."""

    drops: list[ox.NamedNode] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    quads: list[ox.Quad] = field(default_factory=list)
    heads: dict[ox.NamedNode, ox.NamedNode | None] = field(default_factory=dict)
    revisions: list[ox.NamedNode] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)

    def __iadd__(self, other: Write) -> Write:
        self.ops += other.ops
        self.drops += other.drops
        self.deletes += other.deletes
        self.quads += other.quads
        self.heads |= other.heads
        self.revisions += other.revisions
        return self

    def __bool__(self) -> bool:
        return bool(self.ops or self.revisions)


def run(store: Store, write: Write) -> bool:
    """Apply a write in one request, conditional on the heads it read; return whether it
    took effect (False: another process wrote one of its fiches first, nothing changed).

    Several processes may share a SPARQL server, and a lock of one process does not stop
    another from writing between our reading and our writing. So the request is:

    1. the new quads, by INSERT DATA, into pending graphs of this write only (an INSERT
       template that large is slow on Virtuoso, and refused past a few thousand triples);
    2. the claim (after the write count is made 0 if it is missing, `COUNTER`): one
       operation that deletes each history's `as:last` that was read (a
       fiche without history: none must have appeared), raises the write count, and marks
       each new revision with a token of this write, in the bookkeeping graph — or
       matches nothing;
    3. the deletions and the moves from the pending graphs, each conditional on the mark;
       then the pending graphs dropped.

    The mark stays, so that asking for it afterwards says whether this write took effect
    (also after an error: Virtuoso rolls a request back on a deadlock of two claims, and
    answers 500 "40001", or runs it again from the start and answers 200).

    The embedded store is written by one process only, under _LOCK: its writes need no
    condition (and a condition cannot drop a graph, which Oxigraph keeps when emptied).
    """
    if isinstance(store, EmbeddedStore) or not write.revisions:
        run_plain(store, write)
        return True
    token = ox.Literal(uuid.uuid4().hex)
    marked = f"GRAPH {META_GRAPH} {{ {write.revisions[0]} {WRITE_ID} {token} }}"
    graphs = list(dict.fromkeys(q.graph_name for q in write.quads))
    pending = {g: ox.NamedNode(f"{PENDING}{token.value}:{i}") for i, g in enumerate(graphs)}
    staged = [ox.Quad(q.subject, q.predicate, q.object, pending[q.graph_name]) for q in write.quads]
    ops = [*write.ops, *insert(store, staged), COUNTER, _claim(write, token)]
    patterns = [f"GRAPH {g} {{ ?s ?p ?o }}" for g in write.drops] + write.deletes
    ops += [f"DELETE {{ {p} }} WHERE {{ {marked} {p} }}" for p in patterns]
    ops += [
        f"INSERT {{ GRAPH {g} {{ ?s ?p ?o }} }} WHERE {{ {marked} GRAPH {p} {{ ?s ?p ?o }} }}"
        for g, p in pending.items()
    ]
    ops += [f"DROP SILENT GRAPH {p}" for p in pending.values()]
    with contextlib.suppress(RolledBack):  # a deadlock with another write: the mark says
        store.update(" ;\n".join(ops))
    return bool(store.query(f"ASK {{ {marked} }}"))


def run_plain(store: Store, write: Write) -> None:
    """Apply a write in one request, whatever the heads (under _LOCK, one process)."""
    lasts = [f"DELETE WHERE {{ GRAPH {h} {{ {h} {N(AS.last)} ?o }} }}" for h in write.heads]
    ops = [f"DROP SILENT GRAPH {g}" for g in write.drops] + lasts
    ops += [f"DELETE WHERE {{ {p} }}" for p in write.deletes]
    if ops or write.ops or write.quads:
        run_ops(store, [*ops, *write.ops], write.quads)


#: The write count made 0 if it is missing: the claim needs one to raise. (Virtuoso 7.2
#: inserts even when it exists from a WHERE of a FILTER alone: hence the VALUES.)
COUNTER = (
    f"INSERT {{ GRAPH {META_GRAPH} {{ {META} {WRITES} 0 }} }} WHERE {{ VALUES ?one {{ 1 }} "
    f"FILTER NOT EXISTS {{ GRAPH {META_GRAPH} {{ {META} {WRITES} ?n }} }} }}"
)


def _claim(write: Write, token: ox.Literal) -> str:
    """The operation that takes the heads a write read and raises the write count, or does
    nothing if a head moved. Every write's claim changes the write count, so the server
    orders the claims (a fiche without history has no head to lock)."""
    count = f"GRAPH {META_GRAPH} {{ {META} {WRITES} ?n }}"
    deletes, where = [count], [count]
    for hist, head in write.heads.items():
        last = f"{hist} {N(AS.last)}"
        if head is None:
            where.append(f"FILTER NOT EXISTS {{ GRAPH {hist} {{ {last} ?last }} }}")
        else:
            deletes.append(f"GRAPH {hist} {{ {last} {head} }}")
            where.append(f"GRAPH {hist} {{ {last} {head} }}")
    marks = " ".join(f"{rev} {WRITE_ID} {token} ." for rev in write.revisions)
    return (
        f"DELETE {{ {' '.join(deletes)} }} "
        f"INSERT {{ GRAPH {META_GRAPH} {{ {META} {WRITES} ?next . {marks} }} }} "
        f"WHERE {{ {' '.join(where)} BIND(?n + 1 AS ?next) }}"
    )


def insert(store: Store, quads: list[ox.Quad]) -> list[str]:
    """The operation that adds `quads`: INSERT DATA, or INSERT … WHERE {} when they hold
    blank nodes the store does not skolemise (fresh nodes either way; some servers refuse
    blank nodes in INSERT DATA)."""
    if not quads:
        return []
    blank = any(
        isinstance(t, ox.BlankNode) and store.written(t).startswith("_:")
        for q in quads
        for t in (q.subject, q.object)
    )
    body = _data(quads, store)
    return [f"INSERT {{ {body} }} WHERE {{}}" if blank else f"INSERT DATA {{ {body} }}"]


def _data(quads: Iterable[ox.Quad], store: Store) -> str:
    """Quads as the body of INSERT DATA, grouped by graph, from N-Triples terms only."""
    by_graph: dict[ox.NamedNode | ox.DefaultGraph, list[str]] = {}
    for q in quads:
        graph = store.stored_graph(q.graph_name)
        line = f"{store.written(q.subject)} {q.predicate} {store.written(q.object)} ."
        by_graph.setdefault(graph, []).append(line)
    return "\n".join(
        "\n".join(lines)
        if isinstance(g, ox.DefaultGraph)
        else f"GRAPH {g} {{\n" + "\n".join(lines) + "\n}"
        for g, lines in by_graph.items()
    )
