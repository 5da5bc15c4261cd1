"""HTTP for harvests: GET (or send a prepared request) to the peers' hosts only.

Every request goes to a host of the allowlist (`peers.allowed_origins`); a redirect to
another host is refused, as is an answer slower than `HARVEST_TIMEOUT` (a peer sending a
byte now and then included) or larger than `HARVEST_MAX_BYTES`. A truncated body (fewer
bytes than announced, a connection reset), a 4xx or 5xx the caller did not expect raise
`HarvestError` naming the URL, in French. 127.0.0.1 is never reached through a proxy.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from . import __version__
from .bounded_read import read_body
from .errors import MemoiresError
from .peers import is_allowed

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class HarvestError(MemoiresError):
    """A peer could not be harvested: nothing of this harvest was written."""

    status = 502
    code = "moisson-echouee"


@dataclass
class Answer:
    url: str
    status: int
    body: bytes = b""
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""


class Fetcher:
    """GET (or send a prepared request) to allowed hosts only, with a deadline and a size cap."""

    def __init__(self, origins: frozenset, timeout: float, max_bytes: int):
        self.origins, self.timeout, self.max_bytes = origins, timeout, max_bytes
        redirects = _AllowedRedirects(origins)
        self._opener = urllib.request.build_opener(redirects)  # the environment's proxies
        self._local = urllib.request.build_opener(redirects, urllib.request.ProxyHandler({}))

    def get(
        self, url: str, accept: str, *, etag: str = "", last_modified: str = "", ok=(200,)
    ) -> Answer:
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self.send(urllib.request.Request(url, headers=headers), ok=ok)

    def send(self, request: urllib.request.Request, ok=(200,)) -> Answer:
        url = request.full_url
        if not is_allowed(url, self.origins):
            raise HarvestError(
                f"{url} : adresse hors de la liste des pairs (PEERS) : elle n'est pas contactée"
            )
        request.add_header("User-Agent", f"memoires-ld/{__version__} (moisson)")
        deadline = time.monotonic() + self.timeout
        try:
            local = urlsplit(url).hostname in LOOPBACK  # never through a proxy
            opener = self._local if local else self._opener
            with opener.open(request, timeout=self.timeout) as answer:
                body = self._read(url, answer, deadline)
                return _answer(url, answer.status, answer.headers, body)
        except urllib.error.HTTPError as error:
            with error:
                if error.code in ok:
                    return _answer(url, error.code, error.headers, b"")
                raise HarvestError(
                    f"{url} : le pair a répondu HTTP {error.code} {error.reason}"
                ) from None
        except HarvestError:
            raise
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise self._timeout(url) from None
            raise HarvestError(f"{url} : pair injoignable ({error.reason})") from None
        except TimeoutError:
            raise self._timeout(url) from None
        except http.client.IncompleteRead as error:
            raise HarvestError(
                f"{url} : réponse tronquée ({len(error.partial)} octets reçus, "
                f"{error.expected} manquants)"
            ) from None
        except (http.client.HTTPException, OSError) as error:
            raise HarvestError(
                f"{url} : échange interrompu par le pair ({error.__class__.__name__}: {error})"
            ) from None

    def _read(self, url: str, answer, deadline: float) -> bytes:
        return read_body(
            answer,
            max_bytes=self.max_bytes,
            deadline=deadline,
            too_big=lambda size: self.too_big(url, size),
            too_slow=lambda: self._timeout(url),
            truncated=lambda size, announced: HarvestError(
                f"{url} : réponse tronquée ({size} octets reçus sur {announced} annoncés)"
            ),
        )

    def _timeout(self, url: str) -> HarvestError:
        return HarvestError(
            f"{url} : le pair n'a pas répondu en {self.timeout:g} s (délai dépassé)"
        )

    def too_big(self, url: str, size: int) -> HarvestError:
        return HarvestError(
            f"{url} : document trop volumineux (au moins {size} octets, limite "
            f"HARVEST_MAX_BYTES = {self.max_bytes}) : lecture abandonnée"
        )


def _answer(url: str, status: int, headers, body: bytes) -> Answer:
    content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    return Answer(
        url,
        status,
        body,
        content_type,
        headers.get("ETag") or "",
        headers.get("Last-Modified") or "",
    )


class _AllowedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to a host of the allowlist."""

    def __init__(self, origins: frozenset):
        super().__init__()
        self.origins = origins

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        newurl = urljoin(req.full_url, newurl)
        if not is_allowed(newurl, self.origins):
            fp.close()
            raise HarvestError(
                f"{req.full_url} redirige vers {newurl}, hors de la liste des pairs (PEERS) : "
                "redirection refusée"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)
