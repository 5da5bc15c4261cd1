"""SPARQL Update through the write path: which fiches an update writes, what it makes of
them on a scratch copy, and those changes applied by `writes.apply_changes`.

1. The update is parsed (rdflib's SPARQL grammar: prefixes and BASE resolved) and every
   graph it writes is read off its operations: the `GRAPH <…>` of its templates and data,
   `WITH`, the targets of CLEAR, DROP, CREATE, ADD, MOVE and COPY. Each must be the graph
   of a fiche (`{base}fiche/<tag>`): the default graph, the vocabulary, the histories, the
   store's bookkeeping, harvested `sources/…` graphs, ALL/NAMED/DEFAULT are refused (403,
   naming the graph); so is a graph given by a variable (400: name each fiche written).
2. An in-memory store receives the graphs of the fiches the update names (written or
   read), the vocabulary and the default graph — not the whole dataset (100k fiches would
   not fit): a pattern over a fiche the update does not name finds nothing. The update
   runs there.
3. Each written fiche graph is compared with the store: new → create, emptied → retire,
   changed → replace, with If-Match the state copied (a write in between → 412). All go
   to `writes.apply_changes`: validated like any write (422 with the report, nothing
   stored), one transaction, one revision per fiche recording the agent.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox
from pyparsing import ParseException
from rdflib import Graph, URIRef, Variable
from rdflib.plugins.sparql.algebra import translateUpdate
from rdflib.plugins.sparql.parser import parseUpdate

from . import history, sparql_text, writes
from .errors import Forbidden, MemoiresError
from .history import Revision
from .iris import Iris
from .namespaces import bind_prefixes
from .sparql import MalformedQuery, SparqlError
from .store import Store

DEFAULT = "DEFAULT"
REASON = "Modifiée par SPARQL Update."


class GraphRefused(Forbidden):
    """A write to a graph that is not a fiche's."""

    code = "graphe-interdit"

    def __init__(self, graph: str):
        shown = {
            "DEFAULT": "le graphe par défaut (DEFAULT)",
            "ALL": "tous les graphes (ALL)",
            "NAMED": "tous les graphes nommés (NAMED)",
        }.get(graph, f"<{graph}>")
        super().__init__(
            f"Écriture refusée dans {shown} : seuls les graphes des fiches "
            "(…/fiche/<identifiant>) s'écrivent ici, et chaque écriture est validée.",
            detail={"graph": graph},
        )


def run(store: Store, text: str, base: str, *, agent: str) -> list[Revision]:
    """Apply a SPARQL Update to the fiches it writes, through the write path."""
    iris = Iris(store.base)
    operations = parse(text, base)
    written = [fiche_graph(iris, g) for g in written_graphs(operations)]
    read = {iris.tag_of(str(i)) for i in _iris(operations)} - {None}
    tags = sorted(set(written) | read)
    scratch = ox.Store()
    for quad in _scratch_quads(store, iris, tags):
        scratch.add(quad)
    states = {tag: history.state(store, tag) for tag in written}
    try:
        scratch.update(text, base_iri=base)
    except SyntaxError as error:
        raise MalformedQuery(f"Mise à jour SPARQL invalide : {error}") from None
    except OSError as error:  # a SERVICE that failed
        raise MemoiresError(f"La mise à jour SPARQL a échoué : {error}") from None
    changes = [
        change
        for tag in sorted(set(written))
        if (change := _change(store, scratch, iris, tag, states[tag])) is not None
    ]
    return writes.apply_changes(store, changes, agent=agent, reason=REASON)


def parse(text: str, base: str) -> list:
    """The update's operations as rdflib's algebra (IRIs resolved)."""
    if not sparql_text.tokens(text):
        return []  # an update of no operation: valid, changes nothing
    try:
        return list(translateUpdate(parseUpdate(text), base=base).algebra)
    except ParseException as error:
        raise MalformedQuery(f"Mise à jour SPARQL invalide : {error}") from None
    except Exception as error:  # rdflib raises a bare Exception for an unknown prefix
        raise MalformedQuery(f"Mise à jour SPARQL invalide : {error}") from None


def written_graphs(operations: list) -> Iterator[str]:
    """The graphs the operations may write: IRIs, or DEFAULT/ALL/NAMED."""
    for op in operations:
        if op.name in ("InsertData", "DeleteData", "DeleteWhere"):
            yield from _template(op, None)
        elif op.name == "Modify":
            for clause in (op.delete, op.insert):
                if clause is not None:
                    yield from _template(clause, op.withClause)
        elif op.name in ("Clear", "Drop", "Create"):
            yield _name(op.graphiri)
        elif op.name in ("Add", "Copy"):
            yield _name(op.graph[1])
        elif op.name == "Move":
            yield from (_name(g) for g in op.graph)
        else:  # LOAD is refused before (sparql_text.check)
            raise SparqlError(f"Opération non acceptée ici : {op.name}.")


def _template(clause, with_graph) -> Iterator[str]:
    for graph in clause.quads or {}:
        yield _name(graph)
    if clause.triples:
        yield _name(with_graph) if with_graph is not None else DEFAULT


def _name(graph) -> str:
    if isinstance(graph, Variable):
        raise SparqlError(
            f"Le graphe ?{graph} est une variable : nommez le graphe de chaque fiche "
            "modifiée (GRAPH <…/fiche/identifiant>)."
        )
    return str(graph)


def fiche_graph(iris: Iris, graph: str) -> str:
    """The tag of the fiche whose graph this is; GraphRefused for any other graph."""
    tag = iris.tag_of(graph)
    if tag is None or str(iris.fiche(tag)) != graph:
        raise GraphRefused(graph)
    return tag


def _iris(node) -> Iterator[URIRef]:
    """Every IRI in the algebra (to copy the fiches the update reads)."""
    if isinstance(node, URIRef):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _iris(key)
            yield from _iris(value)
    elif isinstance(node, list | tuple | set):
        for item in node:
            yield from _iris(item)


def _scratch_quads(store: Store, iris: Iris, tags: list[str]) -> Iterator[ox.Quad]:
    """The fiches named, the vocabulary (published graphs of no fiche, not harvested) and
    the default graph: what the update may read."""
    sources = str(iris.sources())
    others = [
        g
        for g in store.published_graphs()
        if iris.tag_of(g.value) is None and not g.value.startswith(sources)
    ]
    graphs = [ox.DefaultGraph(), *others, *(ox.NamedNode(iris.fiche(t)) for t in tags)]
    for graph in graphs:
        for quad in store.match(None, None, None, graph):
            yield ox.Quad(quad.subject, quad.predicate, quad.object, graph)


def _change(
    store: Store, scratch: ox.Store, iris: Iris, tag: str, state: str | None
) -> writes.Change | None:
    """What the update did to one fiche, as a write (None if nothing)."""
    graph = ox.NamedNode(iris.fiche(tag))
    before = {q.triple for q in store.match(None, None, None, graph)}
    after = {q.triple for q in scratch.quads_for_pattern(None, None, None, graph)}
    if before == after:
        return None
    if_match = f'"{state}"' if before and state else None
    if not after:
        return writes.Change("retire", tag, None, if_match)
    return writes.Change("replace" if before else "create", tag, as_graph(after), if_match)


def as_graph(triples) -> Graph:
    """pyoxigraph triples as an rdflib graph (what writes.py validates)."""
    text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
    return bind_prefixes(Graph()).parse(data=text, format="nt")
