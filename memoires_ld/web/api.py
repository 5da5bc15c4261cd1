"""The write API: machines add, replace and retire fiches with RDF, through writes.py.

* `POST /fiches` — a fiche as Turtle, N-Triples or JSON-LD → 201 Created, `Location`.
* `PUT /fiche/{tag}` — replace it; `If-Match` is required (428 without, 412 if stale).
* `DELETE /fiche/{tag}` — retire it; `If-Match` required; the reason in the body (text, or
  JSON `{"reason": …}`) or the `Reason` header (percent-encoded UTF-8).

Relative IRIs in a body are resolved against the instance's base URL, as in the files of
data/rdf: `<fiche/MaFiche>` is `{base}fiche/MaFiche`. A body that does not conform to the
shapes gets 422 with the sh:ValidationReport (Turtle or JSON-LD, by Accept) and its JSON
summary; nothing is stored. Larger than MAX_CONTENT_LENGTH: 413. Another media type: 415.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request
from rdflib import Graph

from .. import history, writes
from ..errors import BadRequest, InvalidFiche, PreconditionRequired, UnsupportedMediaType
from ..history import Revision
from ..namespaces import bind_prefixes
from . import auth

bp = Blueprint("api", __name__)

#: Media types a fiche may be sent as.
READABLE = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}


def _store():
    return current_app.extensions["store"]


@bp.post("/fiches")
def create():
    account = auth.writer()
    graph = _body_graph()
    revision = writes.create_fiche(_store(), graph, agent=account.name, reason=_reason())
    response = _revision_response(revision, 201)
    response.headers["Location"] = str(current_app.config["IRIS"].fiche(revision.tag))
    return response


@bp.put("/fiche/<tag>")
def replace(tag: str):
    account = auth.writer()
    if_match = _if_match(tag)
    graph = _body_graph()
    found = writes.fiche_tag(graph, current_app.config["IRIS"])
    if found != tag:
        raise InvalidFiche(
            f"Le corps décrit la fiche « {found} », pas « {tag} » : envoyez-le à son adresse."
        )
    revision = writes.replace_fiche(
        _store(), graph, agent=account.name, if_match=if_match, reason=_reason()
    )
    return _revision_response(revision, 200)


@bp.delete("/fiche/<tag>")
def retire(tag: str):
    account = auth.writer()
    if_match = _if_match(tag)
    revision = writes.retire_fiche(
        _store(), tag, agent=account.name, if_match=if_match, reason=_reason(body=True)
    )
    return _revision_response(revision, 200)


def _if_match(tag: str) -> str:
    """RFC 6585 §3: a change must say which version it changes."""
    value = request.headers.get("If-Match")
    if not value:
        current = history.etag(_store(), tag)
        raise PreconditionRequired(
            f"Envoyez l'en-tête If-Match avec l'ETag de la fiche « {tag} » telle que vous "
            "l'avez lue : sans lui, vous pourriez effacer la modification de quelqu'un d'autre.",
            headers={"ETag": current} if current else None,
        )
    return value


def _body_graph() -> Graph:
    media_type = request.mimetype
    fmt = READABLE.get(media_type)
    if fmt is None:
        raise UnsupportedMediaType(
            f"Type de contenu non accepté « {media_type or 'aucun'} » : envoyez "
            f"{', '.join(READABLE)}.",
            headers={"Accept-Post": ", ".join(READABLE)},
        )
    body = request.get_data(cache=True)  # 413 past MAX_CONTENT_LENGTH
    try:
        triples = list(ox.parse(body, fmt, base_iri=current_app.config["BASE_URL"]))
    except (SyntaxError, ValueError, OSError) as error:
        raise BadRequest(f"Corps illisible ({media_type}) : {error}") from error
    text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    return bind_prefixes(Graph()).parse(data=text.decode("utf-8"), format="nt")


def _reason(*, body: bool = False) -> str | None:
    if body and request.get_data(cache=True):
        if request.mimetype == "application/json":
            try:
                return str(json.loads(request.get_data(as_text=True)).get("reason") or "") or None
            except (ValueError, AttributeError) as error:
                raise BadRequest('JSON illisible : attendu {"reason": "…"}.') from error
        if request.mimetype in ("text/plain", ""):
            return request.get_data(as_text=True).strip() or None
    header = request.headers.get("Reason")
    return unquote(header).strip() or None if header else None


def _revision_response(revision: Revision, status: int) -> Response:
    body = {
        "tag": revision.tag,
        "fiche": str(current_app.config["IRIS"].fiche(revision.tag)),
        "revision": revision.iri,
        "number": revision.number,
        "kind": revision.kind,
        "agent": revision.agent,
        "at": revision.at.isoformat(),
        "added": revision.added,
        "removed": revision.removed,
    }
    response = Response(json.dumps(body, ensure_ascii=False), status, mimetype="application/json")
    etag = history.etag(_store(), revision.tag)
    if etag and revision.kind != "retire":
        response.headers["ETag"] = etag
    response.headers["Content-Location"] = revision.iri
    return response
