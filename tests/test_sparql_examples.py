"""The example queries: their page, their stable links, their answers on the seed data.

Every example must answer something on the 38 seed fiches (a query written against a model
that changed would answer nothing), in every format its page links to.
"""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from sparql_server import make_app, rdf_graph, results

from memoires_ld import sparql_examples
from memoires_ld.namespaces import PREFIXES

EXAMPLES = sparql_examples.examples()
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("examples"), SPARQL_RATE_LIMIT=0)


@pytest.fixture
def client(app):
    return app.test_client()


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_the_examples_cover_what_people_ask():
    slugs = {e.slug for e in EXAMPLES}
    assert {"fiches-par-nature", "fiches-par-annee", "fiches-par-auteur"} <= slugs
    assert {"formations-2016-2018", "actions-annulees", "liens-documentation"} <= slugs
    assert {e.form for e in EXAMPLES} == {"select", "ask", "construct", "describe"}
    assert all(e.title["fr"] and e.title["en"] and e.description["fr"] for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.slug)
def test_each_example_answers_in_every_linked_format(client, example):
    page = BeautifulSoup(client.get("/sparql/exemples").data, "html.parser")
    section = page.find("section", id=example.slug)
    assert section.find("h2").get_text() == example.title["fr"]
    assert section.find("pre").get_text() == example.text
    links = section.find_all("a", class_="result")
    expected = ["json", "xml", "csv", "tsv"] if example.form in ("select", "ask") else None
    assert [a["data-format"] for a in links] == (expected or ["ttl", "jsonld", "nt", "rdf"])
    for link in links:
        response = client.get(local(link["href"]))
        assert response.status_code == 200, (link["href"], response.data[:300])
        if example.form in ("construct", "describe"):
            assert len(rdf_graph(response.data, response.headers["Content-Type"])) > 0
        elif link["data-format"] == "csv":
            table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
            assert len(table) > 1 or example.form == "ask"
        else:
            parsed = results(response.data, response.headers["Content-Type"])
            assert bool(parsed) if example.form == "ask" else len(list(parsed)) > 0


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.slug)
def test_each_example_has_its_text_and_opens_in_the_editor(client, example):
    text = client.get(f"/sparql/exemples/{example.slug}.rq")
    assert text.status_code == 200 and text.mimetype == "application/sparql-query"
    assert text.get_data(as_text=True) == example.text
    editor = client.get(f"/sparql/exemples/{example.slug}", headers={"Accept": BROWSER})
    assert editor.status_code == 200 and editor.mimetype == "text/html"
    config = json.loads(BeautifulSoup(editor.data, "html.parser").find(id="sparql-config").string)
    assert config["query"] == example.text and config["tabName"] == example.title["fr"]


def test_the_editor_is_set_up_for_our_data(client):
    page = BeautifulSoup(client.get("/sparql", headers={"Accept": BROWSER}).data, "html.parser")
    config = json.loads(page.find(id="sparql-config").string)
    assert config["endpoint"] == "http://127.0.0.1:8000/sparql"
    assert config["prefixes"] == PREFIXES
    for prefix, iri in PREFIXES.items():  # the first tab declares them all, and runs
        assert f"PREFIX {prefix}: <{iri}>" in config["defaultQuery"]
    response = client.post("/sparql", data={"query": config["defaultQuery"]})
    assert len(json.loads(response.data)["results"]["bindings"]) == 20
    assert "https://w3id.org/memoires-ld/ns#participants" in config["properties"]
    assert "https://w3id.org/memoires-ld/ns#Fiche" in config["classes"]
    assert [e["slug"] for e in config["examples"]] == [e.slug for e in EXAMPLES]
    scripts = [s["src"] for s in page.find_all("script", src=True)]
    assert scripts == ["/static/yasgui/yasgui.min.js", "/static/sparql.js"]  # all ours
    links = [a["href"] for a in page.select("details.sparql-examples a")]
    assert links == [f"http://127.0.0.1:8000/sparql/exemples/{e.slug}" for e in EXAMPLES]


def test_the_pages_in_english(client):
    page = BeautifulSoup(client.get("/sparql/exemples?lang=en").data, "html.parser")
    titles = [h.get_text() for h in page.select("section.sparql-example h2")]
    assert titles == [e.title["en"] for e in EXAMPLES]
    editor = BeautifulSoup(
        client.get("/sparql?lang=en", headers={"Accept": BROWSER}).data, "html.parser"
    )
    assert editor.find("h1").get_text() == "Query the data with SPARQL"


def test_an_unknown_example(client):
    response = client.get("/sparql/exemples/nulle-part", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert "fiches-par-nature" in json.loads(response.data)["message"]


def test_an_example_file_needs_both_titles(tmp_path, monkeypatch):
    (tmp_path / "01-sans-titre.rq").write_text("# titre: Seul\nSELECT * WHERE { ?s ?p ?o }\n")
    monkeypatch.setattr(sparql_examples, "FOLDER", tmp_path)
    sparql_examples.examples.cache_clear()
    try:
        with pytest.raises(ValueError, match="French and in English"):
            sparql_examples.examples()
    finally:
        monkeypatch.undo()
        sparql_examples.examples.cache_clear()


def test_after_a_write_the_editor_does_not_count_the_new_version(tmp_path):
    """Its completions come from the latest version published in full: counting a new
    version (a scan of the store) is the publisher's work, not a page view's."""
    from memoires_ld import dumps, void

    app = make_app(tmp_path)
    client = app.test_client()
    assert client.get("/sparql", headers={"Accept": BROWSER}).status_code == 200
    store, instance = app.extensions["store"], tmp_path / "instance"
    void.prepare(store, instance, app.config["IRIS"])  # the seed's version, published in full
    app.extensions["sparql"].apply("INSERT DATA { GRAPH <urn:x:g> { <urn:x:s> a <urn:x:New> } }")
    page = client.get("/sparql", headers={"Accept": BROWSER})
    config = json.loads(BeautifulSoup(page.data, "html.parser").find(id="sparql-config").string)
    assert "https://w3id.org/memoires-ld/ns#Fiche" in config["classes"]
    assert "urn:x:New" not in config["classes"]  # the published version's partitions
    assert not (dumps.folder(instance, store) / void.STATISTICS_FILE).exists()
