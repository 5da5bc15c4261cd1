"""One error handler: any MemoiresError, answered in the negotiated format."""

from __future__ import annotations

import json

from flask import Flask, Response, g, render_template, request
from werkzeug.exceptions import HTTPException

from ..errors import MemoiresError
from .negotiation import NotAcceptable, negotiate


def _wants(error_format_offered=("html", "jsonld", "turtle")):
    from .negotiation import BY_NAME

    chosen = g.get("format")  # set once a route has negotiated (suffix, ?format=, Accept)
    if chosen in error_format_offered:
        return chosen
    offered = tuple(BY_NAME[n] for n in error_format_offered)
    try:
        return negotiate(request.accept_mimetypes, offered=offered, default="jsonld").name
    except NotAcceptable:
        return "jsonld"


def respond(error: MemoiresError) -> Response:
    body = error.as_dict()
    kind = _wants()
    report = getattr(error, "report", None)
    if report is not None and kind == "turtle":
        # A fiche that does not conform: the sh:ValidationReport itself (SHACL §3.6).
        text = report.graph.serialize(format="turtle")
        response = Response(text, error.status, mimetype="text/turtle")
    elif report is not None and kind == "jsonld":
        # The report as JSON-LD, and beside it (keys a JSON-LD processor ignores) the error
        # and a short summary for clients that read plain JSON.
        document = {"@graph": json.loads(report.graph.serialize(format="json-ld")), **body}
        accept = request.accept_mimetypes
        plain = accept["application/json"] > accept["application/ld+json"]
        media = "application/json" if plain else "application/ld+json"
        response = Response(json.dumps(document, ensure_ascii=False), error.status, mimetype=media)
    elif kind == "html":
        html = render_template("error.html", error=error), error.status
        response = Response(*html, mimetype="text/html")
    elif kind == "turtle":
        lines = [
            "@prefix http: <http://www.w3.org/2011/http#> .",
            "@prefix schema: <http://schema.org/> .",
            "[] a schema:Error ;",
            f"    http:statusCodeValue {error.status} ;",
            f"    schema:identifier {json.dumps(error.code)} ;",
            f"    schema:description {json.dumps(error.message, ensure_ascii=False)}@fr .",
        ]
        response = Response("\n".join(lines) + "\n", error.status, mimetype="text/turtle")
    else:
        response = Response(
            json.dumps(body, ensure_ascii=False), error.status, mimetype="application/json"
        )
    response.headers.update(error.headers)
    return response


def register(app: Flask) -> None:
    app.register_error_handler(MemoiresError, respond)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        wrapped = MemoiresError(_FRENCH.get(error.code, error.description or error.name))
        wrapped.status = error.code or 500
        wrapped.code = (error.name or "erreur").lower().replace(" ", "-")
        return respond(wrapped)


_FRENCH = {
    400: "Requête invalide.",
    404: "Cette page n'existe pas.",
    405: "Cette méthode n'est pas permise sur cette adresse.",
    413: "Le contenu envoyé est trop volumineux.",
    414: "L'adresse demandée est trop longue.",
    415: "Ce type de contenu n'est pas accepté.",
    429: "Trop de requêtes : réessayez plus tard.",
}
