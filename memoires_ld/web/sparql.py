"""The SPARQL endpoint over HTTP: protocol, service description, editor, examples.

    /sparql                    SPARQL 1.1 Protocol (GET ?query=, POST form or direct);
                               without a query: the service description (RDF) or, for a
                               browser, the query editor (YASGUI, served from this package)
    /sparql/graph              Graph Store Protocol: ?graph=<IRI> or ?default (graph_store.py)
    /sparql/exemples           the example queries, each with its links
    /sparql/exemples/<slug>    one example: its results (Accept, ?format=), the editor for
                               a browser; <slug>.rq is its text

The protocol itself is memoires_ld/sparql.py; evaluation (worker processes, timeouts, caps,
cache, rate limit) is memoires_ld/sparql_engine.py.
"""

from __future__ import annotations

import contextlib
import json
import weakref
from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Flask, Response, current_app, render_template, request
from werkzeug.datastructures import MIMEAccept

from .. import dumps, sparql_examples, sparql_service, sparql_text, void
from ..errors import MemoiresError, NotFound
from ..namespaces import PREFIXES
from ..sparql import (
    RESULTS_BY_NAME,
    Operation,
    UpdateDisabled,
    read_operation,
    result_format,
)
from ..sparql_engine import Engine, Limits
from . import auth, errors
from .negotiation import BY_MEDIA_TYPE, BY_NAME, RDF_FORMATS, NotAcceptable, negotiate

bp = Blueprint("sparql", __name__)
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]
CACHE_CONTROL = "public, no-cache"  # revalidate each time: a 304 costs no evaluation
#: `format`/`output` values clients send for RDF results (SPARQLWrapper: n3, json-ld, xml…)
GRAPH_ALIASES = {
    **{"json": "jsonld", "json-ld": "jsonld", "n3": "turtle", "n-triples": "ntriples"},
    **{"xml": "rdfxml", "rdf+xml": "rdfxml", "rdf": "rdfxml"},
}
_DATA_TYPES = {f.media_type for f in RDF_FORMATS} | {
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
    "application/json",
}
#: What the editor's first tab holds: every prefix of our data, and a first question.
DEFAULT_QUERY = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items()) + (
    "\nSELECT ?fiche ?titre WHERE {\n  ?fiche a mld:Fiche ;\n         dct:title ?titre .\n}\n"
    "ORDER BY ?titre\nLIMIT 20\n"
)
SD_PREFIXES = PREFIXES | {
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "formats": "http://www.w3.org/ns/formats/",
}


@bp.record_once
def _start(state) -> None:
    """One engine per app; its worker processes start with the first query."""
    app: Flask = state.app
    store = app.extensions["store"]
    engine = Engine(store, Path(app.config["INSTANCE_DIR"]), Limits.from_config(app.config))
    app.extensions["sparql"] = engine
    # Stop the workers and remove the snapshots when the app goes (or at exit).
    weakref.finalize(engine, _shutdown, engine.pool, engine.snapshots)


def _shutdown(pool, snapshots) -> None:
    pool.close()
    snapshots.close()


def accept() -> MIMEAccept:
    """The request's Accept, media type parameters left out (`text/turtle; charset=utf-8` is
    Turtle; werkzeug keeps them in the value, where negotiate() would not recognise it)."""
    return MIMEAccept([(m.split(";")[0].strip().lower(), q) for m, q in request.accept_mimetypes])


def engine() -> Engine:
    return current_app.extensions["sparql"]


def endpoint_iri() -> str:
    return str(current_app.config["IRIS"].sparql())


@bp.route("/sparql", methods=METHODS)
def endpoint():
    body = request.get_data() if request.method == "POST" else b""
    operation = read_operation(
        request.method, request.args, request.headers.get("Content-Type"), body
    )
    if operation is None:
        if wants_html():
            return editor(request.args.get("query"))
        return service_description()
    if operation.kind == "update":
        account = writer_account()
        revisions = engine().update(operation, endpoint_iri(), account.name)
        return written(revisions)
    if request.method != "POST" and not operation.formats and wants_html():
        return editor(operation.text)  # a link followed in a browser (?format= for data)
    return answer(operation)


def writer_account():
    """Who writes: 403 with SPARQL_UPDATE off, else an editor's or admin's API token (401)."""
    if not engine().limits.update:
        raise UpdateDisabled()
    return auth.writer(token_only=True)


def written(revisions: list) -> Response:
    """The answer to a write: the revisions it recorded (none if nothing changed)."""
    body = [
        {"fiche": r.tag, "revision": r.iri, "kind": r.kind, "agent": r.agent} for r in revisions
    ]
    document = json.dumps({"revisions": body}, ensure_ascii=False)
    return Response(document, 200, mimetype="application/json")


def answer(operation: Operation) -> Response:
    """Run a query (or take its answer from the cache) in the negotiated format."""
    form = sparql_text.query_form(operation.text) or "select"
    if form in ("select", "ask"):
        fmt = result_format(list(accept()), operation.formats).name
    else:
        fmt = _graph_format(operation.formats)
    tag = engine().etag(operation, fmt, endpoint_iri())
    if request.method in ("GET", "HEAD") and request.if_none_match.contains(tag):
        return _validators(Response(status=304), tag)
    result = engine().query(operation, fmt, endpoint_iri(), request.remote_addr or "", tag)
    media_type = (
        BY_NAME[result.format].media_type
        if result.kind == "graph"
        else RESULTS_BY_NAME[result.format].media_type
    )
    # text/* types get "; charset=utf-8" from Flask; JSON and XML are UTF-8 by definition
    return _validators(Response(result.body, mimetype=media_type), result.etag)


