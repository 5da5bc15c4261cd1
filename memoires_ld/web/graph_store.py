"""The Graph Store HTTP Protocol at /sparql/graph (indirect identification: ?graph=, ?default).

GET and HEAD serve a graph in Turtle, JSON-LD, N-Triples or RDF/XML (Accept, ?format=), with
an ETag of the store version: 404 for a graph the store does not have. PUT, POST and DELETE
answer 403 unless SPARQL_UPDATE is on (tests only, see memoires_ld/sparql_graphs.py).
"""

from __future__ import annotations

import hashlib
import uuid

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request

from .. import sparql_graphs as graphs
from ..errors import MemoiresError, NotFound
from ..namespaces import PREFIXES
from ..sparql import MethodNotAllowed, SparqlError, UpdateDisabled
from .negotiation import RDF_FORMATS, negotiate
from .sparql import CACHE_CONTROL, _error, accept, engine

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
    if not engine().limits.update:
        raise UpdateDisabled()
    return write(name)


def read(name: str) -> Response:
    store = current_app.extensions["store"]
    fmt = negotiate(accept(), explicit=request.args.get("format"), offered=RDF_FORMATS)
    if not graphs.exists(store, name):
        raise NotFound(f"Le store n'a pas de graphe <{name}>.")
    tag = f"{store.version}-{fmt.name}-{_digest(name)}"
    if request.if_none_match.contains(tag):
        response = Response(status=304)
    else:
        prefixes = None if fmt.oxigraph == ox.RdfFormat.N_TRIPLES else PREFIXES
        body = ox.serialize(graphs.triples(store, name), format=fmt.oxigraph, prefixes=prefixes)
        response = Response(body, mimetype=fmt.media_type)
    response.set_etag(tag)
    response.vary.add("Accept")
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def write(name: str | None) -> Response:
    if request.method == "DELETE":
        if name is None:
            raise SparqlError("Indiquez le graphe à supprimer : ?graph=<IRI> ou ?default.")
        if not graphs.delete(engine(), name):
            raise NotFound(f"Le store n'a pas de graphe <{name}>.")
        return Response(status=204)
    created_iri = None
    if name is None:  # POST to the store itself: a new graph, named by us (GSP §5.5)
        if request.method != "POST":
            raise SparqlError("Indiquez le graphe : ?graph=<IRI> ou ?default.")
        name = created_iri = str(current_app.config["IRIS"].sparql(f"graph/{uuid.uuid4().hex}"))
    content = _content(name)
    created = (graphs.put if request.method == "PUT" else graphs.post)(engine(), name, content)
    response = Response(status=201 if created else 204)
    if created_iri:
        response.headers["Location"] = created_iri
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
