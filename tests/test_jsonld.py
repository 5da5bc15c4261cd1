"""JSON-LD: our versioned context, served locally, never a remote one; one predictable object
per resource that expands to exactly the published graph."""

from __future__ import annotations

import json
import socket

import pytest
from pyld import jsonld as pyld
from rdflib import URIRef
from rdflib.namespace import SKOS
from web_fixtures import (
    BASE,
    IRIS,
    SEED,
    assert_same_graph,
    fiche_graph,
    file_graph,
    make_app,
    parse,
    path,
)

from memoires_ld import datadir
from memoires_ld.web import jsonld

TAGS = sorted(p.stem for p in (SEED / datadir.RDF_DIR / datadir.FICHES_DIR).glob("*.ttl"))
CITYKART = "CitykartParcoursDeRemobilisation1625AA"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("jsonld")).test_client()


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a JSON-LD document was fetched from the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def get_json(client, url: str) -> dict:
    response = client.get(path(url), headers={"Accept": "application/ld+json"})
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    return json.loads(response.data)


def test_the_context_is_served_from_the_package(client):
    shipped = (jsonld.CONTEXTS / f"{jsonld.VERSION}.jsonld").read_bytes()
    stable = client.get("/context/0.1.0.jsonld")
    latest = client.get("/context.jsonld")
    assert stable.data == latest.data == shipped
    assert stable.mimetype == latest.mimetype == "application/ld+json"
    assert latest.headers["Content-Location"] == str(IRIS.context("0.1.0"))
    assert "@context" in json.loads(shipped)


def test_documents_name_our_stable_context(client):
    for url in (IRIS.fiche(CITYKART), IRIS.agent("romain-lalande"), IRIS.ontology()):
        assert get_json(client, url)["@context"] == str(IRIS.context("0.1.0"))


@pytest.mark.parametrize(
    "url",
    [
        "https://schema.org/",
        "http://www.w3.org/ns/anything.jsonld",
        f"{BASE}context/9.9.9.jsonld",
        "https://elsewhere.example/context.jsonld",
        "file:///etc/passwd",
    ],
)
def test_the_loader_refuses_anything_but_our_context(no_network, url):
    load = jsonld.loader(IRIS)
    with pytest.raises(jsonld.RemoteContextRefused):
        load(url, {})
    document = {"@context": url, "name": "x"}
    with pytest.raises(pyld.JsonLdError):
        pyld.expand(document, {"documentLoader": load})
    with pytest.raises(pyld.JsonLdError):  # pyld's own default loader is replaced too
        pyld.expand(document)


def test_the_loader_serves_our_context_without_the_network(no_network):
    load = jsonld.loader(IRIS)
    for url in (IRIS.context(), IRIS.context("0.1.0")):
        assert load(str(url), {})["document"] == jsonld.context_document("0.1.0")


def test_a_fiche_reads_without_an_rdf_library(client):
    fiche = get_json(client, IRIS.fiche(CITYKART))
    assert fiche["id"] == str(IRIS.fiche(CITYKART))
    assert fiche["type"][0] == "Fiche"
    assert fiche["title"]["fr"].startswith("CityKart")
    assert fiche["descriptionHtml"].startswith("<")
    assert fiche["license"] == "cc-by-sa-4.0"
    assert fiche["created"] == "2018-01-23T14:44:00+01:00"
    action = fiche["action"]
    assert action["id"] == str(IRIS.action(CITYKART))
    assert sorted(action["nature"]) == [
        "animation-temps-collectif",
        "education-populaire",
        "formation",
    ]
    assert action["participants"] == ["6-15"]
    assert action["status"] == "terminee"
    assert action["success"] == "belle-reussite"
    assert action["years"] == ["2016"]
    names = {author["name"] for author in fiche["authors"]}
    assert "Isabelle Bapteste" in names
    roles = {a["agent"]: a["role"]["fr"] for a in fiche["attributions"]}
    assert roles[str(IRIS.agent("isabelle-bapteste"))] == "rédaction et intervention"
    assert fiche["notes"]["fr"]


def test_an_agent_lists_its_fiches(client):
    agent = get_json(client, IRIS.agent("isabelle-bapteste"))
    assert agent["name"] == "Isabelle Bapteste"
    assert agent["authorOf"] == [str(IRIS.fiche(CITYKART))]


def test_an_account_lists_the_pages_it_created(client):
    account = get_json(client, IRIS.account("WikiAdmin"))
    assert account["accountName"] == "WikiAdmin"
    assert len(account["maintains"]) == 3


def test_a_concept_is_one_object(client):
    concept = get_json(client, IRIS.concept_page("nature", "formation"))
    assert concept["prefLabel"] == {"fr": "Formation", "en": "Training"}
    assert concept["notation"] == "formation"


def test_every_concept_has_its_notation_as_a_term():
    """The context's short codes stay in step with the vocabulary (ontology/schemes.ttl)."""
    terms = jsonld.context_document("0.1.0")["@context"]
    schemes = file_graph("ontology", "schemes.ttl")
    for concept, notation in schemes.subject_objects(SKOS.notation):
        assert terms.get(str(notation)) == str(concept), notation
    vocab = "https://w3id.org/memoires-ld/vocab/"
    codes = {t for t, v in terms.items() if isinstance(v, str) and v.startswith(vocab)}
    assert codes <= {str(n) for n in schemes.objects(None, SKOS.notation)}


@pytest.mark.parametrize("tag", TAGS)
def test_every_fiche_expands_to_its_graph(client, tag):
    response = client.get(path(f"{IRIS.fiche(tag)}.jsonld"))
    assert_same_graph(parse(response.data, "jsonld"), fiche_graph(tag))
    assert json.loads(response.data)["id"] == str(IRIS.fiche(tag))  # one object, no @graph


def test_the_context_compacts_a_foreign_graph_without_losing_triples(client):
    g = file_graph("shapes", "fiche.ttl")
    response = client.get("/shapes.jsonld")
    assert "@graph" in json.loads(response.data)
    assert_same_graph(parse(response.data, "jsonld"), g)
    assert URIRef("https://w3id.org/memoires-ld/shapes#FicheShape") in set(g.subjects())
