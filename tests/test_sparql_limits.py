"""Limits of the endpoint: deadline, answer size, memory, busy workers, rate, starvation.

A costly query must cost its author, not the site: past SPARQL_TIMEOUT it is stopped (503,
its worker process killed), an answer past SPARQL_MAX_RESULT_BYTES is refused (413, never
truncated), a query that wants more memory than SPARQL_WORKER_MEMORY_MB fails alone (503),
a client past SPARQL_RATE_LIMIT waits (429, Retry-After), and while two clients run a cross
join of everything, the site's pages keep answering quickly.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest
from sparql_server import json_results, make_app, serve

from memoires_ld import sparql_engine, sparql_pool, sparql_text
from memoires_ld.sparql_limits import RateLimiter, ResultCache

CROSS_JOIN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
FICHE_PAGE = "/fiche/AtelierCohesionDEquipe"


def ask(client, query: str, address: str = "127.0.0.1", accept="application/json"):
    return client.get(
        "/sparql?" + urlencode({"query": query}),
        headers={"Accept": accept},
        environ_base={"REMOTE_ADDR": address},
    )


def worker_pids(app) -> set[int]:
    return {w.process.pid for w in app.extensions["sparql"].pool._all}


def test_a_query_past_its_deadline_is_stopped(tmp_path):
    app = make_app(tmp_path, SPARQL_TIMEOUT=1.0, SPARQL_WORKERS=1)
    client = app.test_client()
    assert ask(client, "ASK {}").status_code == 200
    before = worker_pids(app)
    started = time.monotonic()
    response = ask(client, CROSS_JOIN)
    elapsed = time.monotonic() - started
    assert response.status_code == 503 and 0.9 < elapsed < 3
    body = json.loads(response.data)
    assert body["error"] == "delai-depasse" and "1 secondes" in body["message"]
    # its worker was killed (not left computing), a new one answers the next query
    after = worker_pids(app)
    assert before.isdisjoint(after) and len(after) == 1
    assert ask(client, "ASK {}").status_code == 200


def test_a_too_large_answer_is_refused_not_truncated(tmp_path):
    app = make_app(tmp_path, SPARQL_MAX_RESULT_BYTES=2000)
    client = app.test_client()
    small = ask(client, "SELECT ?s WHERE { ?s a <https://w3id.org/memoires-ld/ns#Fiche> } LIMIT 2")
    assert small.status_code == 200
    large = ask(client, "SELECT * WHERE { ?s ?p ?o }", accept="text/csv")
    assert large.status_code == 413 and large.mimetype == "text/plain"
    assert "LIMIT" in large.get_data(as_text=True)
    graph = ask(client, "CONSTRUCT WHERE { ?s ?p ?o }", accept="text/turtle")
    assert graph.status_code == 413


def test_a_query_wanting_too_much_memory_fails_alone(tmp_path):
    # a worker peaks at ~0.6 GB of address space for ASK {} (RocksDB, threads): 1 GB leaves
    # room for it, and none for the sort of a cross join
    app = make_app(tmp_path, SPARQL_WORKER_MEMORY_MB=1000, SPARQL_TIMEOUT=60.0)
    client = app.test_client()
    sort = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f LIMIT 1"
    response = ask(client, sort)
    assert response.status_code == 503
    assert json.loads(response.data)["error"] == "requete-trop-couteuse"
    assert ask(client, "ASK {}").status_code == 200


def test_busy_workers_answer_503_with_retry_after(tmp_path, monkeypatch):
    monkeypatch.setattr(sparql_pool, "QUEUE_WAIT", 0.3)
    app = make_app(tmp_path, SPARQL_WORKERS=1, SPARQL_TIMEOUT=3.0)
    outcome = {}

    def heavy():
        outcome["heavy"] = ask(app.test_client(), CROSS_JOIN).status_code

    thread = threading.Thread(target=heavy)
    thread.start()
    time.sleep(0.5)
    waiting = ask(app.test_client(), "ASK { ?s ?p ?o }")
    thread.join()
    assert outcome["heavy"] == 503
    assert waiting.status_code == 503 and waiting.headers["Retry-After"] == "2"
    assert json.loads(waiting.data)["error"] == "serveur-occupe"


def test_rate_limit_per_client_address(tmp_path):
    app = make_app(tmp_path, SPARQL_RATE_LIMIT=3)
    client = app.test_client()
    for n in range(3):
        assert ask(client, f"ASK {{ FILTER({n} = {n}) }}", "10.0.0.1").status_code == 200
    refused = ask(client, "ASK { FILTER(9 = 9) }", "10.0.0.1")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert json.loads(refused.data)["error"] == "trop-de-requetes"
    # an answer already computed costs nothing: it is served
    assert ask(client, "ASK { FILTER(0 = 0) }", "10.0.0.1").status_code == 200
    # another address has its own allowance
    assert ask(client, "ASK { FILTER(9 = 9) }", "10.0.0.2").status_code == 200


def test_rate_limiter_refills_and_forgets():
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])  # one per second, bursts of 60
    assert all(limiter.take("a") == 0 for _ in range(60))
    assert limiter.take("a") == 1
    now[0] += 1.0
    assert limiter.take("a") == 0
    for n in range(1100):  # many clients: those whose bucket is full again are dropped
        limiter.take(f"client-{n}")
    now[0] += 120.0
    limiter.take("b")
    limiter.take("c")
    assert len(limiter) < 10
    assert RateLimiter(0).take("anyone") == 0


def test_result_cache_is_bounded():
    cache = ResultCache(1000)
    for n in range(20):
        cache.put(f"k{n}", b"x" * 100, "solutions json")
    assert len(cache) == 10
    assert cache.get("k0") is None and cache.get("k19") == (b"x" * 100, "solutions json")
    cache.get("k10")  # recently used: kept
    cache.put("new", b"y" * 100, "solutions json")
    assert cache.get("k10") is not None and cache.get("k11") is None
    cache.put("big", b"z" * 200, "graph turtle")  # over an eighth of the budget
    assert cache.get("big") is None


def test_pages_keep_answering_while_two_clients_run_a_cross_join(tmp_path):
    """Two cross joins of everything at once (each until its deadline): a fiche page, asked
    again and again meanwhile over HTTP, answers in under 100 ms (90 % of the time, on a
    machine shared with other jobs; the median well under)."""
    with serve(tmp_path, SPARQL_TIMEOUT=4.0) as server:
        for _ in range(3):
            assert server.request("GET", FICHE_PAGE, headers={"Accept": "text/html"})[0] == 200
        statuses = []

        def heavy():
            status, _, _ = server.request(
                "POST",
                "/sparql",
                CROSS_JOIN.encode(),
                {"Content-Type": "application/sparql-query", "Accept": "application/json"},
            )
            statuses.append(status)

        threads = [threading.Thread(target=heavy) for _ in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        latencies = []
        while any(thread.is_alive() for thread in threads):
            started = time.perf_counter()
            status, _, _ = server.request("GET", FICHE_PAGE, headers={"Accept": "text/html"})
            latencies.append(time.perf_counter() - started)
            assert status == 200
            time.sleep(0.05)
        for thread in threads:
            thread.join()
    assert statuses == [503, 503]
    assert len(latencies) >= 20
    latencies.sort()
    assert statistics.median(latencies) < 0.05, latencies
    assert latencies[int(len(latencies) * 0.9)] < 0.1, latencies


def test_counts_do_not_need_a_worker_twice(tmp_path):
    """The service description's counts are computed once per store version."""
    app = make_app(tmp_path)
    client = app.test_client()
    engine = app.extensions["sparql"]
    first = client.get("/sparql", headers={"Accept": "text/turtle"})
    stats = engine.service_statistics
    second = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert first.data == second.data and engine.service_statistics is stats
    engine.apply("INSERT DATA { <urn:x:s> <urn:x:p> <urn:x:o> }")
    client.get("/sparql", headers={"Accept": "text/turtle"})
    assert engine.service_statistics is not stats
    # the triple, and the store's write counter (its bookkeeping graph is queryable too)
    assert engine.service_statistics.triples == stats.triples + 2
    rows = json_results(ask(client, "SELECT ?o WHERE { <urn:x:s> <urn:x:p> ?o }").data)
    assert rows == [{"o": "urn:x:o"}]


