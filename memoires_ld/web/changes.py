"""The change feed (changes.py) over HTTP.

    /changes         ActivityStreams 2.0 (application/activity+json, application/ld+json),
                     or an HTML list for browsers; `?page=N`, `?since=ISO 8601`
    /changes.atom    the same pages as an Atom feed (also by Accept: application/atom+xml)

Each answer carries an ETag of the dataset version and the request, and the time of its
latest change as Last-Modified: a consumer polling with If-None-Match gets 304 until a fiche
changes. The list of changes is read once per store version and `since`.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict

from flask import Blueprint, Response, current_app, g, render_template, request

from .. import changes
from . import i18n
from .http import etag
from .negotiation import NotAcceptable

bp = Blueprint("changes", __name__)
AS2 = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
ATOM = "application/atom+xml"
#: what /changes answers, by media type (the first is the default for `*/*` and no Accept)
OFFERED = {AS2: "as2", "application/ld+json": "as2", "application/json": "as2"}
OFFERED |= {ATOM: "atom", "text/html": "html", "application/xhtml+xml": "html"}
_cache: OrderedDict = OrderedDict()
_lock = threading.Lock()
CACHED = 16


@bp.get("/changes", defaults={"suffix": None})
@bp.get("/changes.<suffix>")
def feed(suffix: str | None):
    kind = _kind(suffix)
    g.format = "html" if kind == "html" else "jsonld"  # errors in a format the client reads
    since = request.args.get("since")
    moment = changes.parse_since(since)
    store = current_app.extensions["store"]
    lang = i18n.language() if kind == "html" else ""  # the feeds are French (xml:lang, names)
    response = _validated(etag(store.version, kind, lang, request.query_string.decode()))
    if kind == "html":
        response.vary.add("Accept-Language")
    if request.if_none_match.contains(response.get_etag()[0]):
        response.status_code = 304  # a poller's usual answer: nothing read from the store
        return response
    found = _changes(moment)
    page = changes.page(found, request.args.get("page"), since, store)
    latest = max((c.revision.at for c in found), default=None)
    if latest is not None:
        response.last_modified = latest
    if response.make_conditional(request).status_code == 304:
        return response
    response.set_data(_body(kind, page))
    response.mimetype = {"as2": AS2, "atom": ATOM, "html": "text/html"}[kind]
    return response


def _validated(tag: str) -> Response:
    """An empty 200 with the feed's validators, cache policy and links to both forms."""
    response = Response(status=200)
    response.set_etag(tag)
    response.cache_control.public = True
    response.cache_control.no_cache = True
    response.vary.add("Accept")
    response.headers["Link"] = ", ".join(
        f'<{url}>; rel="alternate"; type="{media}"'
        for url, media in ((_iris().changes(), AS2), (_iris().changes_atom(), ATOM))
    )
    return response


def _kind(suffix: str | None) -> str:
    if suffix is not None:
        if suffix != "atom":
            raise NotAcceptable(f".{suffix}")
        return "atom"
    explicit = request.args.get("format")
    if explicit:
        found = {"as2": "as2", "json": "as2", "jsonld": "as2", "atom": "atom", "html": "html"}
        if explicit not in found:
            raise NotAcceptable(explicit)
        return found[explicit]
    accept = request.accept_mimetypes
    if not accept or accept.best in (None, "*/*"):
        return "as2"
    best = accept.best_match(list(OFFERED))
    if best is None:
        raise NotAcceptable(str(accept))
    return OFFERED[best]


def _changes(moment) -> list[changes.Change]:
    store = current_app.extensions["store"]
    key = (store.base, store.version, moment)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    found = changes.changes(store, moment)
    with _lock:
        _cache[key] = found
        while len(_cache) > CACHED:
            _cache.popitem(last=False)
    return found


def _body(kind: str, page: changes.Page) -> bytes:
    iris = _iris()
    if kind == "atom":
        return changes.atom(iris, page)
    if kind == "html":
        return render_template(
            "changes.html",
            page=page,
            page_query=changes.page_query,
            size=changes.PAGE_SIZE,
        ).encode()
    as_collection = "page" not in request.args
    document = (changes.collection if as_collection else changes.collection_page)(iris, page)
    return json.dumps(document, ensure_ascii=False, indent=1).encode()


def _iris():
    return current_app.config["IRIS"]
