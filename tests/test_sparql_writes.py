"""SPARQL Update and Graph Store writes (#5): the door for trusted clients, over real HTTP.

With SPARQL_UPDATE on, an editor's API token writes the graphs of fiches, and only them,
through writes.py: the same validation (422 with the sh:ValidationReport, nothing stored),
If-Match (428/412 on the graph store), one revision per fiche recording the agent, 410 once
retired. Off (the default): 403. Anonymous: 401 with WWW-Authenticate. A reader: 403.
With updates on, every test runs on both backends: the embedded store and a real Virtuoso.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SH
from sparql_server import serve
from virtuoso_server import fresh
from writes_fixtures import TAGS, renamed, seed_fiche, small_data

from memoires_ld import history, writes
from memoires_ld.accounts import Accounts
from memoires_ld.errors import InvalidFiche, PreconditionFailed

PASSWORD = "un mot de passe sûr"
DCT = "PREFIX dct: <http://purl.org/dc/terms/>\n"
TOKENS: dict[str, str] = {}


def _serve(tmp, **settings):
    small_data(tmp / "data")
    server = serve(tmp, **settings)
    accounts = Accounts(tmp / "instance")
    accounts.add("robot", PASSWORD, "editor")
    accounts.add("lecteur", PASSWORD, "reader")
    TOKENS["editor"] = accounts.create_token("robot")[1]
    TOKENS["reader"] = accounts.create_token("lecteur")[1]
    return server


@pytest.fixture(scope="module")
def on(tmp_path_factory, backend):
    """Updates on, on each backend (the embedded store, a real Virtuoso)."""
    tmp = tmp_path_factory.mktemp("writes-on")
    with _serve(tmp, SPARQL_UPDATE=True, **fresh(backend)) as server:
        yield server


@pytest.fixture(scope="module")
def off(tmp_path_factory):
    with _serve(tmp_path_factory.mktemp("writes-off")) as server:
        yield server


def token(role="editor", **headers) -> dict:
    return {"Authorization": f"Bearer {TOKENS[role]}", **headers}


def update(server, text: str, headers: dict | None = None):
    headers = {"Content-Type": "application/sparql-update", "Accept": "application/json"} | (
        headers or {}
    )
    return server.request("POST", "/sparql", text.encode(), headers)


def fiche(server, tag: str) -> str:
    return f"{server.base}fiche/{tag}"


def title(server, tag: str) -> str | None:
    store = server.app.extensions["store"]
    graph = writes.current_graph(store, tag)
    if graph is None:
        return None
    return str(graph.value(URIRef(fiche(server, tag)), DCTERMS.title))


def retitle(server, tag: str, new: str) -> str:
    iri = fiche(server, tag)
    return DCT + (
        f"DELETE {{ GRAPH <{iri}> {{ <{iri}> dct:title ?t }} }}\n"
        f'INSERT {{ GRAPH <{iri}> {{ <{iri}> dct:title "{new}"@fr }} }}\n'
        f"WHERE {{ GRAPH <{iri}> {{ <{iri}> dct:title ?t }} }}"
    )


def gsp(tag_or_iri: str, server) -> str:
    iri = tag_or_iri if ":" in tag_or_iri else fiche(server, tag_or_iri)
    return "/sparql/graph?graph=" + quote(iri, safe="")


def turtle(graph: Graph) -> bytes:
    return graph.serialize(format="turtle", encoding="utf-8")


def new_fiche(server, tag: str) -> Graph:
    return renamed(seed_fiche(TAGS[0], server.base), TAGS[0], tag, server.base)


# -- who may write ----------------------------------------------------------------------


def test_off_by_default_even_with_a_token(off):
    before = title(off, TAGS[0])
    status, headers, body = update(off, retitle(off, TAGS[0], "Non"), token())
    assert status == 403 and headers["content-type"] == "application/json"
    assert json.loads(body)["error"] == "mise-a-jour-desactivee"
    status, _, body = off.request(
        "PUT",
        gsp(TAGS[0], off),
        turtle(new_fiche(off, TAGS[0])),
        token(**{"Content-Type": "text/turtle"}),
    )
    assert status == 403 and "désactivées" in body.decode()
    assert title(off, TAGS[0]) == before


def test_anonymous_gets_401(on):
    before = title(on, TAGS[0])
    status, headers, body = update(on, retitle(on, TAGS[0], "Anonyme"))
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
    assert "jeton" in json.loads(body)["message"]
    status, headers, _ = on.request("DELETE", gsp(TAGS[0], on))
    assert status == 401 and "www-authenticate" in headers
    assert title(on, TAGS[0]) == before


def test_a_reader_token_gets_403_and_a_bad_token_401(on):
    status, _, body = update(on, retitle(on, TAGS[0], "Lecteur"), token("reader"))
    assert status == 403 and "lecteur" in json.loads(body)["message"]
    status, headers, _ = update(on, retitle(on, TAGS[0], "X"), {"Authorization": "Bearer mld_x_y"})
    assert status == 401 and "invalid_token" in headers["www-authenticate"]


# -- SPARQL Update ----------------------------------------------------------------------


def test_an_update_goes_through_the_write_path(on):
    tag = TAGS[1]
    store = on.app.extensions["store"]
    number = history.head_number(store, tag)
    status, _, body = update(on, retitle(on, tag, "Titre changé par SPARQL"), token())
    assert status == 200, body
    revisions = json.loads(body)["revisions"]
    assert [(r["fiche"], r["kind"], r["agent"]) for r in revisions] == [(tag, "replace", "robot")]
    assert title(on, tag) == "Titre changé par SPARQL"
    revision = history.revision(store, tag, number + 1)
    assert (revision.agent, revision.kind, revision.iri) == (
        "robot",
        "replace",
        revisions[0]["revision"],
    )
    assert revision.added >= 1 and revision.removed >= 1
    # dct:modified stamped as by any write; the endpoint sees the new title
    ask = f'ASK {{ <{fiche(on, tag)}> <{DCTERMS.title}> "Titre changé par SPARQL"@fr }}'
    status, _, body = on.request(
        "GET", "/sparql?query=" + quote(ask), headers={"Accept": "application/json"}
    )
    assert json.loads(body)["boolean"] is True
    # nothing changed: no revision
    status, _, body = update(on, retitle(on, tag, "Titre changé par SPARQL"), token())
    assert status == 200 and json.loads(body)["revisions"] == []
    assert history.head_number(store, tag) == number + 1


def test_an_invalid_fiche_in_an_update_stores_nothing(on):
    """Two fiches in one update, the second without a title: 422 with the report, and the
    first is not changed either (one update, one transaction)."""
    first, second = fiche(on, TAGS[0]), fiche(on, TAGS[2])
    before = (title(on, TAGS[0]), title(on, TAGS[2]))
    store = on.app.extensions["store"]
    version = store.version
    both = f"GRAPH <{first}> {{ <{first}> dct:title ?a }} "
    both += f"GRAPH <{second}> {{ <{second}> dct:title ?b }}"
    text = DCT + (
        f"DELETE {{ {both} }}\n"
        f'INSERT {{ GRAPH <{first}> {{ <{first}> dct:title "Valide"@fr }} }}\n'
        f"WHERE {{ {both} }}"
    )
    status, headers, body = update(on, text, token(Accept="text/turtle"))
    assert status == 422 and headers["content-type"].startswith("text/turtle")
    report = Graph().parse(data=body, format="turtle")
    assert (None, RDF.type, SH.ValidationReport) in report
    assert (None, SH.focusNode, URIRef(second)) in report
    assert (title(on, TAGS[0]), title(on, TAGS[2])) == before
    assert store.version == version
    status, headers, body = update(on, text, token())
    assert status == 422 and json.loads(body)["summary"]["violations"]


def test_an_update_creates_and_retires_fiches(on):
    tag = "CreeeParSparql"
    lines = new_fiche(on, tag).serialize(format="nt")
    status, _, body = update(
        on, f"INSERT DATA {{ GRAPH <{fiche(on, tag)}> {{ {lines} }} }}", token()
    )
    assert status == 200, body
    assert [r["kind"] for r in json.loads(body)["revisions"]] == ["create"]
    status, _, _ = on.request("GET", f"/fiche/{tag}", headers={"Accept": "text/turtle"})
    assert status == 200
    status, _, body = update(on, f"DROP GRAPH <{fiche(on, tag)}>", token())
    assert status == 200 and [r["kind"] for r in json.loads(body)["revisions"]] == ["retire"]
    status, _, _ = on.request("GET", f"/fiche/{tag}", headers={"Accept": "text/turtle"})
    assert status == 410


@pytest.mark.parametrize(
    ("text", "status", "graph"),
    [
        (
            "INSERT DATA { GRAPH <https://w3id.org/memoires-ld/ns> { <a:s> <a:p> <a:o> } }",
            403,
            "https://w3id.org/memoires-ld/ns",
        ),
        ("INSERT DATA { <a:s> <a:p> <a:o> }", 403, "DEFAULT"),
        ("CLEAR ALL", 403, "ALL"),
        ("DROP GRAPH <urn:x-memoires-ld:store>", 403, "urn:x-memoires-ld:store"),
        (
            "INSERT DATA { GRAPH <{base}fiche/{tag}/history> { <a:s> <a:p> <a:o> } }",
            403,
            "{base}fiche/{tag}/history",
        ),
        (
            "INSERT DATA { GRAPH <{base}sources/ailleurs> { <a:s> <a:p> <a:o> } }",
            403,
            "{base}sources/ailleurs",
        ),
        ("DELETE WHERE { GRAPH ?g { ?s ?p ?o } }", 400, None),
    ],
)
def test_updates_outside_the_fiches_are_refused(on, text, status, graph):
    store = on.app.extensions["store"]
    version = store.version
    got, _, body = update(on, text.replace("{base}", on.base).replace("{tag}", TAGS[0]), token())
    assert got == status, body
    answer = json.loads(body)
    if graph is not None:
        assert answer["error"] == "graphe-interdit"
        assert answer["graph"] == graph.replace("{base}", on.base).replace("{tag}", TAGS[0])
    else:
        assert "?g" in answer["message"]
    assert store.version == version


# -- Graph Store Protocol ---------------------------------------------------------------


def test_graph_store_replace_with_if_match(on):
    tag = TAGS[0]
    status, headers, body = on.request("GET", gsp(tag, on), headers={"Accept": "text/turtle"})
    assert status == 200
    read_etag = headers["etag"]
    graph = Graph().parse(data=body, format="turtle")
    graph.set((URIRef(fiche(on, tag)), DCTERMS.title, Literal("Par le Graph Store", lang="fr")))
    content = token(**{"Content-Type": "text/turtle"})
    status, headers, body = on.request("PUT", gsp(tag, on), turtle(graph), content)
    assert status == 428 and headers["etag"] == history.etag(on.app.extensions["store"], tag)
    status, _, _ = on.request(
        "PUT", gsp(tag, on), turtle(graph), content | {"If-Match": '"0123456789abcdef"'}
    )
    assert status == 412
    assert title(on, tag) != "Par le Graph Store"
    status, headers, body = on.request(
        "PUT", gsp(tag, on), turtle(graph), content | {"If-Match": read_etag}
    )
    assert status == 204, body
    assert title(on, tag) == "Par le Graph Store"
    revision = history.revision(
        on.app.extensions["store"], tag, history.head_number(on.app.extensions["store"], tag)
    )
    assert (revision.agent, revision.kind) == ("robot", "replace")
    assert headers["content-location"] == revision.iri
    # the ETag read before is stale now
    status, _, _ = on.request("PUT", gsp(tag, on), turtle(graph), content | {"If-Match": read_etag})
    assert status == 412


def test_graph_store_create_invalid_merge_and_retire(on):
    tag = "ParLeGraphStore"
    content = token(**{"Content-Type": "text/turtle"})
    invalid = new_fiche(on, tag)
    invalid.remove((URIRef(fiche(on, tag)), DCTERMS.title, None))
    status, headers, body = on.request(
        "PUT", gsp(tag, on), turtle(invalid), content | {"Accept": "text/turtle"}
    )
    assert status == 422
    assert (None, RDF.type, SH.ValidationReport) in Graph().parse(data=body, format="turtle")
    assert not on.app.extensions["store"].has_graph(fiche(on, tag))
    status, headers, _ = on.request("PUT", gsp(tag, on), turtle(new_fiche(on, tag)), content)
    assert status == 201 and title(on, tag)
    # POST adds to the graph
    extra = f'<{fiche(on, tag)}> <{DCTERMS.title}> "An English title"@en .'.encode()
    status, _, body = on.request(
        "POST", gsp(tag, on), extra, content | {"If-Match": headers["etag"]}
    )
    assert status == 204, body
    titles = set(
        writes.current_graph(on.app.extensions["store"], tag).objects(
            URIRef(fiche(on, tag)), DCTERMS.title
        )
    )
    assert Literal("An English title", lang="en") in titles and len(titles) == 2
    etag = history.etag(on.app.extensions["store"], tag)
    status, _, _ = on.request("DELETE", gsp(tag, on), headers=token(**{"If-Match": etag}))
    assert status == 204
    status, _, _ = on.request("GET", f"/fiche/{tag}", headers={"Accept": "text/turtle"})
    assert status == 410
    status, _, _ = on.request("DELETE", gsp(tag, on), headers=token())
    assert status == 410


@pytest.mark.parametrize(
    "target",
    [
        "/sparql/graph?default",
        "/sparql/graph?graph=" + quote("https://w3id.org/memoires-ld/ns", safe=""),
    ],
)
def test_graph_store_refuses_other_graphs(on, target):
    store = on.app.extensions["store"]
    version = store.version
    status, _, body = on.request(
        "PUT",
        target,
        b"<a:s> <a:p> <a:o> .",
        token(**{"Content-Type": "text/turtle", "Accept": "application/json"}),
    )
    assert status == 403 and json.loads(body)["error"] == "graphe-interdit"
    assert store.version == version


# -- writes.apply_changes ----------------------------------------------------------------


def test_apply_changes_is_all_or_nothing(on):
    store = on.app.extensions["store"]
    version = store.version
    good = writes.current_graph(store, TAGS[1])
    good.set((URIRef(fiche(on, TAGS[1])), DCTERMS.title, Literal("Lot", lang="fr")))
    changes = [
        writes.Change("replace", TAGS[1], good, history.etag(store, TAGS[1])),
        writes.Change("retire", TAGS[2], None, '"0000000000000000"'),
    ]
    with pytest.raises(PreconditionFailed):
        writes.apply_changes(store, changes, agent="robot")
    assert store.version == version and title(on, TAGS[1]) != "Lot"
    wrong = new_fiche(on, "Autre")
    with pytest.raises(InvalidFiche, match="décrit la fiche « Autre »"):
        writes.apply_changes(store, [writes.Change("replace", TAGS[1], wrong)], agent="robot")
    changes[1] = writes.Change("replace", TAGS[2], writes.current_graph(store, TAGS[2]))
    changes[1].graph.set((URIRef(fiche(on, TAGS[2])), DCTERMS.title, Literal("Lot 2", lang="fr")))
    done = writes.apply_changes(store, changes, agent="robot")
    assert [r.tag for r in done] == [TAGS[1], TAGS[2]]
    assert (title(on, TAGS[1]), title(on, TAGS[2])) == ("Lot", "Lot 2")


def test_relative_iris_and_the_protocols_dataset(on):
    """Relative IRIs resolve against the endpoint (as Oxigraph does, so the graphs checked
    are the graphs written); using-graph-uri makes a fiche the WHERE's default graph."""
    tag = TAGS[1]
    text = DCT + (
        f'INSERT {{ GRAPH <fiche/{tag}> {{ <fiche/{tag}> dct:title "Relative title"@en }} }} '
        f"WHERE {{ <fiche/{tag}> dct:title ?t FILTER(lang(?t) = 'fr') }}"
    )
    target = "/sparql?using-graph-uri=" + quote(fiche(on, tag), safe="")
    headers = token(**{"Content-Type": "application/sparql-update"})
    status, _, body = on.request("POST", target, text.encode(), headers)
    assert status == 200 and len(json.loads(body)["revisions"]) == 1, body
    graph = writes.current_graph(on.app.extensions["store"], tag)
    titles = set(graph.objects(URIRef(fiche(on, tag)), DCTERMS.title))
    assert Literal("Relative title", lang="en") in titles


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("INSERT DATA { GRAPH <urn:x:g> { x:y <a:b> <a:c> } }", 400),  # unknown prefix
        ("CLEAR XYZ", 400),
        ("# nothing but a comment", 200),
    ],
)
def test_malformed_or_empty_updates(on, text, status):
    """Regression: rdflib's bare Exception for an unknown prefix was a 500."""
    version = on.app.extensions["store"].version
    got, _, body = update(on, text, token())
    assert got == status, body
    if status == 200:
        assert json.loads(body)["revisions"] == []
    else:
        assert json.loads(body)["error"] == "syntaxe-sparql"
    assert on.app.extensions["store"].version == version
