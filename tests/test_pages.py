"""The HTML pages: every field of a fiche, concept, scheme, agent, ontology and shapes pages,
French first and English on demand, schema.org embeds, and HTML sanitised at render."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF
from web_fixtures import (
    BROWSER,
    IRIS,
    all_fiches,
    fiche_graph,
    make_app,
    path,
    schema_org,
    soup,
)

from memoires_ld import datadir
from memoires_ld import iris as iris_
from memoires_ld.namespaces import MLD, SCHEMA

CITYKART = "CitykartParcoursDeRemobilisation1625AA"
IMAGES = "AtelierAuxGrandsVoisinsExperimenterLaPr"
LINKS_AND_OWNER = "AnimationDUnSeminaireCoRedigerNosAppels"
NON_FREE = "FormationDesConseilsCitoyens"
HTML = {"Accept": BROWSER["firefox"]}


@pytest.fixture(scope="module")
def client(tmp_path_factory, backend):
    """On each backend: the embedded store, then a real Virtuoso."""
    return make_app(tmp_path_factory.mktemp("pages"), store=backend).test_client()


def page(client, url: str, **headers):
    response = client.get(path(str(url)), headers={**HTML, **headers})
    assert response.status_code == 200, response.data[:300]
    return soup(response)


def section(html, title_id: str):
    return html.find(attrs={"aria-labelledby": title_id})


def test_the_fiche_page_shows_every_field(client):
    html = page(client, IRIS.fiche(CITYKART))
    assert html.find("h1").get_text().startswith("CityKart")
    action = section(html, "action-title")
    links = {a.get_text(): a["href"] for a in action.find_all("a")}
    assert links["Formation"] == str(IRIS.concept_page("nature", "formation"))
    assert links["De 6 à 15 personnes"] == str(IRIS.concept_page("participants", "6-15"))
    assert links["Terminée"] == str(IRIS.concept_page("statut", "terminee"))
    assert "2016" in action.get_text()
    description = section(html, "description-title")
    assert description.find("p") is not None and "École de la 2ème Chance" in description.text
    authors = section(html, "authors-title")
    isabelle = authors.find("a", string="Isabelle Bapteste")
    assert isabelle["href"] == str(IRIS.agent("isabelle-bapteste"))
    assert "rédaction et intervention" in isabelle.parent.get_text()
    assert "Isabelle Bapteste (rédaction et intervention), Fabrice Villard" in authors.text
    assert authors.find(class_="badge").get_text() == "CC BY-SA 4.0"
    about = section(html, "about-title")
    assert "23 janvier 2018 à 14 h 44" in about.text
    assert "24 janvier 2018 à 12 h 29" in about.text
    assert CITYKART in about.find("code").text
    assert "apostrophe perdue" in about.find(class_="notes").text
    assert about.find("a", href=f"http://osons.cc/wakka.php?wiki={CITYKART}") is not None
    assert html.find(class_="notice") is None  # an open licence: no warning


def test_images_links_and_the_account_that_wrote_the_page(client):
    images = section(page(client, IRIS.fiche(IMAGES)), "images-title")
    assert "cobudget_manuel.png" in images.text
    assert "Fichier source distribués aux participants pour cobudget" in images.text
    html = page(client, IRIS.fiche(LINKS_AND_OWNER))
    links = section(html, "links-title")
    expected = fiche_graph(LINKS_AND_OWNER).value(
        URIRef(IRIS.fiche(LINKS_AND_OWNER)), MLD.cahierDesCharges
    )
    assert links.find("a", href=str(expected)) is not None
    assert "Cahier des charges initial" in links.text
    owner = section(html, "about-title").find("a", href=str(IRIS.account("WikiAdmin")))
    assert owner is not None and owner.get_text() == "WikiAdmin"


def test_a_non_free_licence_is_said_clearly(client):
    html = page(client, IRIS.fiche(NON_FREE))
    notice = html.find(class_="notice")
    assert "Licence non-libre" in notice.text and "ni reproduite" in notice.text
    assert html.find(class_="badge-closed") is not None


def test_english_by_parameter_and_by_accept_language(client):
    by_parameter = client.get(path(IRIS.fiche(CITYKART)) + "?lang=en", headers=HTML)
    by_header = client.get(
        path(IRIS.fiche(CITYKART)), headers={**HTML, "Accept-Language": "en-US,en;q=0.9"}
    )
    for response in (by_parameter, by_header):
        html = soup(response)
        assert response.headers["Content-Language"] == "en"
        assert html.find("html")["lang"] == "en"
        labels = [a.get_text() for a in section(html, "action-title").find_all("a")]
        assert "Training" in labels
        assert "23 January 2018, 14:44" in section(html, "about-title").text
        assert html.find("h1", lang="fr") is not None  # the fiche's own text stays French


@pytest.mark.parametrize("header", ["fr-FR,fr;q=0.9,en;q=0.8", "de-DE", ""])
def test_french_otherwise(client, header):
    response = client.get(
        path(IRIS.fiche(CITYKART)) + "?lang=xx", headers={**HTML, "Accept-Language": header}
    )
    assert response.headers["Content-Language"] == "fr"


def test_the_language_switch_keeps_the_page(client):
    html = page(client, IRIS.concept_page("nature", "formation"))
    switch = html.find(class_="languages").find("a", hreflang="en")
    assert switch["href"] == "?lang=en"  # relative: the same page, whatever its host
    assert urljoin(IRIS.concept_page("nature", "formation"), switch["href"]).endswith(
        "/vocab/nature/formation?lang=en"
    )


PAGES = {
    "home": IRIS.home(),
    "fiche": IRIS.fiche(CITYKART),
    "agent": IRIS.agent("isabelle-bapteste"),
    "account": IRIS.account("WikiAdmin"),
    "import": IRIS.import_run("listing-39d2630178cd"),
    "vocabulary": IRIS.vocabulary(),
    "scheme": IRIS.scheme_page("nature"),
    "concept": IRIS.concept_page("nature", "formation"),
    "licence": IRIS.concept_page("licence", "non-libre"),
    "ontology": IRIS.ontology(),
    "shapes": IRIS.shapes(),
}


@pytest.mark.parametrize("name", PAGES)
def test_every_page_has_the_layout_and_a_schema_org_description(client, name):
    html = page(client, PAGES[name])
    nav = html.find("nav")
    hrefs = [a["href"] for a in nav.find_all("a")]
    assert hrefs == [
        str(IRIS.home()),
        str(IRIS.fiches()),
        str(IRIS.statistics()),
        str(IRIS.vocabulary()),
        str(IRIS.sparql()),
        str(IRIS.dataset()),
    ]
    assert html.find("main").find("h1") is not None
    assert html.find("footer").find(class_="languages") is not None
    data = schema_org(html)
    assert data["@context"] == "https://schema.org"
    assert data["@id"]


def test_the_fiche_is_an_article_for_search_engines(client):
    data = schema_org(page(client, IRIS.fiche(CITYKART)))
    assert data["@type"] == "Article"
    assert data["headline"].startswith("CityKart")
    authors = {a["name"]: a for a in data["author"]}
    assert authors["Isabelle Bapteste"]["@type"] == "Person"
    assert authors["Isabelle Bapteste"]["url"] == str(IRIS.agent("isabelle-bapteste"))
    assert data["datePublished"] == "2018-01-23T14:44:00+01:00"
    assert data["dateModified"] == "2018-01-24T12:29:00+01:00"
    assert data["license"] == ["http://creativecommons.org/licenses/by-sa/4.0/"]
    assert data["inLanguage"] == "fr"
    assert data["about"]["@id"] == str(IRIS.action(CITYKART))
    assert "@type" not in data["about"]  # no Event: Google would require a date and a place
    assert "Formation" in data["keywords"]


def expected_fiches(concept: URIRef) -> set[str]:
    g = all_fiches()
    actions = set(g.subjects(None, concept))
    return {str(f) for f in g.subjects(RDF.type, MLD.Fiche)} & (
        {str(f) for a in actions for f in g.subjects(SCHEMA.mainEntity, a)}
        | {str(a) for a in actions}
    )


def test_a_concept_page_lists_its_fiches(client):
    concept = iris_.concept("nature", "formation")
    html = page(client, IRIS.concept_page("nature", "formation"))
    listed = {a["href"] for a in html.find(class_="fiche-list").find_all("a")}
    assert listed == expected_fiches(concept)
    assert html.find("h1").get_text() == "Formation"


def test_a_licence_page_lists_its_fiches(client):
    html = page(client, IRIS.concept_page("licence", "non-libre"))
    listed = {a["href"] for a in html.find(class_="fiche-list").find_all("a")}
    assert listed == {str(IRIS.fiche(NON_FREE))}


def test_a_scheme_page_counts_the_fiches_of_each_concept(client):
    html = page(client, IRIS.scheme_page("nature"))
    rows = html.find("tbody").find_all("tr")
    assert [r.find("code").text for r in rows] == [
        "formation",
        "accompagnement",
        "animation-temps-collectif",
        "education-populaire",
        "conference",
    ]
    for row in rows:
        concept = iris_.concept("nature", row.find("code").text)
        assert int(row.find(class_="number").text) == len(expected_fiches(concept))


def test_an_agent_page_lists_the_fiches_it_wrote(client):
    html = page(client, IRIS.agent("romain-lalande"))
    listed = {a["href"] for a in html.find(class_="fiche-list").find_all("a")}
    g = all_fiches()
    assert listed == {
        str(f) for f in g.subjects(DCTERMS.creator, URIRef(IRIS.agent("romain-lalande")))
    }


def test_the_ontology_and_shapes_pages_list_their_terms(client):
    ontology = page(client, IRIS.ontology())
    anchors = {div["id"] for div in ontology.find_all(class_="term")}
    assert anchors == {
        "Fiche",
        "participants",
        "reussite",
        "cahierDesCharges",
        "reponse",
        "documentation",
    }
    shapes = page(client, IRIS.shapes())
    assert shapes.find(id="FicheShape") is not None
    assert "schema:mainEntity / dct:extent" in shapes.text  # a sequence path, for people


def test_the_home_page(client):
    html = page(client, IRIS.home())
    assert "38 fiches" in html.find(class_="counts").text
    assert len(html.find(class_="fiche-list").find_all("li")) == 6
    assert html.find("a", href=str(IRIS.vocabulary())) is not None


def test_the_home_page_counts_and_latest_fiches_match_the_data(client):
    """Served from the facet index: compared with the data files read by rdflib."""
    g = all_fiches()
    fiches = set(g.subjects(RDF.type, MLD.Fiche))
    agents = {a for f in fiches for a in g.objects(f, DCTERMS.creator)}
    modified = sorted(
        ((max(g.objects(f, DCTERMS.modified)).toPython(), str(f)) for f in fiches),
        reverse=True,
    )
    html = page(client, IRIS.home())
    counts = html.find(class_="counts").text
    assert f"{len(fiches)} fiches, {len(agents)} auteur·rices" in counts
    shown = [a["href"] for a in html.find(class_="fiche-list").find_all("a", href=True)]
    when = {iri: moment for moment, iri in modified}
    assert [when[iri] for iri in shown] == [moment for moment, _ in modified[:6]]


def test_links_of_a_fiche_page_resolve(client):
    html = page(client, IRIS.fiche(CITYKART))
    ours = {a["href"].split("#")[0] for a in html.find("main").find_all("a", href=True)}
    ours = {href for href in ours if href.startswith(IRIS.base)}
    assert len(ours) > 10
    for href in sorted(ours):
        assert client.get(path(href), headers=HTML).status_code == 200, href


# -- hostile content ------------------------------------------------------------------------

HOSTILE_HTML = (
    '<p onclick="steal()">ok</p><script>alert(1)</script><img src="x" onerror="alert(2)">'
    '<a href="javascript:alert(3)">lien</a><style>body{display:none}</style><h3>Titre</h3>'
)
HOSTILE_TITLE = "</script><script>alert(4)</script> & « guillemets »"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """One fiche whose stored HTML and title try to inject script."""
    tmp = tmp_path_factory.mktemp("hostile")
    tag = "AtelierCohesionDEquipe"
    g, fiche = fiche_graph(tag), URIRef(IRIS.fiche(tag))
    g.set((fiche, SCHEMA.articleBody, Literal(HOSTILE_HTML, datatype=RDF.HTML)))
    g.set((fiche, DCTERMS.title, Literal(HOSTILE_TITLE, lang="fr")))
    data = tmp / "data"
    fiches = data / datadir.RDF_DIR / datadir.FICHES_DIR
    fiches.mkdir(parents=True)
    (fiches / f"{tag}.ttl").write_text(datadir.to_relative_turtle(g), encoding="utf-8")
    return make_app(tmp, data).test_client(), tag


def test_stored_html_is_sanitised_again_at_render(hostile):
    client, tag = hostile
    response = client.get(path(IRIS.fiche(tag)), headers=HTML)
    html = soup(response)
    scripts = html.find_all("script")
    assert [s["type"] for s in scripts] == ["application/ld+json"]
    description = section(html, "description-title")
    assert description.find("h3").text == "Titre"
    assert description.find("style") is None and description.find("img") is None
    for element in description.find_all(True):
        assert not any(name.startswith("on") for name in element.attrs)
    assert all(not a.get("href", "").startswith("javascript") for a in description.find_all("a"))
    assert html.find("h1").get_text() == HOSTILE_TITLE
    assert schema_org(html)["name"] == HOSTILE_TITLE  # intact, yet unable to end the script
    assert not re.search(r"</script>\s*<script>alert", response.get_data(as_text=True))