@pytest.mark.parametrize("setting", ["SPARQL_SERVICE_ALLOWLIST"])
def test_allowlist_setting_reads_spaces_and_commas(tmp_path, setting):
    app = make_app(tmp_path, **{setting: "http://a.example/sparql, http://b.example/sparql"})
    assert app.extensions["sparql"].limits.allowlist == {
        "http://a.example/sparql",
        "http://b.example/sparql",
    }


# -- where a query runs: a DESCRIBE of named resources in the web process ----------------

FICHE_IRI = "http://127.0.0.1:8000/fiche/AtelierCohesionDEquipe"


@pytest.mark.parametrize(
    "query, point",
    [
        (f"DESCRIBE <{FICHE_IRI}>", True),
        (
            f"PREFIX f: <http://127.0.0.1:8000/fiche/>\nBASE <http://x/>\n"
            f"DESCRIBE f:A <{FICHE_IRI}>",
            True,
        ),
        (f"# a comment\ndescribe <{FICHE_IRI}> # another\n", True),
        (f"DESCRIBE <{FICHE_IRI}> WHERE {{ }}", False),
        ("DESCRIBE ?s WHERE { ?s ?p ?o }", False),
        ("DESCRIBE *", False),
        (f"DESCRIBE <{FICHE_IRI}> FROM <urn:g>", False),
        ("DESCRIBE", False),
        (f"SELECT * WHERE {{ <{FICHE_IRI}> ?p ?o }}", False),
        ("PREFIX f: <http://x/>", False),
    ],
)
def test_point_describe_is_recognised_lexically(query, point):
    assert sparql_text.point_describe(query) is point


