"""The endpoint's protocol beyond the W3C suite: formats, dataset, errors, UTF-8, caching.

Answers are parsed (pyoxigraph's results parser, rdflib for RDF) and compared with what
the store gives for the same query asked directly, in the test process. On both backends:
the embedded store and a real Virtuoso.
"""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest
from bs4 import BeautifulSoup
from rdflib import Graph
from rdflib.compare import isomorphic
from sparql_server import json_results, make_app, rdf_graph, results
from virtuoso_server import fresh

FICHE = "https://w3id.org/memoires-ld/ns#Fiche"
YEARS = """PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?annee (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a dct:temporal ?annee }
GROUP BY ?annee ORDER BY ?annee"""
TITLES = """PREFIX dct: <http://purl.org/dc/terms/> PREFIX mld: <https://w3id.org/memoires-ld/ns#>
SELECT ?f ?t WHERE { ?f a mld:Fiche ; dct:title ?t } ORDER BY ?f"""
RESULT_TYPES = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
RDF_TYPES = ["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"]


@pytest.fixture(scope="module")
def app(tmp_path_factory, backend):
    """On each backend: the embedded store, then a real Virtuoso answering the queries."""
    app = make_app(tmp_path_factory.mktemp("protocol"), SPARQL_RATE_LIMIT=0, **fresh(backend))
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


def direct(app, query: str):
    """The store's own answer, asked directly, not through the endpoint."""
    return app.extensions["store"].query(query)


def get(client, query: str, accept: str | None = None, **params):
    headers = {"Accept": accept} if accept else {}
    return client.get("/sparql?" + urlencode({"query": query, **params}), headers=headers)


def rows(parsed) -> list[tuple[str, ...]]:
    return [tuple(str(value) for value in solution) for solution in parsed]


# -- formats ---------------------------------------------------------------------------


@pytest.mark.parametrize("accept", list(RESULT_TYPES))
def test_select_in_each_results_format(app, client, accept):
    response = get(client, TITLES, accept)
    assert response.status_code == 200
    assert response.mimetype == accept
    expected = rows(direct(app, TITLES))
    if accept == "text/csv":  # CSV keeps values only (pyoxigraph does not read it back)
        table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        assert table[0] == ["f", "t"]
        assert table[1:] == [[s.value for s in solution] for solution in direct(app, TITLES)]
    else:
        assert rows(results(response.data, response.headers["Content-Type"])) == expected
    assert len(expected) == 38


def test_utf8_everywhere(client):
    """Accents and quotes in the query (GET, POST form, POST direct) and in every answer."""
    query = f"""SELECT ?t {{ ?f a <{FICHE}> ; <http://purl.org/dc/terms/title> ?t
                FILTER(CONTAINS(?t, "Vendôme")) }}"""
    answers = [
        get(client, query, "application/sparql-results+json"),
        client.post(
            "/sparql",
            data={"query": query},
            headers={"Accept": "application/sparql-results+json"},
        ),
        client.post(
            "/sparql",
            data=query.encode("utf-8"),
            headers={
                "Content-Type": "application/sparql-query; charset=utf-8",
                "Accept": "application/sparql-results+json",
            },
        ),
    ]
    for response in answers:
        assert response.status_code == 200
        assert [r["t"] for r in json_results(response.data)] == [
            "Action numérique jeunes Vendôme - Parcours Numériques"
        ]
    for accept in ("text/csv", "text/tab-separated-values", "application/sparql-results+xml"):
        response = get(client, query, accept)
        if accept.startswith("text/"):
            assert response.headers["Content-Type"].endswith("charset=utf-8")
        assert "Vendôme" in response.data.decode("utf-8")


@pytest.mark.parametrize(
    "accept", ["application/sparql-results+json", "application/sparql-results+xml"]
)
def test_ask(client, accept):
    for query, expected in ((f"ASK {{ ?s a <{FICHE}> }}", True), ("ASK { FILTER(false) }", False)):
        response = get(client, query, accept)
        assert response.mimetype == accept
        assert bool(results(response.data, response.headers["Content-Type"])) is expected


CONSTRUCT = """PREFIX dct: <http://purl.org/dc/terms/> PREFIX mld: <https://w3id.org/memoires-ld/ns#>
CONSTRUCT { ?f dct:title ?t ; dct:creator ?c }
WHERE { ?f a mld:Fiche ; dct:title ?t ; dct:creator ?c }"""


@pytest.mark.parametrize("accept", RDF_TYPES)
@pytest.mark.parametrize("form", ["construct", "describe"])
def test_graphs_in_each_rdf_format(app, client, accept, form):
    query = (
        CONSTRUCT
        if form == "construct"
        else f"DESCRIBE <{app.config['BASE_URL']}fiche/AtelierCohesionDEquipe>"
    )
    response = get(client, query, accept)
    assert response.status_code == 200 and response.mimetype == accept
    nt = ox.serialize(direct(app, query), format=ox.RdfFormat.N_TRIPLES).decode()
    expected = Graph().parse(data=nt, format="nt")
    assert len(expected) > 20
    assert isomorphic(rdf_graph(response.data, response.headers["Content-Type"]), expected)


