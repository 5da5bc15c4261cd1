"""HTTP for the SPARQL store: kept-alive connections per thread, Basic and Digest auth.

Standard library only (http.client): a connection is reused by the thread that opened it, and
opened again when the server closed it. Credentials are answered to the challenge the server
sends (RFC 7617 Basic, RFC 7616 Digest with MD5 or SHA-256 and qop=auth), then sent up front
on the following requests.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import re
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import MemoiresError

TIMEOUT = 600.0


class StoreUnavailable(MemoiresError):
    """The SPARQL server cannot be reached, or refuses our credentials."""

    status = 503
    code = "store-indisponible"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass
class Client:
    """Requests to one server, with optional credentials (never logged, never in errors)."""

    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = TIMEOUT
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _challenge: dict | None = field(default=None, repr=False)
    _count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _open: set = field(default_factory=set, repr=False)

    def post(self, url: str, body: bytes, headers: dict, timeout: float | None = None) -> Response:
        return self.request("POST", url, body, headers, timeout)

    def request(
        self, method: str, url: str, body: bytes | None, headers: dict, timeout: float | None = None
    ) -> Response:
        """Send a request; TimeoutError past `timeout` seconds (the client's by default)."""
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(headers)
        authorization = self._authorization(method, target)
        if authorization:
            headers["Authorization"] = authorization
        timeout = timeout or self.timeout
        response = self._send(parts, method, target, body, headers, timeout)
        if response.status == 401 and self.user is not None:
            self._answer(response.headers.get("www-authenticate", ""))
            headers["Authorization"] = self._authorization(method, target) or ""
            response = self._send(parts, method, target, body, headers, timeout)
        if response.status in (401, 403):
            raise StoreUnavailable(
                f"Le serveur SPARQL refuse l'accès ({response.status}) : vérifiez STORE_USER et "
                "STORE_PASSWORD, et les droits de ce compte (lecture, SPARQL Update)."
            )
        return response

    # -- connections -------------------------------------------------------------------
    def _send(self, parts, method, target, body, headers, timeout: float) -> Response:
        for attempt in (1, 2):
            connection = self._connection(parts)
            connection.timeout = timeout
            if connection.sock is not None:
                connection.sock.settimeout(timeout)
            try:
                connection.request(method, target, body=body, headers=headers)
                raw = connection.getresponse()
                data = raw.read()
            except TimeoutError:
                self._drop(parts)  # the answer may still come: never read it as the next one
                raise
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self._drop(parts)
                if attempt == 2:
                    message = f"Le serveur SPARQL {parts.netloc} a coupé la connexion."
                    raise StoreUnavailable(message) from None
                continue  # a kept-alive connection the server had closed: once more
            except OSError as error:
                self._drop(parts)
                raise StoreUnavailable(
                    f"Le serveur SPARQL {parts.netloc} est injoignable : {error}."
                ) from None
            found = {k.lower(): v for k, v in raw.getheaders()}
            if found.get("connection", "").lower() == "close":
                self._drop(parts)
            return Response(raw.status, found, data)
        raise AssertionError("unreachable")

    def _connection(self, parts) -> http.client.HTTPConnection:
        pool = self._local.__dict__.setdefault("pool", {})
        key = (parts.scheme, parts.netloc)
        if key not in pool:
            kind = (
                http.client.HTTPSConnection
                if parts.scheme == "https"
                else http.client.HTTPConnection
            )
            pool[key] = kind(parts.hostname, parts.port, timeout=self.timeout)
            with self._lock:
                self._open.add(pool[key])
        return pool[key]

    def _drop(self, parts) -> None:
        pool = self._local.__dict__.get("pool", {})
        connection = pool.pop((parts.scheme, parts.netloc), None)
        if connection is not None:
            connection.close()
            with self._lock:
                self._open.discard(connection)

    def close(self) -> None:
        """Close the connections of every thread (they reconnect if used again)."""
        with self._lock:
            connections, self._open = list(self._open), set()
        for connection in connections:
            connection.close()

    # -- authentication ----------------------------------------------------------------
    def _answer(self, header: str) -> None:
        scheme, _, rest = header.strip().partition(" ")
        with self._lock:
            if scheme.lower() == "digest":
                self._challenge = dict(re.findall(r'(\w+)="?([^",]*)"?', rest))
                self._challenge["scheme"] = "digest"
                self._count = 0
            else:
                self._challenge = {"scheme": "basic"}

    def _authorization(self, method: str, target: str) -> str | None:
        challenge = self._challenge
        if challenge is None or self.user is None:
            return None
        if challenge["scheme"] == "basic":
            token = base64.b64encode(f"{self.user}:{self.password or ''}".encode()).decode()
            return f"Basic {token}"
        with self._lock:
            self._count += 1
            count = f"{self._count:08x}"
        return _digest(challenge, self.user, self.password or "", method, target, count)


def _digest(challenge: dict, user: str, password: str, method: str, uri: str, count: str) -> str:
    """RFC 7616 §3.4 response, qop=auth (or RFC 2069's without qop)."""
    algorithm = challenge.get("algorithm", "MD5")
    name = algorithm.upper().removesuffix("-SESS").replace("SHA-256", "sha256").lower()

    def h(text: str) -> str:
        return hashlib.new(name, text.encode()).hexdigest()

    realm, nonce = challenge.get("realm", ""), challenge.get("nonce", "")
    cnonce = os.urandom(8).hex()
    ha1 = h(f"{user}:{realm}:{password}")
    if algorithm.upper().endswith("-SESS"):
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}")
    qop = "auth" if "auth" in challenge.get("qop", "").split(",") else None
    if qop:
        response = h(f"{ha1}:{nonce}:{count}:{cnonce}:{qop}:{ha2}")
    else:
        response = h(f"{ha1}:{nonce}:{ha2}")
    fields = [
        f'username="{user}"',
        f'realm="{realm}"',
        f'nonce="{nonce}"',
        f'uri="{uri}"',
        f"algorithm={algorithm}",
        f'response="{response}"',
    ]
    if "opaque" in challenge:
        fields.append(f'opaque="{challenge["opaque"]}"')
    if qop:
        fields += [f"qop={qop}", f"nc={count}", f'cnonce="{cnonce}"']
    return "Digest " + ", ".join(fields)
