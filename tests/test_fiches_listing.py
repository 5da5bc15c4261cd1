"""`/fiches` over HTTP: facets and counts as YesWiki shows them, search, sort, pages, the
Hydra collection in every RDF format, and bad input answered 400 in the format asked for."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest
from bs4 import BeautifulSoup
from rdflib import Literal, Namespace, URIRef
from rdflib.namespace import RDF, XSD
from web_fixtures import BASE, BROWSER, make_app, parse, path

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
HTML = {"Accept": BROWSER["firefox"]}
JSON = {"Accept": "application/json"}
SEED_NATURES = {
    "formation": 19,
    "animation-temps-collectif": 15,
    "accompagnement": 10,
    "education-populaire": 7,
    "conference": 2,
}


@pytest.fixture(scope="module")
def app(tmp_path_factory, backend):
    return make_app(tmp_path_factory.mktemp("listing"), store=backend)


@pytest.fixture
def client(app):
    return app.test_client()


def page(client, url: str, **headers) -> BeautifulSoup:
    response = client.get(url, headers=HTML | headers)
    assert response.status_code == 200, response.data[:500]
    return BeautifulSoup(response.data, "html.parser")


def total(soup: BeautifulSoup) -> int:
    return int(soup.select_one(".listing-count .nb-results").get_text())


def count(soup: BeautifulSoup, facet: str, key: str) -> int:
    found = soup.select_one(f'section[data-facet="{facet}"] [data-value="{key}"] .count')
    return int(found.get_text())


def test_the_sentence_and_the_counts_of_the_seed(client):
    soup = page(client, "/fiches")
    sentence = " ".join(soup.select_one(".listing-count").get_text().split())
    assert sentence == "Il y a 38 fiche(s) correspondante(s) à vos filtres"
    assert {k: count(soup, "nature", k) for k in SEED_NATURES} == SEED_NATURES
    assert count(soup, "statut", "terminee") == 27
    assert count(soup, "statut", "annulee") == 6
    assert count(soup, "statut", "en-cours") == 4
    years = {"2017": 18, "2018": 14, "2016": 13, "2015": 4, "2014": 2}
    assert {y: count(soup, "annee", y) for y in years} == years
    assert len(soup.select("ol.fiches > li")) == 20


def test_english(client):
    soup = page(client, "/fiches?lang=en")
    assert " ".join(soup.select_one(".listing-count").get_text().split()) == (
        "38 record(s) match your filters"
    )
    assert soup.html["lang"] == "en"
    label = soup.select_one('section[data-facet="nature"] [data-value="formation"] .label')
    assert label.get_text(strip=True) == "Training"
    assert "lang=en" in soup.select_one('[data-value="formation"]')["href"]
    assert page(client, "/fiches", **{"Accept-Language": "en"}).html["lang"] == "en"


def test_or_within_a_facet_and_across_facets(client):
    one = total(page(client, "/fiches?nature=formation"))
    two = page(client, "/fiches?nature=formation&nature=accompagnement")
    assert one == 19 and 19 < total(two) <= 29
    assert total(page(client, "/fiches?nature=formation,accompagnement")) == total(two)
    narrowed = page(client, "/fiches?nature=formation&nature=accompagnement&annee=2017")
    assert total(narrowed) < total(two)
    # Counts of another facet are those of the current results; a facet's own are not
    # narrowed by its own selection (it adds fiches: OR).
    assert count(narrowed, "annee", "2017") == total(narrowed)
    assert count(two, "annee", "2017") == total(narrowed)
    assert count(two, "nature", "conference") == SEED_NATURES["conference"]


def test_a_facet_link_toggles_its_value(client):
    soup = page(client, "/fiches?annee=2017")
    link = soup.select_one('section[data-facet="nature"] a[data-value="formation"]')
    added = page(client, path(link["href"]))
    assert total(added) == count(soup, "nature", "formation")
    selected = added.select_one('section[data-facet="nature"] a[data-value="formation"]')
    assert selected["aria-current"] == "true"
    assert total(page(client, path(selected["href"]))) == total(soup)


def test_search_ignores_accents_and_case_and_marks_the_words(client):
    plain = page(client, "/fiches?q=cooperation")
    assert total(plain) == total(page(client, "/fiches?q=COOP%C3%89RATION")) >= 5
    assert plain.select("ol.fiches mark")
    with_facet = page(client, "/fiches?q=cooperation&nature=formation")
    assert total(with_facet) == count(plain, "nature", "formation")
    searched = page(client, "/fiches?q=numérique&annee=2017")
    assert searched.select_one("#q")["value"] == "numérique"
    chip = searched.select(".active-filters a")[1]
    assert chip.get_text(" ", strip=True).startswith("Rechercher\u00a0: «\u00a0numérique\u00a0»")
    assert path(chip["href"]) == "/fiches?annee=2017"


def test_sort_and_pages(client):
    soup = page(client, "/fiches?par_page=10&page=4&tri=-titre")
    assert len(soup.select("ol.fiches > li")) == 8
    assert soup.select_one("ol.fiches")["start"] == "31"
    current = soup.select_one(".pagination [aria-current=page]")
    assert current.get_text() == "4"
    previous = dict(parse_qsl(urlsplit(soup.select_one('a[rel="prev"]')["href"]).query))
    assert previous == {"tri": "-titre", "par_page": "10", "page": "3"}
    assert soup.select_one('a[rel="next"]') is None
    first = page(client, "/fiches?tri=titre&par_page=100").select("ol.fiches h3")
    last = page(client, "/fiches?tri=-titre&par_page=100").select("ol.fiches h3")
    assert [h.get_text() for h in first] == [h.get_text() for h in last][::-1]


def test_a_page_beyond_the_last_is_404(client):
    response = client.get("/fiches?page=3", headers=JSON)
    assert response.status_code == 404
    assert "2 page(s)" in response.get_json()["message"]


# -- RDF ---------------------------------------------------------------------------------


def collection(client, url: str, suffix: str, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.data[:500]
    return parse(response.data, suffix), response


@pytest.mark.parametrize("suffix", ["ttl", "jsonld", "nt", "rdf"])
@pytest.mark.parametrize("how", ["suffix", "format", "accept"])
def test_hydra_collection_in_every_format(client, suffix, how):
    media = {
        "ttl": "text/turtle",
        "jsonld": "application/ld+json",
        "nt": "application/n-triples",
        "rdf": "application/rdf+xml",
    }
    query = "nature=formation&par_page=5&page=2"
    url = {
        "suffix": f"/fiches.{suffix}?{query}",
        "format": f"/fiches?{query}&format={suffix}",
        "accept": f"/fiches?{query}",
    }[how]
    headers = {"Accept": media[suffix]} if how == "accept" else {}
    g, response = collection(client, url, suffix, **headers)
    assert response.mimetype == media[suffix]
    node = URIRef(BASE + "fiches?nature=formation")
    view = URIRef(BASE + "fiches?nature=formation&par_page=5&page=2")
    assert (node, RDF.type, HYDRA.Collection) in g
    assert g.value(node, HYDRA.totalItems) == Literal(19, datatype=XSD.integer)
    assert g.value(node, HYDRA.view) == view
    assert (view, RDF.type, HYDRA.PartialCollectionView) in g
    page_of = {
        p: URIRef(BASE + f"fiches?nature=formation&par_page=5&page={n}")
        for p, n in (("first", 1), ("previous", 1), ("next", 3), ("last", 4))
    }
    for prop, target in page_of.items():
        assert g.value(view, HYDRA[prop]) == target
    members = set(g.objects(node, HYDRA.member))
    assert len(members) == 5
    assert all(str(m).startswith(BASE + "fiche/") for m in members)


def test_hydra_paging_walks_the_whole_collection(client):
    url, seen = "/fiches.ttl?par_page=10", []
    while url:
        g, _ = collection(client, url, "ttl")
        (node,) = set(g.subjects(RDF.type, HYDRA.Collection))
        seen += list(g.objects(node, HYDRA.member))
        view = g.value(node, HYDRA.view)
        following = g.value(view, HYDRA.next)
        url = path(str(following)).replace("/fiches?", "/fiches.ttl?") if following else None
    assert len(seen) == len(set(seen)) == 38


def test_hydra_search_template_describes_the_filters(client):
    g, _ = collection(client, "/fiches.ttl", "ttl")
    template = g.value(URIRef(BASE + "fiches"), HYDRA.search)
    text = str(g.value(template, HYDRA.template))
    assert text == (
        BASE + "fiches{?nature*,participants*,duree*,statut*,reussite*,licence*,annee*,"
        "auteur*,source*,q,tri,page,par_page}"
    )
    variables = {str(g.value(m, HYDRA.variable)) for m in g.objects(template, HYDRA.mapping)}
    assert {"nature", "annee", "q", "page"} <= variables
    mapping = {
        str(g.value(m, HYDRA.variable)): g.value(m, HYDRA.property)
        for m in g.objects(template, HYDRA.mapping)
    }
    assert mapping["q"] == HYDRA.freetextQuery
    assert mapping["nature"] == URIRef("http://purl.org/dc/terms/type")


def test_json_ld_is_one_object_with_hydra_terms(client):
    document = client.get("/fiches.jsonld?par_page=2").get_json()
    assert document["type"] == "Collection" and document["totalItems"] == 38
    assert len(document["member"]) == 2 and document["member"][0]["type"] == "Fiche"
    assert document["view"]["next"].endswith("par_page=2&page=2")


def test_html_advertises_its_data_twins(client):
    response = client.get("/fiches?nature=conference", headers=HTML)
    soup = BeautifulSoup(response.data, "html.parser")
    alternates = {link["type"]: link["href"] for link in soup.select('link[rel="alternate"]')}
    assert alternates["text/turtle"] == BASE + "fiches?nature=conference&format=ttl"
    assert "application/ld+json" in response.headers["Link"]
    assert set(response.headers["Vary"].split(", ")) >= {"Accept", "Accept-Language"}


def test_conditional_get(client):
    first = client.get("/fiches.ttl?annee=2016")
    again = client.get("/fiches.ttl?annee=2016", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("nature=karaoke", "nature"),
        ("annee=17", "annee"),
        ("annee=2017abc", "annee"),
        ("auteur=Robert%20Tables", "auteur"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=1&page=2", "page"),
        ("par_page=1000", "par_page"),
        ("tri=prix", "tri"),
        ("q=" + "a" * 201, "q"),
        ("natrue=formation", "natrue"),
        ("&".join(f"annee={2000 + n}" for n in range(51)), None),
    ],
)
def test_bad_input_is_a_clear_400(client, query, parameter):
    response = client.get(f"/fiches?{query}", headers=JSON)
    assert response.status_code == 400
    error = response.get_json()
    assert error["error"] == "parametre-invalide" and error["parameter"] == parameter
    assert error["message"]


def test_bad_input_answers_in_the_format_asked_for(client):
    turtle = client.get("/fiches.ttl?page=zero")
    assert turtle.status_code == 400 and turtle.mimetype == "text/turtle"
    assert "parametre-invalide" in turtle.get_data(as_text=True)
    html = client.get("/fiches?nature=karaoke", headers=HTML)
    assert html.status_code == 400 and html.mimetype == "text/html"
    assert "karaoke" in BeautifulSoup(html.data, "html.parser").select_one("main").get_text()


def test_an_oversized_query_string_is_refused(client):
    response = client.get("/fiches?q=" + "a" * 3000)
    assert response.status_code in (400, 414)
    assert json.loads(response.data)["status"] == response.status_code


@pytest.mark.parametrize(
    "query",
    [
        "q=%22%20%7D%20%3B%20DROP%20ALL%20%3B%20SELECT%20*%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo",
        "q=%3E%20%7D%20UNION%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%20%23",
        "q=title%3A%20x%20OR%20NEAR(a%20b)%20%2A",
    ],
)
def test_injection_in_the_search_is_only_words(app, client, query):
    store = app.extensions["store"]
    before = len(store)
    response = client.get(f"/fiches.ttl?{query}")
    assert response.status_code == 200
    assert len(store) == before
    g = parse(response.data, "ttl")
    (node,) = set(g.subjects(RDF.type, HYDRA.Collection))
    assert parse_qsl(urlsplit(node).query) == parse_qsl(query)  # the words, as they came
    assert g.value(node, HYDRA.totalItems) == Literal(0, datatype=XSD.integer)


@pytest.mark.parametrize(
    "value",
    ["formation> } ; DROP ALL ; #", "formation%22%29%20%7D", "<http://evil/>", "2017%22"],
)
def test_injection_in_a_filter_is_refused(app, client, value):
    store = app.extensions["store"]
    before = len(store)
    for facet in ("nature", "annee", "auteur"):
        assert client.get(f"/fiches?{facet}={value}").status_code == 400
    assert len(store) == before
