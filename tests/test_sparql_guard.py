"""No request makes the server fetch a URL of the client's choosing (SERVICE, LOAD, FROM).

pyoxigraph 0.5 runs `SERVICE <url>` and `LOAD <url>` itself, over HTTP. The endpoint scans
every operation first (memoires_ld/sparql_text.py): SERVICE only towards an endpoint of
SPARQL_SERVICE_ALLOWLIST, LOAD never. Each refusal is checked with a listening socket that
records any connection: none may arrive. An allowed SERVICE is answered by a small SPARQL
endpoint run here, and joined with our data.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from urllib.parse import urlencode

import pytest
from flask import Flask, Response
from rdflib import Namespace
from sparql_server import LiveServer, json_results, make_app, rdf_graph
from werkzeug.serving import make_server

from memoires_ld import sparql_text
from memoires_ld.accounts import Accounts
from memoires_ld.sparql_text import Refused

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")


class Listener:
    """A TCP port that records every connection made to it (and answers nothing)."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.socket.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}/sparql"
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while self.running:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self):
        self.running = False
        self.thread.join(2)
        self.socket.close()


@pytest.fixture(scope="module")
def listener():
    found = Listener()
    yield found
    found.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("guard"), SPARQL_RATE_LIMIT=0)


def tricks(url: str) -> list[str]:
    """Ways of writing a SERVICE (or a LOAD) to `url`."""
    return [
        f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"select * where {{ service <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SeRvIcE SILENT <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{SERVICE<{url}>{{?s ?p ?o}}}}",
        f"PREFIX e: <{url[:-6]}> SELECT * WHERE {{ SERVICE e:sparql {{ ?s ?p ?o }} }}",
        f"BASE <{url[:-6]}> SELECT * WHERE {{ SERVICE <sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND(<{url}> AS ?u) SERVICE ?u {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?x ?y ?z OPTIONAL {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
        f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
        f"ASK {{ FILTER EXISTS {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
        f"SELECT * WHERE {{ # a comment }}\n SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f'SELECT * WHERE {{ BIND("}}" AS ?x) SERVICE <{url}> {{ ?s ?p ?o }} }}',
        f"SELECT * WHERE {{ FILTER(1<2)SERVICE<{url}>{{?s ?p ?o}} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"DESCRIBE ?s WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ \\u0053ERVICE <{url}> {{ ?s ?p ?o }} }}",  # a syntax error
    ]


def test_the_scan_finds_every_service(listener):
    for query in tricks(listener.url)[:-1]:
        with pytest.raises(Refused) as refused:
            sparql_text.check(query, "http://127.0.0.1:8000/sparql")
        assert refused.value.code == "service-interdit", query


def test_the_scan_ignores_what_is_not_a_service():
    harmless = [
        'SELECT * WHERE { ?s ?p "SERVICE <http://x/> { }" }',
        "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://x/> { }",
        "PREFIX service: <http://purl.org/ontology/service#> SELECT * { ?s a service:Service }",
        "SELECT * WHERE { ?s <http://example.org/SERVICE> ?o }",
        "SELECT ?service WHERE { ?service ?p ?o }",
        "SELECT * WHERE { ?s ?p '''SERVICE <http://x/> {'''@fr }",
    ]
    for query in harmless:
        assert sparql_text.check(query, "http://127.0.0.1:8000/sparql") == [], query


def test_the_scan_resolves_and_allows_the_allowlist():
    allowed = frozenset({"http://allowed.example/sparql"})
    query = "PREFIX a: <http://allowed.example/> SELECT * WHERE { SERVICE a:sparql { ?s ?p ?o } }"
    assert sparql_text.check(query, "http://x/", allowed) == ["http://allowed.example/sparql"]
    with pytest.raises(Refused, match=re.escape("http://allowed.example/sparql2")):
        sparql_text.check(query.replace("a:sparql", "a:sparql2"), "http://x/", allowed)


def test_load_is_never_allowed():
    for update in ("LOAD <http://x/data>", "load silent <http://x/d> INTO GRAPH <http://g>"):
        with pytest.raises(Refused) as refused:
            sparql_text.check(update, "http://x/", frozenset({"http://x/data"}))
        assert refused.value.code == "load-interdit"


