"""Answer a request for a document: choose the format, honour the validators, render.

Every representation of a resource says where it lives (`Content-Location`: the suffixed
URL of the chosen format), lists its twins (`Link: rel="alternate"`, and `<link
rel="alternate">` in HTML), and carries an ETag and a Last-Modified (http.py).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import pyoxigraph as ox
from flask import Response, current_app, g, render_template, request

from ..namespaces import PREFIXES
from . import http, i18n, jsonld
from .documents import Document
from .negotiation import FORMATS, Format, negotiate

#: Prefixes for Turtle and RDF/XML, beyond the ones namespaces.py publishes.
SERIALISATION_PREFIXES = PREFIXES | {
    "shapes": "https://w3id.org/memoires-ld/shapes#",
    "dash": "http://datashapes.org/dash#",
    "vann": "http://purl.org/vocab/vann/",
    "as": "https://www.w3.org/ns/activitystreams#",
}
#: Datatypes Turtle writes without naming them.
IMPLICIT = {
    "http://www.w3.org/2001/XMLSchema#string",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString",
    "http://www.w3.org/2001/XMLSchema#integer",
}
_JSONLD_CACHE: OrderedDict = OrderedDict()
_JSONLD_CACHE_SIZE = 256
_lock = threading.Lock()


def choose_format(suffix: str | None) -> Format:
    """The format asked for by suffix, ?format= or Accept (406 if none is available)."""
    fmt = negotiate(request.accept_mimetypes, explicit=suffix or request.args.get("format"))
    g.format = fmt.name  # errors of this request answer in this format where they can
    return fmt


def split_suffix(name: str) -> tuple[str, str | None]:
    """`Tag.ttl` → (`Tag`, `ttl`) for the suffixes we serve; other names unchanged."""
    stem, dot, suffix = name.rpartition(".")
    if dot and stem and suffix in {f.suffix for f in FORMATS}:
        return stem, suffix
    return name, None


def respond(
    load: Callable[[], Document],
    suffix: str | None,
    template: str,
    page: Callable[[Document, str], dict],
    *,
    describedby: str | None = None,
    ready: Callable[[Format, str], tuple[Document, bytes] | None] | None = None,
) -> Response:
    """The whole answer for one resource: negotiation, 304, body, headers.

    `ready(fmt, lang)` may give the document's state and its body made in advance
    (rendered.py), for a request with no other argument than `lang`.
    """
    fmt = choose_format(suffix)
    lang = i18n.language() if fmt.oxigraph is None else ""
    plain = all(name == "lang" for name in request.args)
    found = ready(fmt, lang) if ready is not None and plain else None
    doc, body = found or (load(), None)
    tag = http.etag(doc.state, fmt.name, lang)
    alternates = [(f, str(_url(doc, f))) for f in FORMATS]
    if http.not_modified(tag, doc.modified):
        response = Response(status=304)
    elif body is not None:
        response = Response(body, mimetype=fmt.media_type)
    elif fmt.oxigraph is None:
        context = page(doc, lang)
        body = render_template(template, doc=doc, alternates=alternates, lang=lang, **context)
        response = Response(body, mimetype="text/html")
    else:
        response = Response(serialize(doc, fmt), mimetype=fmt.media_type)
    _headers(response, doc, fmt, lang, alternates, describedby, explicit=bool(suffix))
    http.validators(response, tag, doc.modified)
    return response


def _url(doc: Document, fmt: Format) -> str:
    return current_app.config["IRIS"].representation(doc.url, fmt.suffix)


def _headers(response, doc, fmt, lang, alternates, describedby, *, explicit: bool) -> None:
    if not explicit and not request.args.get("format"):
        response.vary.add("Accept")
    if fmt.oxigraph is None:
        response.vary.add("Accept-Language")
        response.headers["Content-Language"] = lang
    response.headers["Content-Location"] = _url(doc, fmt)
    links = [f'<{doc.url}>; rel="canonical"']
    links += [f'<{url}>; rel="alternate"; type="{f.media_type}"' for f, url in alternates]
    if describedby:
        links.append(f'<{describedby}>; rel="describedby"; type="text/turtle"')
    response.headers["Link"] = ", ".join(links)


def serialize(doc: Document, fmt: Format) -> bytes:
    if fmt.name == "jsonld":
        return _jsonld(doc)
    if fmt.oxigraph == ox.RdfFormat.N_TRIPLES:
        return ox.serialize(doc.triples, format=fmt.oxigraph)
    if fmt.oxigraph == ox.RdfFormat.TURTLE:
        return turtle(doc.triples)
    return ox.serialize(doc.triples, format=fmt.oxigraph, prefixes=_used_prefixes(doc.triples))


def turtle(triples: list[ox.Triple]) -> bytes:
    """Turtle with our prefixes, keeping only the `@prefix` lines the body uses.

    Cheaper than finding the used namespaces beforehand (`_used_prefixes` walks every
    term in Python): the body is searched for `name:` in C. A prefix name met inside a
    literal keeps an unused but harmless line.
    """
    body = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=SERIALISATION_PREFIXES)
    end = 0
    while body.startswith(b"@prefix ", end):
        end = body.index(b"\n", end) + 1
    rest = body[end:]
    kept = [
        line
        for line in body[:end].splitlines(keepends=True)
        if line[len(b"@prefix ") : line.index(b":") + 1] in rest
    ]
    return b"".join(kept) + rest


def _used_prefixes(triples: list[ox.Triple]) -> dict[str, str]:
    """The prefixes whose namespace some IRI of the triples starts with."""
    iris = {
        term.value
        for t in triples
        for term in (t.subject, t.predicate, t.object)
        if isinstance(term, ox.NamedNode)
    }
    iris |= {
        t.object.datatype.value
        for t in triples
        if isinstance(t.object, ox.Literal) and t.object.datatype.value not in IMPLICIT
    }
    used = {iri[: i + 1] for iri in iris for i, c in enumerate(iri) if c in "/#"}
    return {p: ns for p, ns in SERIALISATION_PREFIXES.items() if ns in used}


def _jsonld(doc: Document) -> bytes:
    """pyld takes tens of milliseconds per fiche: keep the result per document state."""
    iris = current_app.config["IRIS"]
    key = (iris.base, doc.kind, doc.iri, doc.state, hash(tuple(doc.triples)))
    with _lock:
        if key in _JSONLD_CACHE:
            _JSONLD_CACHE.move_to_end(key)
            return _JSONLD_CACHE[key]
    body = jsonld.dumps(jsonld.document(doc.triples, doc.iri, doc.kind, iris))
    with _lock:
        _JSONLD_CACHE[key] = body
        while len(_JSONLD_CACHE) > _JSONLD_CACHE_SIZE:
            _JSONLD_CACHE.popitem(last=False)
    return body
