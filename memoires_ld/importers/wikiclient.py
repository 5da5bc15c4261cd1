"""GET JSON from one YesWiki, and from nowhere else.

Every request goes to the base URL the user gave (`https://site/?` or
`https://site/wakka.php?wiki=`), with a route appended (`api/forms/5`). Redirects are
followed only within the same origin (the 2018 JSON handler of a 4.x wiki redirects to
`api/forms/…`); URLs found in the data are never fetched. Each answer must come within
`timeout` seconds and stay under `max_bytes`. Problems are `SourceError`s in French naming
the URL: `RouteMissing` when the wiki does not know the route (404, or a wiki page instead
of JSON), so that the caller may try the other API generation.
"""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .. import __version__
from ..bounded_read import read_body
from ..errors import SourceError

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
ROUTE = re.compile(r"^[A-Za-z0-9_/=&.-]+$")
TITLE = re.compile(r"<title[^>]*>\s*(?P<title>[^<]{0,120})", re.IGNORECASE)


class RouteMissing(SourceError):
    """The wiki does not serve this route as JSON (404, or an HTML page instead)."""


def wiki_prefix(base_url: str) -> str:
    """The address routes and page names are appended to: "https://site/?" or "…?wiki="."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(f"adresse de wiki invalide « {base_url} » : http(s)://… attendu")
    if "?" in base_url:
        if not base_url.endswith(("?", "=")):
            raise SourceError(
                f"adresse de wiki « {base_url} » : elle doit finir par « ? » ou « wiki= » "
                "(l'adresse des pages, sans nom de page)"
            )
        return base_url
    return base_url + ("?" if parts.path else "/?")


def page_url(base_url: str, tag: str) -> str:
    """The address of a wiki page."""
    return wiki_prefix(base_url) + tag


@dataclass
class WikiClient:
    base_url: str
    timeout: float = 30.0
    max_bytes: int = 50 * 1024 * 1024
    #: (url, body) of every answer read, in order: the provenance of an import
    answers: list[tuple[str, bytes]] = field(default_factory=list)

    def __post_init__(self):
        self.prefix = wiki_prefix(self.base_url)
        parts = urlsplit(self.prefix)
        self.origin = (parts.scheme, parts.hostname, parts.port)
        handlers: list[urllib.request.BaseHandler] = [_SameOrigin(self.origin)]
        if parts.hostname in LOOPBACK:
            handlers.append(urllib.request.ProxyHandler({}))
        self._opener = urllib.request.build_opener(*handlers)

    def url(self, route: str) -> str:
        if not ROUTE.match(route):
            raise SourceError(f"route de l'API refusée « {route} »")
        return self.prefix + route

    def get_json(self, route: str) -> Any:
        """GET `route` on the wiki and parse its JSON answer."""
        url = self.url(route)
        body, content_type = self._get(url)
        self.answers.append((url, body))
        text = body.decode("utf-8-sig", errors="replace").strip()
        if "html" in content_type or text.startswith("<"):
            found = TITLE.search(text)
            title = f" « {found['title'].strip()} »" if found else ""
            raise RouteMissing(f"{url} : page HTML{title} reçue au lieu de JSON")
        try:
            return json.loads(text)
        except RecursionError:
            raise SourceError(f"{url} : JSON trop profondément imbriqué, refusé") from None
        except json.JSONDecodeError as error:
            raise SourceError(
                f"{url} : réponse JSON tronquée ou illisible ({error.msg}, "
                f"ligne {error.lineno} colonne {error.colno}, {len(body)} octets reçus)"
            ) from None

    def _get(self, url: str) -> tuple[bytes, str]:
        request = urllib.request.Request(
            url, headers={"Accept": "application/json", "User-Agent": f"memoires-ld/{__version__}"}
        )
        deadline = time.monotonic() + self.timeout
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                content_type = answer.headers.get("Content-Type", "")
                return self._read(url, answer, deadline), content_type.lower()
        except urllib.error.HTTPError as error:
            error.close()
            if error.code == 404:
                raise RouteMissing(f"{url} : page introuvable (HTTP 404)") from None
            message = f"{url} : le wiki a répondu HTTP {error.code} {error.reason}"
            raise SourceError(message) from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise self._timeout(url) from None
            raise SourceError(f"{url} : wiki injoignable ({error.reason})") from None
        except TimeoutError:
            raise self._timeout(url) from None
        except http.client.IncompleteRead as error:
            raise SourceError(
                f"{url} : réponse tronquée ({len(error.partial)} octets reçus, "
                f"{error.expected} manquants)"
            ) from None
        except (http.client.HTTPException, OSError) as error:
            raise SourceError(f"{url} : échange interrompu avec le wiki ({error})") from None

    def _read(self, url: str, answer, deadline: float) -> bytes:
        return read_body(
            answer,
            max_bytes=self.max_bytes,
            deadline=deadline,
            too_big=lambda size: self._too_big(url, size),
            too_slow=lambda: self._timeout(url),
            truncated=lambda size, announced: SourceError(
                f"{url} : réponse tronquée ({size} octets reçus, {announced - size} "
                "manquants) : le wiki a coupé la connexion"
            ),
        )

    def _timeout(self, url: str) -> SourceError:
        return SourceError(f"{url} : le wiki n'a pas répondu en {self.timeout:g} s (délai dépassé)")

    def _too_big(self, url: str, size: int) -> SourceError:
        return SourceError(
            f"{url} : réponse trop volumineuse (au moins {size} octets, limite "
            f"{self.max_bytes} octets) : lecture abandonnée"
        )


class _SameOrigin(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to the wiki's own origin (scheme, host, port)."""

    def __init__(self, origin: tuple):
        super().__init__()
        self.origin = origin

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        parts = urlsplit(newurl)
        if (parts.scheme, parts.hostname, parts.port) != self.origin:
            fp.close()
            raise SourceError(
                f"{req.full_url} redirige vers {newurl}, un autre site : redirection refusée "
                "(seule l'adresse du wiki donnée est interrogée)"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)
