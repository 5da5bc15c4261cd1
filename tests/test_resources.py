"""Every resource × every RDF format: the response parses back to the published graph.

The expected graphs are read with rdflib from data/rdf, ontology/ and shapes/ (web_fixtures),
not from the store the app serves.
"""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import SKOS
from web_fixtures import (
    BASE,
    IRIS,
    SEED,
    all_fiches,
    assert_same_graph,
    cbd,
    creator_links,
    fiche_graph,
    file_graph,
    make_app,
    parse,
    path,
    with_incoming,
)

from memoires_ld import datadir
from memoires_ld import iris as iris_
from memoires_ld.namespaces import SCHEMA
from memoires_ld.web.negotiation import RDF_FORMATS

CITYKART = "CitykartParcoursDeRemobilisation1625AA"
IMPORT_FILE = SEED / datadir.RDF_DIR / datadir.IMPORT_FILE
CC_BY_SA = URIRef("http://creativecommons.org/licenses/by-sa/4.0/")


def schemes() -> Graph:
    return file_graph("ontology", "schemes.ttl")


def scheme_graph(name: str):
    g, scheme = schemes(), iris_.scheme(name)
    members = set(g.subjects(SKOS.inScheme, scheme))
    members |= {s for s in g.subjects() if str(s).startswith(str(scheme) + "/")}
    return cbd(g, [scheme, *members])


# (URL of the resource on the instance, its expected graph)
RESOURCES = {
    "fiche": (IRIS.fiche(CITYKART), lambda: fiche_graph(CITYKART)),
    "agent": (
        IRIS.agent("romain-lalande"),
        lambda: creator_links(str(IRIS.agent("romain-lalande"))),
    ),
    "account": (
        IRIS.account("RomainLalande"),
        lambda: with_incoming(all_fiches(), IRIS.account("RomainLalande"), [SCHEMA.maintainer]),
    ),
    "import": (
        IRIS.import_run("listing-39d2630178cd"),
        lambda: datadir.read_turtle(IMPORT_FILE, BASE),
    ),
    "scheme": (IRIS.scheme_page("reussite"), lambda: scheme_graph("reussite")),
    "concept": (
        IRIS.concept_page("nature", "formation"),
        lambda: cbd(schemes(), [iris_.concept("nature", "formation")]),
    ),
    "licence": (IRIS.concept_page("licence", "cc-by-sa-4.0"), lambda: cbd(schemes(), [CC_BY_SA])),
    "vocabulary": (IRIS.vocabulary(), schemes),
    "ontology": (IRIS.ontology(), lambda: file_graph("ontology", "memoires-ld.ttl")),
    "shapes": (IRIS.shapes(), lambda: file_graph("shapes", "fiche.ttl")),
}


@pytest.fixture(scope="module")
def client(tmp_path_factory, backend):
    return make_app(tmp_path_factory.mktemp("resources"), store=backend).test_client()


@pytest.fixture(scope="module")
def expected():
    return {name: build() for name, (_, build) in RESOURCES.items()}


@pytest.mark.parametrize("fmt", [f.suffix for f in RDF_FORMATS])
@pytest.mark.parametrize("name", RESOURCES)
def test_each_format_by_suffix_is_the_published_graph(client, expected, name, fmt):
    url = RESOURCES[name][0]
    response = client.get(path(f"{url}.{fmt}"))
    assert response.status_code == 200, response.data[:300]
    assert_same_graph(parse(response.data, fmt), expected[name])


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda f: f.suffix)
@pytest.mark.parametrize("name", RESOURCES)
def test_each_format_by_accept_and_by_format_parameter(client, expected, name, fmt):
    url = path(RESOURCES[name][0])
    by_accept = client.get(url, headers={"Accept": fmt.media_type})
    by_parameter = client.get(url, query_string={"format": fmt.suffix})
    for response in (by_accept, by_parameter):
        assert response.status_code == 200
        assert response.mimetype == fmt.media_type
        assert response.headers["Content-Location"] == f"{RESOURCES[name][0]}.{fmt.suffix}"
    assert by_accept.data == by_parameter.data
    assert_same_graph(parse(by_accept.data, fmt.suffix), expected[name])


@pytest.mark.parametrize("name", RESOURCES)
def test_html_twin_exists_and_names_the_resource(client, name):
    response = client.get(path(RESOURCES[name][0]), headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"


def test_every_fiche_is_served_as_its_file(client):
    for tag, graph in datadir.read_fiches(SEED, BASE):
        response = client.get(path(f"{IRIS.fiche(tag)}.nt"))
        assert response.status_code == 200, tag
        assert_same_graph(parse(response.data, "nt"), graph)


def test_every_iri_of_the_published_data_dereferences(client):
    """With the default base URL, each IRI under it in data/rdf answers 200 (hash part off)."""
    g = all_fiches() + datadir.read_turtle(IMPORT_FILE, BASE)
    iris = {str(t).split("#", 1)[0] for triple in g for t in triple if isinstance(t, URIRef)}
    ours = sorted(i for i in iris if i.startswith(BASE))
    assert len(ours) > 38 + 30  # fiches, agents, accounts, the listing, the import
    for iri in ours:
        response = client.get(path(iri), headers={"Accept": "text/turtle"})
        assert response.status_code == 200, iri


def test_every_vocabulary_iri_is_served_locally(client):
    """Every w3id IRI of the vocabulary has a local page (hash IRIs by their document)."""
    g = schemes() + file_graph("ontology", "memoires-ld.ttl") + file_graph("shapes", "fiche.ttl")
    w3id = {
        str(t).split("#", 1)[0]
        for triple in g
        for t in triple
        if isinstance(t, URIRef) and str(t).startswith("https://w3id.org/memoires-ld/")
    }
    for iri in sorted(w3id):
        local = IRIS.page(iri)
        assert local.startswith(BASE), iri
        assert client.get(path(local), headers={"Accept": "text/turtle"}).status_code == 200, iri


@pytest.mark.parametrize("name", RESOURCES)
def test_turtle_declares_only_the_prefixes_it_uses(client, name):
    """represent.turtle drops the `@prefix` lines of namespaces the document does not use."""
    body = client.get(path(f"{RESOURCES[name][0]}.ttl")).data.decode()
    head = [line for line in body.splitlines() if line.startswith("@prefix ")]
    rest = body[body.index("\n", body.rindex("@prefix ")) :] if head else body
    declared = [line.split()[1] for line in head]  # "dct:"
    assert declared, "no prefix at all"
    for prefix in declared:
        assert prefix in rest, f"{prefix} declared but unused"
