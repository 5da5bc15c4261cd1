"""A fiche's history, its revisions, and the tombstone of a retired fiche (history.py).

* `/fiche/{tag}/history` — the revisions, newest first (HTML, or the history graph in RDF);
* `/fiche/{tag}/revision/{n}` — one revision: who, when, why, the triples added and removed;
* `/fiche/{tag}` of a retired fiche — 410 Gone with its tombstone (title, date, reason,
  link to the history), in HTML or RDF.

Each answers by suffix (`.ttl`, `.jsonld`…), `?format=` or Accept (web/negotiation.py).
"""

from __future__ import annotations

import re

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, g, render_template, request

from .. import history
from ..errors import NotFound
from ..namespaces import PREFIXES
from .negotiation import FORMATS, negotiate

bp = Blueprint("revisions", __name__)
SUFFIXES = "|".join(re.escape(f.suffix) for f in FORMATS)
FICHE_PATH = re.compile(rf"/fiche/([^/.]+)(?:\.({SUFFIXES}))?")


def _store():
    return current_app.extensions["store"]


def _iris():
    return current_app.config["IRIS"]


def _format(suffix: str | None):
    fmt = negotiate(
        request.accept_mimetypes, explicit=suffix or request.args.get("format"), default="turtle"
    )
    g.format = fmt.name
    return fmt


def _rdf(triples, fmt, status: int = 200) -> Response:
    body = ox.serialize(triples, format=fmt.oxigraph, prefixes=PREFIXES)
    response = Response(body, status, mimetype=fmt.media_type)
    response.vary.add("Accept")
    return response


@bp.get("/fiche/<tag>/history", defaults={"suffix": None})
@bp.get("/fiche/<tag>/history.<suffix>")
def fiche_history(tag: str, suffix: str | None):
    revisions = history.revisions(_store(), tag)
    if not revisions:
        raise NotFound(f"Il n'y a pas de fiche « {tag} ».")
    fmt = _format(suffix)
    if fmt.oxigraph is not None:
        graph = ox.NamedNode(str(_iris().history(tag)))
        return _rdf([q.triple for q in _store().graph_quads(graph.value)], fmt)
    response = Response(
        render_template(
            "history.html",
            tag=tag,
            revisions=list(reversed(revisions)),
            fiche_url=str(_iris().fiche(tag)),
            gone=history.get_tombstone(_store(), tag),
            revision_url=lambda n: str(_iris().revision(tag, n)),
            rdf_url=str(_iris().history(tag)) + ".ttl",
        ),
        mimetype="text/html",
    )
    response.vary.add("Accept")
    return response


@bp.get("/fiche/<tag>/revision/<int:number>", defaults={"suffix": None})
@bp.get("/fiche/<tag>/revision/<int:number>.<suffix>")
def revision(tag: str, number: int, suffix: str | None):
    found = history.revision(_store(), tag, number)
    if found is None:
        raise NotFound(f"La fiche « {tag} » n'a pas de révision {number}.")
    fmt = _format(suffix)
    if fmt.oxigraph is not None:
        return _rdf([q.triple for q in history.revision_quads(_store(), tag, number)], fmt)
    added, removed = history.changes(_store(), tag, number)
    response = Response(
        render_template(
            "revision.html",
            tag=tag,
            revision=found,
            added=sorted(added, key=str),
            removed=sorted(removed, key=str),
            short=_short,
            fiche_url=str(_iris().fiche(tag)),
            history_url=str(_iris().history(tag)),
            revision_url=lambda n: str(_iris().revision(tag, n)),
            last=history.head_number(_store(), tag),
        ),
        mimetype="text/html",
    )
    response.vary.add("Accept")
    return response


@bp.before_app_request
def tombstone():
    """A retired fiche answers 410 Gone with its tombstone, before any other route."""
    if request.method not in ("GET", "HEAD"):
        return None
    match = FICHE_PATH.fullmatch(request.path)
    if match is None:
        return None
    tag, suffix = match.groups()
    store = _store()
    if store.has_graph(str(_iris().fiche(tag))):
        return None
    gone = history.get_tombstone(store, tag)
    if gone is None:
        return None
    fmt = _format(suffix)
    if fmt.oxigraph is not None:
        graph = str(_iris().tombstone(tag))
        return _rdf([q.triple for q in store.graph_quads(graph)], fmt, 410)
    body = render_template("tombstone.html", gone=gone, history_url=gone.history)
    response = Response(body, 410, mimetype="text/html")
    response.vary.add("Accept")
    return response


def _short(term: ox.NamedNode | ox.Literal | ox.BlankNode) -> str:
    """A term as Turtle, prefixed where one of our prefixes fits."""
    if isinstance(term, ox.NamedNode):
        for prefix, namespace in PREFIXES.items():
            if term.value.startswith(namespace) and re.fullmatch(
                r"[A-Za-z0-9_-]+", term.value[len(namespace) :]
            ):
                return f"{prefix}:{term.value[len(namespace) :]}"
        return f"<{term.value}>"
    return str(term)
