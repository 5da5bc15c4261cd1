"""HTTP semantics shared by every route: CORS, caching policy, validators, long URLs.

* CORS (Fetch standard): `Access-Control-Allow-Origin: *` on every response, errors
  included, and the headers a script needs to read exposed; preflights answered for a day.
* Caching (RFC 9111): resources say `public, max-age=60, must-revalidate` and carry an
  ETag and a Last-Modified; errors say `no-cache` unless their route said otherwise.
* Conditional requests (RFC 9110 §13): `not_modified()` is called by a route *before* it
  renders anything, so a 304 costs a lookup, not a serialisation. If-None-Match wins over
  If-Modified-Since (§13.2.2).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from flask import Flask, Response, abort, request

from .. import __version__

#: Longer URLs get 414 (gunicorn refuses request lines over 4094 bytes anyway).
MAX_URL = 2048
RESOURCE_CACHE = "public, max-age=60, must-revalidate"
ERROR_CACHE = "no-cache"
EXPOSED = "ETag, Link, Location, Content-Location, Last-Modified, Vary, Content-Language"
ALLOWED_HEADERS = (
    "Accept, Accept-Language, Content-Type, Authorization, If-Match, If-None-Match, "
    "If-Modified-Since, If-Unmodified-Since"
)


def register(app: Flask) -> None:
    app.before_request(_refuse_long_urls)
    app.after_request(_cors_and_cache)


def _refuse_long_urls():
    if len(request.full_path) > MAX_URL:
        abort(414)


def _cors_and_cache(response: Response) -> Response:
    headers = response.headers
    headers["Access-Control-Allow-Origin"] = "*"
    headers.setdefault("Access-Control-Expose-Headers", EXPOSED)
    if request.method == "OPTIONS":
        headers.setdefault("Access-Control-Allow-Methods", headers.get("Allow", "GET, HEAD"))
        headers.setdefault("Access-Control-Allow-Headers", ALLOWED_HEADERS)
        headers.setdefault("Access-Control-Max-Age", "86400")
    if response.status_code >= 400 and "Cache-Control" not in headers:
        headers["Cache-Control"] = ERROR_CACHE
    return response


def etag(state: str, *variant: str) -> str:
    """A strong entity tag: `<state>-<variant>`.

    `state` is the state of the resource (for a fiche, its latest revision); the variant
    digest tells apart the formats, languages and software versions of the same state, as
    RFC 9110 §8.8.3 requires of a strong validator. Comparing the part before the dash
    tells whether two tags are of the same state.
    """
    digest = hashlib.sha256("|".join((__version__, *variant)).encode()).hexdigest()[:8]
    return f"{state}-{digest}"


def validators(response: Response, tag: str, modified: datetime | None) -> None:
    response.set_etag(tag)
    if modified is not None:
        response.last_modified = _clamp(modified)
    response.headers["Cache-Control"] = RESOURCE_CACHE


def not_modified(tag: str, modified: datetime | None) -> bool:
    """True when the client's copy is current (GET and HEAD only)."""
    if request.method not in ("GET", "HEAD"):
        return False
    if request.if_none_match:
        return request.if_none_match.contains_weak(tag)
    since = request.if_modified_since
    return bool(since and modified and _clamp(modified) <= since)


def _clamp(moment: datetime) -> datetime:
    """Whole seconds, UTC, never in the future (RFC 9110 §8.8.2.1)."""
    moment = moment.astimezone(UTC).replace(microsecond=0)
    return min(moment, datetime.now(UTC).replace(microsecond=0))
