"""The Graph Store HTTP Protocol (SPARQL 1.1 GSP), indirect identification, as functions.

`?graph=<iri>` names a graph, `?default` the store's default graph (§4.2). Reading (GET,
HEAD) is always allowed; writing (PUT replaces, POST merges or creates, DELETE removes) only
with SPARQL_UPDATE — for tests until writes go through authentication.

Note: `?default` is the store's own default graph (the provenance of the imports), not the
union that SPARQL queries see as their default graph (sd:UnionDefaultGraph): that union is
the whole dataset, served by the dumps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pyoxigraph as ox

from .errors import BadRequest, UnsupportedMediaType
from .sparql import SparqlError
from .sparql_engine import Engine
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


def triples(store: Store, name: str) -> list[ox.Triple]:
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


def put(engine: Engine, name: str, content: Iterable[ox.Triple]) -> bool:
    """Replace a graph's content (§5.3); True if the graph was created."""
    created = not exists(engine.store, name)
    clear = "CLEAR SILENT DEFAULT" if name == DEFAULT else f"DROP SILENT GRAPH <{name}>"
    create = "" if name == DEFAULT else f"CREATE SILENT GRAPH <{name}> ;"
    engine.apply(f"{clear} ; {create} {_insert(name, content)}")
    return created


def post(engine: Engine, name: str, content: Iterable[ox.Triple]) -> bool:
    """Merge content into a graph (§5.5); True if the graph was created."""
    created = not exists(engine.store, name)
    create = "" if name == DEFAULT else f"CREATE SILENT GRAPH <{name}> ;"
    engine.apply(f"{create} {_insert(name, content)}")
    return created


def delete(engine: Engine, name: str) -> bool:
    """Remove a graph (§5.4); False if there was none."""
    if not exists(engine.store, name):
        return False
    engine.apply("CLEAR DEFAULT" if name == DEFAULT else f"DROP GRAPH <{name}>")
    return True


def _insert(name: str, content: Iterable[ox.Triple]) -> str:
    lines = "\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in content)
    body = lines if name == DEFAULT else f"GRAPH <{name}> {{ {lines} }}"
    return f"INSERT DATA {{ {body} }}"