@pytest.mark.parametrize("index", range(16))
def test_no_service_reaches_the_network(app, listener, index):
    query = tricks(listener.url)[index]
    before = listener.connections
    response = app.test_client().post(
        "/sparql", data={"query": query}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    body = json.loads(response.data)
    if index == len(tricks(listener.url)) - 1:
        assert body["error"] == "syntaxe-sparql"
    else:
        assert body["error"] == "service-interdit" and "SERVICE" in body["message"]
    time.sleep(0.05)
    assert listener.connections == before


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}",
        "SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        "SELECT * WHERE {{ GRAPH <{url}> {{ ?s ?p ?o }} }}",
        "DESCRIBE <{url}>",
        "ASK {{ <{url}> ?p ?o }}",
    ],
)
def test_from_graph_and_describe_fetch_nothing(app, listener, query):
    before = listener.connections
    response = app.test_client().get(
        "/sparql?" + urlencode({"query": query.format(url=listener.url)}),
        headers={"Accept": "application/sparql-results+json, text/turtle"},
    )
    assert response.status_code == 200
    time.sleep(0.05)
    assert listener.connections == before


def test_updates_are_scanned_too(tmp_path, listener):
    """By an editor, into a fiche's graph: still no LOAD, no SERVICE outside the allowlist."""
    app = make_app(tmp_path, SPARQL_UPDATE=True)
    accounts = Accounts(tmp_path / "instance")
    accounts.add("robot", "un mot de passe sûr", "editor")
    token = accounts.create_token("robot")[1]
    client = app.test_client()
    before = listener.connections
    fiche = app.config["IRIS"].fiche("AtelierCohesionDEquipe")
    updates = [
        f"LOAD <{listener.url}> INTO GRAPH <{fiche}>",
        f"INSERT {{ GRAPH <{fiche}> {{ ?s ?p ?o }} }} "
        f"WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}",
    ]
    for update in updates:
        response = client.post(
            "/sparql",
            data={"update": update},
            headers={"Accept": "application/json", "Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 400
        assert json.loads(response.data)["error"] in ("load-interdit", "service-interdit")
    time.sleep(0.05)
    assert listener.connections == before


# -- an allowed SERVICE -----------------------------------------------------------------


def remote_endpoint() -> Flask:
    """A SPARQL endpoint of someone else's: whatever the query, two rows."""
    remote = Flask("remote")
    remote.calls = []

    @remote.route("/sparql", methods=["GET", "POST"])
    def sparql():
        from flask import request

        remote.calls.append(request.get_data(as_text=True) or request.args.get("query"))
        rows = [
            {
                "nature": {
                    "type": "uri",
                    "value": f"https://w3id.org/memoires-ld/vocab/nature/{n}",
                },
                "note": {"type": "literal", "value": note},
            }
            for n, note in (("formation", "vu ailleurs"), ("conference", "aussi"))
        ]
        document = {"head": {"vars": ["nature", "note"]}, "results": {"bindings": rows}}
        return Response(json.dumps(document), mimetype="application/sparql-results+json")

    return remote


def test_an_allowed_service_is_queried_and_joined(tmp_path):
    remote = remote_endpoint()
    server = make_server("127.0.0.1", 0, remote, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}/sparql"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        app = make_app(tmp_path, SPARQL_SERVICE_ALLOWLIST=url)
        with LiveServer(app) as ours:
            query = f"""PREFIX dct: <http://purl.org/dc/terms/>
            SELECT ?nature ?note (COUNT(DISTINCT ?a) AS ?actions) WHERE {{
              SERVICE <{url}> {{ ?x ?y ?z }}
              ?a dct:type ?nature .
            }} GROUP BY ?nature ?note ORDER BY ?nature"""
            status, headers, body = ours.request(
                "POST",
                "/sparql",
                query.encode(),
                {"Content-Type": "application/sparql-query", "Accept": "application/json"},
            )
            assert status == 200, body
            found = {(r["nature"].rsplit("/", 1)[1], r["note"]) for r in json_results(body)}
            assert found == {("conference", "aussi"), ("formation", "vu ailleurs")}
            assert len(remote.calls) == 1
            # the description says the endpoint federates
            status, headers, description = ours.request(
                "GET", "/sparql", headers={"Accept": "text/turtle"}
            )
            features = set(
                rdf_graph(description, headers["content-type"]).objects(None, SD.feature)
            )
            assert SD.BasicFederatedQuery in features
            # another endpoint, even on the same host, stays refused
            status, _, body = ours.request(
                "GET",
                "/sparql?" + urlencode({"query": query.replace(url, url + "2")}),
                headers={"Accept": "application/json"},
            )
            assert status == 400 and json.loads(body)["endpoint"] == url + "2"
            assert len(remote.calls) == 1
    finally:
        server.shutdown()
        server.server_close()
