"""Two servers on one SPARQL server: If-Match holds between processes (#7).

Each `memoires-ld serve` process has its own write lock, which says nothing to another
process on the same Virtuoso: the update that writes must itself be conditional on the
fiche's latest revision (write_request.run). Two real servers, one real Virtuoso, the same
PUT with the same If-Match at the same instant: one wins, the other gets 412, and the
history gains exactly one revision per round; the same new fiche POSTed by both: one 201,
one 409, one revision.
"""

from __future__ import annotations

import http.client
import json
import threading

import pyoxigraph as ox
import pytest
from rdflib.namespace import DCTERMS
from servers import Server
from virtuoso_server import fresh
from writes_fixtures import TAGS, renamed, retitled, seed_fiche, small_data

from memoires_ld import history, write_request, writes
from memoires_ld.accounts import Accounts
from memoires_ld.namespaces import SCHEMA
from memoires_ld.store_sparql import from_settings

TAG = TAGS[0]
ROUNDS = 12
PASSWORD = "un mot de passe sûr"
STAMPS = {ox.NamedNode(str(DCTERMS.modified)), ox.NamedNode(str(SCHEMA.dateModified))}


@pytest.fixture(scope="module")
def shared(tmp_path_factory, virtuoso):
    """The store settings, the shared base URL and the data folder of both servers."""
    folder = tmp_path_factory.mktemp("remote-race")
    settings = fresh(virtuoso.settings())
    base = "http://127.0.0.1:8000/"  # both servers publish the same fiches
    return settings, base, small_data(folder / "data"), folder


@pytest.fixture(scope="module")
def servers(shared):
    settings, base, data, folder = shared
    environment = {f"MEMOIRES_LD_{k}": v for k, v in settings.items() if k.startswith("STORE")}
    started = []
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        for n in range(2):
            instance = folder / f"instance-{n}"
            accounts = Accounts(instance)
            accounts.add("robot", PASSWORD, "editor")
            server = Server(instance, data)
            server.base = base
            server.token = accounts.create_token("robot")[1]
            started.append(server.start())
            server.wait_ready()  # one after the other: the first loads data/
    yield started
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def store(shared, servers):
    settings, base, _, _ = shared
    return from_settings(settings, base)


def put(server: Server, body: bytes, if_match: str) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    headers = {
        "Authorization": f"Bearer {server.token}",
        "Content-Type": "text/turtle",
        "If-Match": if_match,
    }
    try:
        connection.request("PUT", f"/fiche/{TAG}", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def at_once(send, servers: list[Server], bodies, *args) -> list[tuple[int, dict]]:
    """`send(server, body, *args)` to each server with its body, released at the same instant."""
    answers: list = [None] * len(servers)
    ready = threading.Barrier(len(servers))

    def one(s: int) -> None:
        body = bodies[s].serialize(format="turtle", encoding="utf-8")
        ready.wait()
        answers[s] = send(servers[s], body, *args)

    threads = [threading.Thread(target=one, args=(s,)) for s in range(len(servers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def content(triples) -> set[ox.Triple]:
    """A fiche's triples but its modification dates (the server sets them)."""
    return {t for t in triples if t.predicate not in STAMPS}


def test_the_same_if_match_from_two_servers_at_once_lets_one_write(servers, store):
    base = servers[0].base
    for n in range(ROUNDS):
        before = history.head_number(store, TAG)
        if_match = history.etag(store, TAG)
        bodies = [
            retitled(seed_fiche(TAG, base), TAG, f"Tour {n}, serveur {s}", base) for s in (0, 1)
        ]
        answers = at_once(put, servers, bodies, if_match)
        statuses = sorted(status for status, _ in answers)
        assert statuses == [200, 412], (n, answers)
        winner = next(s for s, (status, _) in enumerate(answers) if status == 200)
        loser_answer = answers[1 - winner][1]
        assert loser_answer["error"] == "modifiee-entre-temps"
        assert answers[winner][1]["number"] == before + 1

        revisions = history.revisions(store, TAG)
        assert [r.number for r in revisions] == list(range(1, before + 2)), n
        stored = {q.triple for q in store.graph_quads(f"{base}fiche/{TAG}")}
        assert content(stored) == content(writes.to_store_terms(bodies[winner]))
        assert history.state_at(store, TAG, before + 1) == stored
        assert history.etag(store, TAG) != if_match


def everything(store) -> list[ox.Quad]:
    """The published quads and the bookkeeping (write count, marks of the writes)."""
    return sorted([*store.quads(), *store.match(None, None, None, history.META_GRAPH)], key=str)


def test_a_write_that_lost_the_race_changes_nothing(servers, store):
    """Planned on revision N, run after another process wrote N+1: nothing of it lands."""
    base = servers[0].base
    graph = retitled(seed_fiche(TAG, base), TAG, "Planifiée trop tôt", base)
    tag, triples = writes._prepare(store, graph, stamp=True)
    revision, late = writes._plan(store, tag, "replace", triples, "robot", None, None, None)
    status, answer = put(
        servers[1],
        retitled(graph, TAG, "Arrivée avant", base).serialize(format="turtle", encoding="utf-8"),
        history.etag(store, TAG),
    )
    assert status == 200 and answer["number"] == revision.number
    before = everything(store)
    version = store.version

    assert write_request.run(store, late) is False
    assert everything(store) == before
    assert store.version == version  # the write count did not move either
    prefix = ox.Literal(history.PENDING)
    pending = f"ASK {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), {prefix})) }}"
    assert not store.query(pending)
    # Without If-Match, the same write planned again lands on top of the other one.
    done = writes.replace_fiche(store, graph, agent="robot")
    assert done.number == revision.number + 1
    titles = {
        q.object.value
        for q in store.graph_quads(f"{base}fiche/{TAG}")
        if q.predicate.value == str(DCTERMS.title) and q.subject.value == f"{base}fiche/{TAG}"
    }
    assert titles == {"Planifiée trop tôt"}


def post(server: Server, body: bytes) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    headers = {"Authorization": f"Bearer {server.token}", "Content-Type": "text/turtle"}
    try:
        connection.request("POST", "/fiches", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_the_same_new_fiche_from_two_servers_at_once_is_created_once(servers, store):
    base = servers[0].base
    for n in range(ROUNDS):
        tag = f"Nouvelle{n:03d}"
        bodies = [
            retitled(renamed(seed_fiche(TAG, base), TAG, tag, base), tag, f"Par {s}", base)
            for s in (0, 1)
        ]
        answers = at_once(post, servers, bodies)
        assert sorted(status for status, _ in answers) == [201, 409], (n, answers)
        winner = next(s for s, (status, _) in enumerate(answers) if status == 201)
        assert [r.number for r in history.revisions(store, tag)] == [1]
        stored = {q.triple for q in store.graph_quads(f"{base}fiche/{tag}")}
        assert content(stored) == content(writes.to_store_terms(bodies[winner]))


def test_a_store_without_write_count_gets_one_at_its_next_write(servers, store):
    """The claim raises the write count: one missing (a store filled by other means) is
    made 0 by the same request, then raised."""
    base = servers[0].base
    meta = f"GRAPH {history.META_GRAPH} {{ {history.META} {history.WRITES} ?n }}"
    store.update(f"DELETE WHERE {{ {meta} }}")
    assert history.write_count(store) == 0 and not store.query(f"ASK {{ {meta} }}")
    graph = retitled(seed_fiche(TAG, base), TAG, "Sans compteur", base)
    revision = writes.replace_fiche(store, graph, agent="robot")
    assert revision.number == history.head_number(store, TAG)
    assert history.write_count(store) == 1
