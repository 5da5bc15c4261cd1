"""A fake YesWiki on 127.0.0.1 for the importer's tests: http.server in a thread.

It answers routes (the part of the URL after "?") with what a test gives it, in YesWiki's
exact formats (tests/data/yeswiki/, all constructed): `modern()` sets up a 4.x wiki,
`legacy()` a 2018 one. Any other route gets a 404 HTML page, as a wiki does.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "yeswiki"
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Erreur - YesWiki</title></head><body>...</body></html>"
)


def example(name: str) -> Any:
    """A constructed example, parsed (a fresh copy each time)."""
    return json.loads((DATA / f"constructed.{name}.json").read_text(encoding="utf-8"))


def legacy_part(part: str) -> Any:
    return copy.deepcopy(example("legacy-json-handler")[part])


@dataclass
class Answer:
    body: bytes
    status: int = 200
    content_type: str = "application/json"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    #: False: no Content-Length, the body ends when the connection closes
    length: bool = True


class FakeWiki:
    def __init__(self):
        self.routes: dict[str, Answer] = {}
        self.requests: list[str] = []
        self.stop = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.handle_error = lambda request, address: None  # client went away: fine
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}/?"

    def serve(self, route: str, body: Any, **answer) -> None:
        """Answer `route` with `body` (bytes as they are, anything else as JSON)."""
        if not isinstance(body, bytes):
            body = json.dumps(body, ensure_ascii=True).replace("/", "\\/").encode()
        self.routes[route] = Answer(body, **answer)

    def modern(self, entries: Any = None, form: Any = None) -> FakeWiki:
        """A YesWiki 4.x: ?api/forms/5, ?api/forms/5/entries; the legacy entries route redirects."""
        self.serve("api/forms/5", form if form is not None else example("api-forms-5"))
        self.serve(
            "api/forms/5/entries",
            entries if entries is not None else example("api-forms-5-entries"),
        )
        self.serve(
            "BazaR/json&demand=entries&id=5",
            b"",
            status=302,
            headers={"Location": self.base + "api/forms/5/entries"},
        )
        return self

    def legacy(self, entries: Any = None, form: Any = None) -> FakeWiki:
        """A 2018 YesWiki: ?BazaR/json&demand=…; ?api/… is an ordinary (HTML) wiki page."""
        self.serve("api/forms/5", HTML_PAGE, content_type="text/html; charset=UTF-8")
        self.serve(
            "BazaR/json&demand=forms&id=5",
            form if form is not None else legacy_part("demand=forms&id=5"),
        )
        self.serve(
            "BazaR/json&demand=entries&id=5",
            entries if entries is not None else legacy_part("demand=entries&id=5"),
        )
        lists = example("lists")["body_until_4.4"]
        for tag, body in lists.items():
            self.serve(f"BazaR/json&demand=lists&list={tag}", body)
        return self


def _handler(wiki: FakeWiki) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            route = self.path.split("?", 1)[1] if "?" in self.path else ""
            wiki.requests.append(route)
            answer = wiki.routes.get(route) or Answer(HTML_PAGE, 404, "text/html")
            if answer.delay and wiki.stop.wait(answer.delay):
                return
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if answer.length:
                self.send_header("Content-Length", str(len(answer.body)))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, format, *args):
            pass

    return Handler


@contextmanager
def running() -> Iterator[FakeWiki]:
    wiki = FakeWiki()
    thread = threading.Thread(target=wiki.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield wiki
    finally:
        wiki.stop.set()
        wiki.server.shutdown()
        wiki.server.server_close()
        thread.join()