def _graph_format(explicit: tuple[str, ...]) -> str:
    for value in explicit:
        value = value.strip().lower()
        name = GRAPH_ALIASES.get(value, value)
        fmt = BY_NAME.get(name) or BY_MEDIA_TYPE.get(name)
        if fmt is not None and fmt in RDF_FORMATS:
            return fmt.name
    try:
        return negotiate(accept(), offered=RDF_FORMATS).name
    except NotAcceptable:  # as for results: the default rather than 406 (RFC 9110 §12.5.1)
        return "turtle"


def _validators(response: Response, tag: str) -> Response:
    response.set_etag(tag)
    response.vary.add("Accept")
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def wants_html() -> bool:
    """A browser: text/html asked for explicitly, and not less than any data format."""
    html = data = 0.0
    for media_type, q in accept():
        if media_type in ("text/html", "application/xhtml+xml"):
            html = max(html, q)
        elif media_type in _DATA_TYPES:
            data = max(data, q)
    return html > 0 and html >= data


# -- for people ----------------------------------------------------------------------------


def editor(query: str | None = None, example: sparql_examples.Example | None = None):
    """The query editor (YASGUI), prefilled with our prefixes, our examples and `query`."""
    iris = current_app.config["IRIS"]
    stats = _statistics()
    config = {
        "endpoint": endpoint_iri(),
        "prefixes": PREFIXES,
        "query": query or (example.text if example else None),
        "tabName": example.title["fr"] if example else None,
        "defaultQuery": DEFAULT_QUERY,
        "examples": [
            {"slug": e.slug, "title": e.title, "text": e.text} for e in sparql_examples.examples()
        ],
        "classes": [iri for iri, _ in stats["class_partitions"]],
        "properties": [iri for iri, _ in stats["property_partitions"]],
    }
    body = render_template(
        "sparql.html",
        config=json.dumps(config, ensure_ascii=False).replace("</", "<\\/"),
        examples=sparql_examples.examples(),
        limits=engine().limits,
        iris=iris,
        current_page=str(iris.sparql()),
    )
    response = Response(body, mimetype="text/html")
    response.vary.add("Accept")
    return response


@bp.get("/sparql/exemples")
def examples():
    iris = current_app.config["IRIS"]
    body = render_template(
        "sparql_examples.html",
        examples=sparql_examples.examples(),
        result_formats=[f.name for f in RESULTS_BY_NAME.values()],
        graph_formats=[f.suffix for f in RDF_FORMATS],
        iris=iris,
        current_page=str(iris.sparql()),
    )
    return Response(body, mimetype="text/html")


@bp.get("/sparql/exemples/<name>")
def example(name: str):
    """One example: its text (.rq), its results, or the editor for a browser."""
    slug, _, suffix = name.partition(".")
    found = sparql_examples.by_slug(slug)
    if found is None or suffix not in ("", "rq"):
        slugs = ", ".join(e.slug for e in sparql_examples.examples())
        raise NotFound(f"Pas d'exemple « {name} ». Exemples : {slugs}.")
    if suffix == "rq":
        response = Response(found.text, mimetype="application/sparql-query")
        response.headers["Content-Type"] = "application/sparql-query; charset=utf-8"
        return response
    if "format" not in request.args and wants_html():
        return editor(example=found)
    return answer(Operation("query", found.text, formats=tuple(request.args.getlist("format"))))


# -- for machines --------------------------------------------------------------------------


def service_description() -> Response:
    fmt = negotiate(accept(), explicit=request.args.get("format"), offered=RDF_FORMATS)
    limits = engine().limits
    stats = sparql_service.statistics(engine(), endpoint_iri())
    tag = f"{stats.version}-sd-{fmt.name}-{int(limits.update)}-{len(limits.allowlist)}"
    if request.if_none_match.contains(tag):
        return _validators(Response(status=304), tag)
    triples = sparql_service.describe(
        endpoint_iri(),
        str(current_app.config["IRIS"].dataset()),
        stats,
        update=limits.update,
        federated=bool(limits.allowlist),
    )
    prefixes = None if fmt.oxigraph == ox.RdfFormat.N_TRIPLES else SD_PREFIXES
    body = ox.serialize(triples, format=fmt.oxigraph, prefixes=prefixes)
    return _validators(Response(body, mimetype=fmt.media_type), tag)


@bp.errorhandler(MemoiresError)
def _error(error: MemoiresError):
    """French for people (the site's error page), JSON or plain text for programs."""
    if wants_html() or getattr(error, "report", None) is not None:
        return errors.respond(error)  # a 422: the sh:ValidationReport, Turtle or JSON-LD
    explicit = {m for m, q in accept() if q > 0}
    if explicit & {"application/json", "application/sparql-results+json", "application/ld+json"}:
        body, media_type = json.dumps(error.as_dict(), ensure_ascii=False), "application/json"
    else:
        body, media_type = f"{error.status} {error.code}\n{error.message}\n", "text/plain"
    response = Response(body, error.status, mimetype=media_type)
    response.headers.update(error.headers)
    return response


def _instance() -> Path:
    return Path(current_app.config["INSTANCE_DIR"])


def _statistics() -> dict:
    """The class and property partitions the editor completes from: those of the latest
    version published in full (after a write, counting the new one is the publisher's job,
    a minute at 100k fiches), else counted now (a new instance)."""
    latest = dumps.latest_complete(_instance())
    if latest is not None:
        path = _instance() / dumps.FOLDER / latest / void.STATISTICS_FILE
        with contextlib.suppress(FileNotFoundError, ValueError):  # replaced meanwhile
            return json.loads(path.read_text())
    return void.cached_statistics(current_app.extensions["store"], _instance())