def test_a_describe_of_a_resource_is_answered_without_a_worker(tmp_path):
    app = make_app(tmp_path)
    client = app.test_client()
    here = ask(client, f"DESCRIBE <{FICHE_IRI}>", accept="text/turtle")
    assert here.status_code == 200 and worker_pids(app) == set()
    # the same description, asked through a WHERE clause, is a worker's job: same graph
    where = f"DESCRIBE ?x WHERE {{ VALUES ?x {{ <{FICHE_IRI}> }} }}"
    there = ask(client, where, accept="text/turtle")
    assert there.status_code == 200 and len(worker_pids(app)) == 1
    graphs = [
        {q.triple for q in ox.parse(r.data, format=ox.RdfFormat.TURTLE)} for r in (here, there)
    ]
    assert graphs[0] == graphs[1] and len(graphs[0]) > 20
    assert (
        ox.Triple(
            ox.NamedNode(FICHE_IRI),
            ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
            ox.NamedNode("https://w3id.org/memoires-ld/ns#Fiche"),
        )
        in graphs[0]
    )


def test_a_long_description_goes_to_a_worker_under_the_caps(tmp_path, monkeypatch):
    monkeypatch.setattr(sparql_engine, "IN_PROCESS_TRIPLES", 5)
    app = make_app(tmp_path)
    client = app.test_client()
    long = ask(client, f"DESCRIBE <{FICHE_IRI}>", accept="application/n-triples")
    assert long.status_code == 200 and long.data.count(b"\n") > 5 and len(worker_pids(app)) == 1
    capped = make_app(tmp_path / "capped", SPARQL_MAX_RESULT_BYTES=200)
    refused = ask(capped.test_client(), f"DESCRIBE <{FICHE_IRI}>", accept="text/turtle")
    assert refused.status_code == 413
