"""The Graph Store HTTP Protocol at /sparql/graph (indirect identification: ?graph=, ?default).

GET and HEAD serve a graph in Turtle, JSON-LD, N-Triples or RDF/XML (Accept, ?format=), with
an ETag (a fiche's: the one If-Match takes; else of the store version): 404 for a graph the
store does not have. PUT, POST and DELETE: 403 unless SPARQL_UPDATE is on; then an editor's
or admin's API token (401 without), a fiche's graph only (403 for any other), through the
write path (422 if invalid; If-Match required to change an existing fiche: 428, 412).
"""

from __future__ import annotations

import hashlib

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request

from .. import history
from .. import sparql_graphs as graphs
from ..errors import MemoiresError, NotFound, PreconditionRequired
from ..iris import Iris
from ..namespaces import PREFIXES
from ..sparql import MethodNotAllowed, SparqlError
from .negotiation import RDF_FORMATS, negotiate
from .sparql import CACHE_CONTROL, _error, accept, writer_account

bp = Blueprint("graph_store", __name__)
bp.register_error_handler(MemoiresError, _error)
METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH"]


@bp.route("/sparql/graph", methods=METHODS)
def graph_store():
    name = graphs.target(request.args)
    if request.method in ("GET", "HEAD"):
        if name is None:
            raise SparqlError("Indiquez le graphe : ?graph=<IRI> ou ?default.")
        return read(name)
    if request.method == "PATCH":
        raise MethodNotAllowed("PATCH", "GET, HEAD, PUT, POST, DELETE")
    return write(name)


def read(name: str) -> Response:
    store = current_app.extensions["store"]
    fmt = negotiate(accept(), explicit=request.args.get("format"), offered=RDF_FORMATS)
    if not graphs.exists(store, name):
        raise NotFound(f"Le store n'a pas de graphe <{name}>.")
    fiche = Iris(store.base).tag_of(name) if name else None
    state = history.state(store, fiche) if fiche else None
    # a fiche's graph: its state first, as If-Match compares it (history.same_state)
    tag = f"{state}-graph-{fmt.name}" if state else f"{store.version}-{fmt.name}-{_digest(name)}"
    if request.if_none_match.contains(tag):
        response = Response(status=304)
    else:
        prefixes = None if fmt.oxigraph == ox.RdfFormat.N_TRIPLES else PREFIXES
        body = ox.serialize(graphs.triples_of(store, name), format=fmt.oxigraph, prefixes=prefixes)
        response = Response(body, mimetype=fmt.media_type)
    response.set_etag(tag)
    response.vary.add("Accept")
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def write(name: str | None) -> Response:
    account = writer_account()
    if name is None:
        raise SparqlError(
            "Indiquez le graphe de la fiche : ?graph=<IRI de la fiche> (ou envoyez une "
            "nouvelle fiche à POST /fiches)."
        )
    store = current_app.extensions["store"]
    tag = graphs.fiche_tag(store, name)
    exists = graphs.exists(store, name)
    if_match = request.headers.get("If-Match")
    if exists and not if_match:
        current = history.etag(store, tag)
        raise PreconditionRequired(
            "Envoyez l'en-tête If-Match avec l'ETag du graphe tel que vous l'avez lu : sans "
            "lui, vous pourriez effacer la modification de quelqu'un d'autre.",
            headers={"ETag": current} if current else None,
        )
    content = None if request.method == "DELETE" else _content(name)
    revision = graphs.write(
        store, request.method, name, content, agent=account.name, if_match=if_match
    )
    response = Response(status=201 if not exists and request.method != "DELETE" else 204)
    response.headers["Content-Location"] = revision.iri
    if revision.kind != "retire":
        response.set_etag(f"{history.state(store, revision.tag)}-graph")
    return response


def _content(name: str) -> list[ox.Triple]:
    base = name or request.base_url
    if request.mimetype == "multipart/form-data":  # GSP §5.5: one RDF document per part
        return [
            triple
            for part in request.files.values()
            for triple in graphs.parse(part.read(), part.mimetype, base)
        ]
    return graphs.parse(request.get_data(), request.mimetype, base)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]
