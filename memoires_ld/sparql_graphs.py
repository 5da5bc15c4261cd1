"""The Graph Store HTTP Protocol (SPARQL 1.1 GSP), indirect identification, as functions.

`?graph=<iri>` names a graph, `?default` the store's default graph (§4.2). Reading (GET,
HEAD) any graph is always allowed. Writing, with SPARQL_UPDATE and an editor's API token
(web/graph_store.py), is to the graphs of fiches only and goes through writes.py: PUT
replaces (or creates) the fiche, POST adds to it, DELETE retires it.

Note: `?default` is the store's own default graph (the provenance of the imports), not the
union that SPARQL queries see as their default graph (sd:UnionDefaultGraph): that union is
the whole dataset, served by the dumps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pyoxigraph as ox

from . import history, writes
from .errors import BadRequest, UnsupportedMediaType
from .history import Revision
from .iris import Iris
from .sparql import SparqlError
from .sparql_update import DEFAULT as update_default
from .sparql_update import as_graph, fiche_graph
from .store import Store

DEFAULT = ""  # the target of ?default


def target(args: Mapping) -> str | None:
    """The graph a request names: an IRI, DEFAULT, or None when it names none."""
    graphs = args.getlist("graph")
    if graphs and "default" in args:
        raise SparqlError("Donnez soit ?graph=<IRI>, soit ?default, pas les deux.")
    if len(graphs) > 1:
        raise SparqlError("Un seul paramètre graph par requête.")
    if "default" in args:
        return DEFAULT
    if not graphs:
        return None
    iri = graphs[0]
    if not iri or any(c in iri for c in ' <>"{}|^`\\') or ":" not in iri:
        raise SparqlError(f"« {iri} » n'est pas une IRI absolue.")
    return iri


def _graph(name: str):
    return ox.DefaultGraph() if name == DEFAULT else ox.NamedNode(name)


def exists(store: Store, name: str) -> bool:
    return name == DEFAULT or store.has_graph(name)


def triples_of(store: Store, name: str) -> list[ox.Triple]:
    return [q.triple for q in store.match(None, None, None, _graph(name))]


def parse(body: bytes, media_type: str | None, base: str) -> list[ox.Triple]:
    """Read an RDF document sent to the graph store (a graph format, not a dataset)."""
    fmt = ox.RdfFormat.from_media_type(media_type) if media_type else None
    if fmt is None or fmt.supports_datasets:
        raise UnsupportedMediaType(
            f"Type {media_type or '(absent)'} non accepté : envoyez du Turtle, du JSON-LD, "
            "des N-Triples ou du RDF/XML."
        )
    try:
        return [q.triple for q in ox.parse(body, format=fmt, base_iri=base)]
    except SyntaxError as error:
        raise BadRequest(f"Le document {fmt.name} est invalide : {error}") from None


def fiche_tag(store: Store, name: str) -> str:
    """The tag of the fiche whose graph `name` is; GraphRefused (403) for any other graph."""
    return fiche_graph(Iris(store.base), name or update_default)


def write(
    store: Store,
    method: str,
    name: str,
    content: Iterable[ox.Triple] | None,
    *,
    agent: str,
    if_match: str | None,
) -> Revision:
    """A write to a fiche's graph, through the write path (§5.3–5.5): PUT replaces or
    creates the fiche, POST adds to it (or creates it), DELETE retires it (410 afterwards).
    Any other graph: GraphRefused (403)."""
    tag = fiche_tag(store, name)
    exists = store.has_graph(name)
    if method == "DELETE":
        change = writes.Change("retire", tag, None, if_match)
    else:
        triples = set(content or ())
        if method == "POST":
            triples |= set(triples_of(store, name))
        kind = "replace" if exists else "create"
        change = writes.Change(kind, tag, as_graph(triples), if_match if exists else None)
    done = writes.apply_changes(store, [change], agent=agent, reason=f"Graph Store ({method}).")
    return done[0] if done else history.revision(store, tag, history.head_number(store, tag))