@pytest.mark.parametrize(
    ("params", "mimetype"),
    [
        ({"format": "csv"}, "text/csv"),
        ({"format": "json"}, "application/sparql-results+json"),
        ({"output": "tsv"}, "text/tab-separated-values"),
        ({"format": "text/tab-separated-values"}, "text/tab-separated-values"),
        ({"format": "n'importe"}, "application/sparql-results+json"),  # unknown: Accept decides
    ],
)
def test_format_parameter(client, params, mimetype):
    assert get(client, YEARS, "*/*", **params).mimetype == mimetype


def test_sparqlwrapper_parameters_for_rdf(client):
    """SPARQLWrapper sends format=, output= and results= with names of its own."""
    response = client.get(
        "/sparql?" + urlencode({"query": CONSTRUCT, "format": "json-ld", "output": "json-ld"})
    )
    assert response.mimetype == "application/ld+json"
    response = client.get("/sparql?" + urlencode({"query": CONSTRUCT, "format": "xml"}))
    assert response.mimetype == "application/rdf+xml"


def test_wildcards_and_defaults(client):
    assert get(client, YEARS).mimetype == "application/sparql-results+json"
    assert get(client, YEARS, "*/*").mimetype == "application/sparql-results+json"
    assert get(client, CONSTRUCT, "*/*").mimetype == "text/turtle"
    assert get(client, YEARS, "text/csv;q=0.5, application/sparql-results+xml").mimetype == (
        "application/sparql-results+xml"
    )


def test_an_accept_that_fits_no_format_gets_the_default(client):
    """One Accept for every query form (rdflib's SPARQLStore): the answer comes, in the
    default format of its kind, rather than 406."""
    assert get(client, YEARS, "text/turtle").mimetype == "application/sparql-results+json"
    assert get(client, CONSTRUCT, "application/sparql-results+json").mimetype == "text/turtle"
    assert get(client, YEARS, "text/*").mimetype == "text/csv"


# -- the dataset -------------------------------------------------------------------------


def test_default_graph_is_the_union_and_protocol_datasets_narrow_it(app, client):
    base = app.config["BASE_URL"]
    fiche = f"{base}fiche/AtelierCohesionDEquipe"
    count = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s a <{FICHE}> }}"
    union = json_results(get(client, count, "application/json").data)
    assert union == [{"n": "38"}]
    one = json_results(get(client, count, "application/json", **{"default-graph-uri": fiche}).data)
    assert one == [{"n": "1"}]
    # named-graph-uri alone: an empty default graph, only the graphs named are visible
    graphs = f"SELECT ?g WHERE {{ GRAPH ?g {{ ?s a <{FICHE}> }} }}"
    response = get(client, graphs, "application/json", **{"named-graph-uri": fiche})
    assert json_results(response.data) == [{"g": fiche}]


def test_from_in_the_query_is_its_dataset(app, client):
    vocabulary = "https://w3id.org/memoires-ld/ns"
    query = f"SELECT (COUNT(*) AS ?n) FROM <{vocabulary}> WHERE {{ ?s ?p ?o }}"
    expected = len(app.extensions["store"].graph_quads(vocabulary))
    assert json_results(get(client, query, "application/json").data) == [{"n": str(expected)}]


def test_relative_iris_resolve_against_the_endpoint(app, client):
    response = get(client, "SELECT ?x WHERE { BIND(<exemples> AS ?x) }", "application/json")
    assert json_results(response.data) == [{"x": app.config["BASE_URL"] + "exemples"}]


# -- errors ----------------------------------------------------------------------------


def test_syntax_error_for_people_and_programs(client):
    html = get(client, "SELECT ?x WHERE {", BROWSER)
    # a browser asking for a query's result gets the editor, with the query in it
    assert html.status_code == 200 and html.mimetype == "text/html"
    post = client.post("/sparql", data={"query": "SELECT ?x WHERE {"}, headers={"Accept": BROWSER})
    assert post.status_code == 400 and post.mimetype == "text/html"
    page = BeautifulSoup(post.data, "html.parser")
    assert "Requête SPARQL invalide" in page.find("p", class_="error").get_text()
    machine = get(client, "SELECT ?x WHERE {", "application/json")
    assert machine.status_code == 400
    assert json.loads(machine.data)["error"] == "syntaxe-sparql"
    plain = get(client, "SELECT ?x WHERE {", "application/sparql-results+xml")
    assert plain.status_code == 400 and plain.mimetype == "text/plain"
    assert plain.get_data(as_text=True).splitlines()[0] == "400 syntaxe-sparql"


