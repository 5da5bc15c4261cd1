"""Helpers for the SPARQL tests (not a test module): the real app on a real HTTP server.

`LiveServer` serves an app with werkzeug's threaded server on 127.0.0.1 (a free port), in a
thread of the test process, so that clients (http.client, SPARQLWrapper, rdflib, a browser)
talk HTTP to it while the test can still reach the app's store.
"""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox
from werkzeug.serving import make_server

from memoires_ld.web import create_app

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data"
W3C = Path(__file__).resolve().parent / "data" / "w3c"


class LiveServer:
    def __init__(self, app, port: int = 0):
        self.app = app
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.port = self.server.server_port
        self.base = f"http://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    @property
    def endpoint(self) -> str:
        return self.base + "sparql"

    def request(
        self, method: str, target: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request; the status, the headers (lower-case names) and the body."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, target, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            connection.close()


def make_app(tmp: Path, base: str | None = None, **settings):
    """The real app on a copy of the seed data; `settings` override the defaults."""
    data = tmp / "data"
    if not data.exists():
        shutil.copytree(SEED / "rdf", data / "rdf")
    config = {"INSTANCE_DIR": str(tmp / "instance"), "DATA_DIR": str(data)}
    if base:
        config["BASE_URL"] = base
    app = create_app(config | settings)
    app.config["TESTING"] = True
    return app


def serve(tmp: Path, **settings) -> LiveServer:
    """A live server whose BASE_URL is its own address (the port is chosen first)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return LiveServer(make_app(tmp, f"http://127.0.0.1:{port}/", **settings), port)


def add_quads(app, quads) -> None:
    """Write quads into the app's store through the endpoint's own write path."""
    lines = []
    for q in quads:
        triple = f"{q.subject} {q.predicate} {q.object} ."
        graph = q.graph_name
        lines.append(
            triple if isinstance(graph, ox.DefaultGraph) else f"GRAPH {graph} {{ {triple} }}"
        )
    app.extensions["sparql"].apply("INSERT DATA { " + "\n".join(lines) + " }")


def load_w3c_dataset(app) -> None:
    """The fixture graphs of the W3C protocol tests (data1–3, each in its named graph)."""
    add_quads(app, ox.parse(path=str(W3C / "protocol" / "protocol-dataset.trig")))


def results(body: bytes, content_type: str):
    """Parse SPARQL results (JSON, XML, CSV, TSV) with pyoxigraph's parser."""
    media = content_type.split(";")[0].strip()
    fmt = ox.QueryResultsFormat.from_media_type(media)
    assert fmt is not None, f"not a SPARQL results format: {content_type}"
    return ox.parse_query_results(body, format=fmt)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def json_results(body: bytes) -> list[dict[str, str]]:
    """SELECT results in JSON as plain rows {variable: value}."""
    document = json.loads(body)
    return [{k: v["value"] for k, v in row.items()} for row in document["results"]["bindings"]]


RDFLIB_FORMATS = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}


def rdf_graph(body: bytes, content_type: str):
    """Parse an RDF response into an rdflib Graph: rdflib for Turtle, N-Triples and RDF/XML;
    JSON-LD through pyoxigraph (rdflib's JSON-LD parser warns that it is deprecated)."""
    from rdflib import Graph

    media = content_type.split(";")[0].strip()
    if media == "application/ld+json":
        triples = ox.parse(body, format=ox.RdfFormat.JSON_LD)
        nt = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        return Graph().parse(data=nt.decode(), format="nt")
    assert media in RDFLIB_FORMATS, content_type
    return Graph().parse(data=body, format=RDFLIB_FORMATS[media])