@pytest.mark.parametrize(
    ("request_kwargs", "status", "words"),
    [
        ({"method": "GET", "query_string": "query=ASK{}&query=ASK{}"}, 400, "Un seul paramètre"),
        ({"method": "GET", "query_string": "query="}, 400, "vide"),
        (
            {"method": "POST", "data": {"query": "ASK {}", "update": "CLEAR ALL"}},
            400,
            "pas les deux",
        ),
        ({"method": "GET", "query_string": "update=CLEAR%20ALL"}, 400, "POST"),
        ({"method": "PUT", "data": "ASK {}"}, 405, "PUT"),
        ({"method": "DELETE"}, 405, "DELETE"),
        ({"method": "POST", "data": "ASK {}", "content_type": "text/plain"}, 415, "text/plain"),
        ({"method": "POST", "data": b"ASK {}"}, 415, "Content-Type"),
        (
            {
                "method": "POST",
                "data": "ASK {}".encode("utf-16"),
                "content_type": "application/sparql-query",
            },
            400,
            "UTF-8",
        ),
        (
            {"method": "GET", "query_string": "query=ASK{}&default-graph-uri=pas une IRI"},
            400,
            "IRI",
        ),
    ],
)
def test_protocol_errors(client, request_kwargs, status, words):
    response = client.open("/sparql", headers={"Accept": "application/json"}, **request_kwargs)
    assert response.status_code == status
    body = json.loads(response.data)
    assert body["status"] == status and words in body["message"]
    if status == 405:
        assert response.headers["Allow"] == "GET, HEAD, POST, OPTIONS"


def test_a_browser_gets_data_when_it_names_a_format(client):
    response = get(client, YEARS, BROWSER, format="csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"


def test_syntax_errors_are_short(client, backend):
    response = get(client, "SELECT ?x WHERE {", "application/json")
    message = json.loads(response.data)["message"]
    assert response.status_code == 400 and len(message) < 400
    # the engine's own words follow ours (Oxigraph's: where; Virtuoso's: its error code)
    said = "error at 1:" if not backend else "syntax error"
    assert message.startswith("Requête SPARQL invalide : ") and said in message


def test_cors_preflight_for_a_direct_post(client):
    response = client.options(
        "/sparql",
        headers={
            "Origin": "https://elsewhere.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


def test_errors_carry_cors_and_no_cache(client):
    response = get(client, "ASK {", "application/json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "no-cache"


# -- caching -----------------------------------------------------------------------------


EXTRA = (
    '<urn:x:a> <http://purl.org/dc/terms/temporal> "1999"^^<http://www.w3.org/2001/XMLSchema#gYear>'
)


def test_etag_304_and_cache(app, client, monkeypatch):
    engine = app.extensions["sparql"]
    runs = []
    original = engine.run  # a worker's job (embedded) or the server's (Virtuoso)
    monkeypatch.setattr(
        engine, "run", lambda job, timeout: runs.append(job) or original(job, timeout)
    )
    query = YEARS + " # etag test"
    first = get(client, query, "text/csv")
    assert first.status_code == 200 and len(runs) == 1
    tag = first.headers["ETag"]
    assert (
        first.headers["Cache-Control"] == "public, no-cache" and "Accept" in first.headers["Vary"]
    )
    # the same query again: from memory, not evaluated
    again = get(client, query, "text/csv")
    assert again.data == first.data and again.headers["ETag"] == tag and len(runs) == 1
    # a revalidation: 304, nothing evaluated
    revalidated = client.get(
        "/sparql?" + urlencode({"query": query}),
        headers={"Accept": "text/csv", "If-None-Match": tag},
    )
    assert revalidated.status_code == 304 and revalidated.data == b"" and len(runs) == 1
    # another format is another answer
    assert get(client, query, "application/sparql-results+json").headers["ETag"] != tag
    assert len(runs) == 2
    # POST answers come from the same cache
    posted = client.post("/sparql", data={"query": query}, headers={"Accept": "text/csv"})
    assert posted.data == first.data and len(runs) == 2
    # a write changes the store version: new tag, evaluated again, the new data seen
    engine.apply(f"INSERT DATA {{ GRAPH <urn:x:etag> {{ {EXTRA} }} }}")
    changed = get(client, query, "text/csv")
    assert changed.headers["ETag"] != tag and len(runs) == 3
    assert "1999,1" in changed.get_data(as_text=True).splitlines()
    engine.apply(f"DELETE DATA {{ GRAPH <urn:x:etag> {{ {EXTRA} }} }}")


def test_head_answers_like_get(client):
    query = "ASK {}"
    got = get(client, query, "application/json")
    head = client.head(
        "/sparql?" + urlencode({"query": query}), headers={"Accept": "application/json"}
    )
    assert head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == got.headers["ETag"]
