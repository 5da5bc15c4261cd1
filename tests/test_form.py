"""The form generated from the shapes, and its round trip through the real app."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from rdflib import Graph, Literal, URIRef
from rdflib.compare import graph_diff, to_isomorphic
from rdflib.namespace import DCTERMS, FOAF, RDF, SH, Namespace
from writes_fixtures import SEED, TAGS, seed_fiche, small_data

from memoires_ld import formdata, forms, history, richtext, validation
from memoires_ld.accounts import Accounts
from memoires_ld.iris import DEFAULT_BASE, Iris
from memoires_ld.namespaces import PAIR, SCHEMA
from memoires_ld.web import create_app

PASSWORD = "un mot de passe sûr"
IRIS = Iris(DEFAULT_BASE)
VOCAB = "https://w3id.org/memoires-ld/vocab/"
SHAPES_NS = Namespace("https://w3id.org/memoires-ld/shapes#")


# ----------------------------------------------------------------------- the form model


def test_the_form_follows_the_shapes():
    model = forms.default_model("fr")
    assert [g.label for g in model.groups] == [
        "Le récit",
        "L'action",
        "Liens",
        "Auteur·rices et licence",
    ]
    by_name = {f.name: f for f in model.fields}
    assert [f.name for f in model.groups[1].fields] == [
        "Action-nature",
        "Action-participants",
        "Action-duree",
        "Action-statut",
        "Action-reussite",
        "Action-annees",
        "Action-contributeurs",
    ]
    assert by_name["Action-nature"].widget == "checkboxes" and by_name["Action-nature"].required
    assert by_name["Action-statut"].widget == "radios" and not by_name["Action-statut"].required
    assert [o.label for o in by_name["Action-statut"].options] == [
        "En cours",
        "Terminée",
        "Annulée",
    ]
    assert by_name["Action-annees"].widget == "years"
    assert by_name["Fiche-cahierDesCharges"].widget == "url"
    assert by_name["Fiche-autresLiens"].widget == "urls"
    assert by_name["Fiche-description"].widget == "markdown"
    assert by_name["Fiche-auteurs"].widget == "agents"
    assert [p.name for p in by_name["Fiche-auteurs"].parts] == ["Agent-nom", "Agent-type"]
    # repeatable rows, from the node shapes the properties point at (sh:node)
    contributors = by_name["Action-contributeurs"]
    assert (contributors.widget, contributors.node, contributors.required) == (
        "agents",
        "action",
        False,
    )
    assert [p.name for p in contributors.parts] == ["Agent-nom", "Agent-type"]
    images = by_name["Fiche-images"]
    assert images.widget == "images" and [g.label for g in model.groups if images in g.fields] == [
        "Le récit"
    ]
    assert [(p.name, p.label, p.node) for p in images.parts] == [
        ("Image-fichier", "Fichier", "image"),
        ("Image-legende", "Légende", "image"),
    ]  # the size is read-only: the server's
    # required by the shapes, but filled by the server when left empty: not required here
    credit = by_name["Fiche-credit"]
    assert not credit.required and "reprend les noms des auteur·rices" in credit.help
    # managed by the server, or not edited here
    for shape in ("Fiche-identifiant", "Fiche-creation", "Fiche-texte", "Image-taille"):
        assert shape not in by_name
    assert forms.default_model("en").groups[0].label == "The story"


EXTRA_SHAPE = """
@prefix shapes: <https://w3id.org/memoires-ld/shapes#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix schema: <http://schema.org/> .
shapes:FicheShape sh:property shapes:Fiche-motsCles .
shapes:Fiche-motsCles a sh:PropertyShape ;
    sh:path schema:keywords ;
    sh:name "Mots-clés"@fr, "Keywords"@en ;
    sh:description "Quelques mots pour retrouver la fiche."@fr ;
    sh:datatype xsd:string ;
    sh:minCount 1 ;
    sh:group shapes:RecitGroup ;
    sh:order 2.5 .
"""


def test_a_property_added_to_the_shapes_becomes_a_field():
    shapes = Graph()
    for triple in validation.load_shapes():
        shapes.add(triple)
    shapes.parse(data=EXTRA_SHAPE, format="turtle")
    model = forms.form_model(shapes, "fr")
    names = [f.name for f in model.groups[0].fields]
    assert names == ["Fiche-titre", "Fiche-description", "Fiche-motsCles", "Fiche-images"]
    field = model.fields[2]
    assert (field.label, field.widget, field.required) == ("Mots-clés", "text", True)
    # and its value is written by its path, then validated by the same shapes
    tag = TAGS[0]
    values = formdata.values_from_graph(model, seed_fiche(tag), IRIS, tag)
    values["Fiche-motsCles"] = ["coopération"]
    graph = formdata.fiche_graph(model, values, IRIS, tag, seed_fiche(tag))
    assert (IRIS.fiche(tag), SCHEMA.keywords, Literal("coopération")) in graph
    modified = (
        IRIS.fiche(tag),
        DCTERMS.modified,
        seed_fiche(tag).value(IRIS.fiche(tag), DCTERMS.modified),
    )
    graph.add(modified)  # the write path's job
    assert validation.validate(graph, shapes=shapes).conforms
    values["Fiche-motsCles"] = [""]
    graph = formdata.fiche_graph(model, values, IRIS, tag, seed_fiche(tag))
    graph.add(modified)
    report = validation.validate(graph, shapes=shapes)
    assert [model.field_for("fiche", r.path).name for r in report.violations] == ["Fiche-motsCles"]


@pytest.mark.parametrize(
    "path", sorted((SEED / "rdf" / "fiches").glob("*.ttl")), ids=lambda p: p.stem
)
def test_editing_without_changes_keeps_every_seed_fiche(path):
    """The form shows a stored fiche and gives it back as it was (dates are the write path's)."""
    tag = path.stem
    old = seed_fiche(tag)
    model = forms.default_model("fr")
    new = formdata.fiche_graph(
        model, formdata.values_from_graph(model, old, IRIS, tag), IRIS, tag, old
    )
    _, only_old, only_new = graph_diff(to_isomorphic(old), to_isomorphic(new))
    modified = {DCTERMS.modified, SCHEMA.dateModified}
    assert {t for t in only_old if t[1] not in modified} == set()
    assert set(only_new) == set()


def test_markdown_is_rendered_and_sanitised():
    html = richtext.to_html("## Titre\n\n- *un*\n- [lien](https://osons.cc)\n\n<script>x</script>")
    assert "<h2>Titre</h2>" in html and "<em>un</em>" in html
    assert '<a href="https://osons.cc" rel="noopener nofollow">lien</a>' in html
    assert "<script>" not in html


# -------------------------------------------------------------------------- the real app


@pytest.fixture
def app(tmp_path):
    small_data(tmp_path / "data")
    app = create_app(
        {"INSTANCE_DIR": str(tmp_path / "instance"), "DATA_DIR": str(tmp_path / "data")}
    )
    accounts = Accounts(tmp_path / "instance")
    accounts.add("camille", PASSWORD, "editor")
    accounts.add("lecteur", PASSWORD, "reader")
    return app


def hidden(response, name: str) -> str:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    return soup.select_one(f"input[name={name}]")["value"]


def csrf(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))[1]


def login(client, name="camille", password=PASSWORD, next_url="/fiches/nouvelle"):
    page = client.get("/connexion")
    return client.post(
        "/connexion",
        data={"csrf_token": csrf(page), "name": name, "password": password, "next": next_url},
    )


def filled(token: str, **changes) -> dict:
    data = {
        "csrf_token": token,
        "Fiche-titre": "Atelier de test des formulaires",
        "Fiche-description": "Un **récit** de l'atelier.\n\n- premier temps\n- second temps",
        "Action-nature": [f"{VOCAB}nature/formation", f"{VOCAB}nature/conference"],
        "Action-participants": [f"{VOCAB}participants/16-30"],
        "Action-duree": [f"{VOCAB}duree/journee"],
        "Action-statut": f"{VOCAB}statut/terminee",
        "Action-reussite": f"{VOCAB}reussite/encourageant",
        "Action-annees": "2019, 2020",
        "Fiche-documentation": "https://osons.cc/doc",
        "Fiche-auteurs-0-Agent-nom": "Camille Martin",
        "Fiche-auteurs-0-Agent-type": "http://xmlns.com/foaf/0.1/Person",
        "Fiche-auteurs-1-Agent-nom": "Coopaxis",
        "Fiche-auteurs-1-Agent-type": "http://xmlns.com/foaf/0.1/Organization",
        "Fiche-licence": "http://creativecommons.org/licenses/by-sa/4.0/",
    }
    data.update(changes)
    return data


def field_messages(response) -> dict[str, str]:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    return {
        div["id"].removeprefix("champ-"): div.select_one(".message.error").get_text(" ", strip=True)
        for div in soup.select("div.field.invalid")
    }


#: An image and a contributor, as the form's rows post them.
ROWS = {
    "Fiche-images-0-Image-fichier": "fresque.jpg",
    "Fiche-images-0-Image-legende": "La fresque au mur",
    "Action-contributeurs-0-Agent-nom": "Dominique Roux",
}


def test_the_form_asks_to_log_in(app):
    client = app.test_client()
    response = client.get("/fiches/nouvelle")
    assert response.status_code == 303 and "/connexion" in response.headers["Location"]


def test_round_trip(app):
    client = app.test_client()
    assert login(client).status_code == 303
    page = client.get("/fiches/nouvelle")
    assert page.status_code == 200
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    assert soup.select_one("#Action-annees")["inputmode"] == "numeric"
    assert soup.select_one("label[for=Fiche-titre] .required")

    bad = client.post(
        "/fiches/nouvelle", data=filled(csrf(page), **{"Action-annees": "2019, 20x9"})
    )
    assert bad.status_code == 422
    assert list(field_messages(bad)) == ["Action-annees"]
    assert "quatre chiffres" in field_messages(bad)["Action-annees"]
    soup = BeautifulSoup(bad.get_data(as_text=True), "html.parser")
    assert soup.select_one("#Fiche-titre")["value"] == "Atelier de test des formulaires"
    assert soup.select_one("#Action-annees")["value"] == "2019, 20x9"
    assert "premier temps" in soup.select_one("#Fiche-description").get_text()
    checked = {i["value"] for i in soup.select("input[name=Action-nature][checked]")}
    assert checked == {f"{VOCAB}nature/formation", f"{VOCAB}nature/conference"}
    assert soup.select_one("input[name=Fiche-auteurs-1-Agent-nom]")["value"] == "Coopaxis"

    good = client.post("/fiches/nouvelle", data=filled(csrf(bad)))
    assert good.status_code == 303
    tag = "AtelierDeTestDesFormulaires"
    assert good.headers["Location"].startswith(f"/fiche/{tag}/modifier")
    store = app.extensions["store"]
    (revision,) = history.revisions(store, tag)
    assert (revision.agent, revision.kind) == ("camille", "create")
    fiche = IRIS.fiche(tag)
    triples = {
        (q.subject.value, q.predicate.value, q.object.value) for q in store.graph_quads(str(fiche))
    }
    assert (
        str(fiche),
        str(SCHEMA.articleBody),
        "<p>Un <strong>récit</strong> de l'atelier.</p>\n"
        "<ul>\n<li>premier temps</li>\n<li>second temps</li>\n</ul>\n",
    ) in triples
    assert (str(IRIS.action(tag)), str(DCTERMS.temporal), "2020") in triples
    assert (
        str(IRIS.agent("coopaxis")),
        str(RDF.type),
        "http://xmlns.com/foaf/0.1/Organization",
    ) in triples

    edit = client.get(good.headers["Location"])
    assert "La fiche a été enregistrée" in edit.get_data(as_text=True)
    changed = client.post(
        f"/fiche/{tag}/modifier",
        data=filled(csrf(edit), etag=history.etag(store, tag), **{"Fiche-titre": "Nouveau titre"}),
    )
    assert changed.status_code == 303
    assert [r.number for r in history.revisions(store, tag)] == [1, 2]


def test_warnings_are_shown_and_do_not_block(app):
    client = app.test_client()
    login(client)
    page = client.get("/fiches/nouvelle")
    response = client.post(
        "/fiches/nouvelle", data=filled(csrf(page), **{"Action-duree": [], "Action-statut": ""})
    )
    assert response.status_code == 303
    saved = client.get(response.headers["Location"])
    soup = BeautifulSoup(saved.get_data(as_text=True), "html.parser")
    warnings = {
        d["id"].removeprefix("champ-") for d in soup.select("div.field") if d.select(".warning")
    }
    assert warnings == {"Action-duree", "Action-statut"}


def test_nothing_typed_is_lost_when_the_login_expires(app):
    client = app.test_client()
    login(client)
    page = client.get("/fiches/nouvelle")
    client.delete_cookie("session")  # the login expired while typing
    response = client.post("/fiches/nouvelle", data=filled(csrf(page), **ROWS))
    assert response.status_code == 303 and "/connexion" in response.headers["Location"]
    assert login(client, next_url="/fiches/nouvelle").status_code == 303
    restored = client.get("/fiches/nouvelle")
    text = restored.get_data(as_text=True)
    assert "Votre saisie a été conservée" in text
    soup = BeautifulSoup(text, "html.parser")
    assert soup.select_one("#Fiche-titre")["value"] == "Atelier de test des formulaires"
    assert soup.select_one("#Action-annees")["value"] == "2019, 2020"
    for name, value in ROWS.items():  # the rows too: images and contributors
        assert soup.select_one(f"input[name={name}]")["value"] == value
    # and it is saved once posted again
    assert client.post("/fiches/nouvelle", data=filled(csrf(restored))).status_code == 303


def test_a_post_without_the_csrf_token_writes_nothing(app):
    client = app.test_client()
    login(client)
    before = app.extensions["store"].version
    response = client.post("/fiches/nouvelle", data=filled("jeton-faux"))
    assert response.status_code == 303 and "/connexion" in response.headers["Location"]
    assert app.extensions["store"].version == before


def test_a_reader_keeps_the_values_but_writes_nothing(app):
    client = app.test_client()
    login(client, name="lecteur")
    page = client.get("/fiches/nouvelle")
    response = client.post("/fiches/nouvelle", data=filled(csrf(page)))
    assert response.status_code == 403
    assert "Atelier de test des formulaires" in response.get_data(as_text=True)


def test_two_editors_in_the_form(app):
    tag = TAGS[0]
    store = app.extensions["store"]
    first, second = app.test_client(), app.test_client()
    pages = []
    for client in (first, second):
        login(client, next_url=f"/fiche/{tag}/modifier")
        pages.append(client.get(f"/fiche/{tag}/modifier"))
    data = [
        {
            k: v
            for k, v in (
                formdata.values_from_graph(forms.default_model(), seed_fiche(tag), IRIS, tag)
            ).items()
        }
        for _ in pages
    ]
    for d, page, title in zip(data, pages, ("Version une", "Version deux"), strict=True):
        d.update(
            csrf_token=csrf(page),
            etag=hidden(page, "etag"),
        )
        d["Fiche-titre"] = [title]
    assert first.post(f"/fiche/{tag}/modifier", data=data[0]).status_code == 303
    late = second.post(f"/fiche/{tag}/modifier", data=data[1])
    assert late.status_code == 409
    text = late.get_data(as_text=True)
    assert "Quelqu'un a modifié cette fiche" in text and "Version deux" in text
    assert len(history.revisions(store, tag)) == 2


def test_retire_from_the_form(app):
    tag = TAGS[1]
    client = app.test_client()
    login(client)
    page = client.get(f"/fiche/{tag}/modifier")
    etag = hidden(page, "etag")
    response = client.post(
        f"/fiche/{tag}/retirer", data={"csrf_token": csrf(page), "etag": etag, "raison": "Doublon"}
    )
    assert response.status_code == 303
    assert client.get(f"/fiche/{tag}", headers={"Accept": "text/html"}).status_code == 410
    assert client.get(f"/fiche/{tag}/modifier").status_code == 410


def test_login_rate_limit(app):
    client = app.test_client()
    for _ in range(5):
        assert login(client, password="mauvais mot de passe").status_code == 200
    blocked = login(client)  # even the right password, for a while
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0


def test_session_cookie_flags(app):
    client = app.test_client()
    response = login(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_secure_cookie_on_https(tmp_path):
    small_data(tmp_path / "data")
    app = create_app(
        {
            "INSTANCE_DIR": str(tmp_path / "instance"),
            "DATA_DIR": str(tmp_path / "data"),
            "BASE_URL": "https://memoires.example.org/",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0


def test_history_pages(app):
    tag = TAGS[0]
    client = app.test_client()
    page = client.get(f"/fiche/{tag}/history", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Révision 1" in page.get_data(as_text=True)
    rdf = Graph().parse(data=client.get(f"/fiche/{tag}/history.ttl").get_data(as_text=True))
    revision = URIRef(f"{DEFAULT_BASE}fiche/{tag}/revision/1")
    assert (revision, URIRef("http://schema.org/version"), Literal(1)) in rdf
    one = client.get(f"/fiche/{tag}/revision/1", headers={"Accept": "text/turtle"})
    assert one.status_code == 200
    assert client.get(f"/fiche/{tag}/revision/9").status_code == 404
    assert client.get("/fiche/Inconnue/history").status_code == 404


def test_plain_text_of_a_markdown_description():
    text = richtext.to_text("Une **fresque** du climat.\n\n- un\n- [deux](https://osons.cc)")
    assert text == "Une fresque du climat.\n\n- un\n- deux"


def test_stored_descriptions_come_back_as_markdown_that_renders_the_same():
    """Editing an imported fiche's text keeps its headings, lists, links and figures."""
    checked = 0
    for path in sorted((SEED / "rdf" / "fiches").glob("*.ttl")):
        for html in seed_fiche(path.stem).objects(None, SCHEMA.articleBody):
            again = richtext.to_html(richtext.from_html(str(html)))
            assert "".join(again.split()) == "".join(str(html).split()), path.stem
            checked += 1
    assert checked >= 30


JARGON = re.compile(r"\b(xsd|sh|shapes|foaf|rdf|rdfs|schema|pair|mld|dct|skos):|SHACL|IRI")


def test_the_messages_for_people_say_what_to_type():
    """No xsd:gYear, no shape IRIs, no SHACL words in what a person reads next to a field."""
    shapes = validation.load_shapes()
    model = forms.default_model("fr")
    for f in model.fields + [part for field in model.fields for part in field.parts]:
        for text in (f.label, f.help, *(str(m) for m in shapes.objects(f.shape, SH.message))):
            assert not JARGON.search(text), (f.name, text)
    messages = {str(m) for m in shapes.objects(SHAPES_NS["Action-annees"], SH.message)}
    assert any("par ex. 2019" in m for m in messages)


def test_images_and_contributors(app):
    client = app.test_client()
    login(client)
    page = client.get("/fiches/nouvelle")
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    assert soup.select_one("input[name=Fiche-images-0-Image-fichier]") is not None
    assert soup.select_one("input[name=Fiche-images-1-Image-legende]") is not None
    assert soup.select("input[name=Action-contributeurs-0-Agent-type]")
    # the credit is filled by the server: never marked required
    assert soup.select_one("label[for=Fiche-credit]") is not None
    assert soup.select_one("label[for=Fiche-credit] .required") is None
    assert soup.select_one("#Fiche-credit").get("required") is None

    response = client.post("/fiches/nouvelle", data=filled(csrf(page), **ROWS))
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    tag = "AtelierDeTestDesFormulaires"
    graph = Graph().parse(
        data=client.get(f"/fiche/{tag}", headers={"Accept": "text/turtle"}).data, format="turtle"
    )
    image, action = IRIS.image(tag, 1), IRIS.action(tag)
    assert (IRIS.fiche(tag), SCHEMA.image, image) in graph
    assert (image, SCHEMA.name, Literal("fresque.jpg")) in graph
    assert (image, SCHEMA.caption, Literal("La fresque au mur", lang="fr")) in graph
    dominique = IRIS.agent("dominique-roux")
    assert (action, PAIR.involves, dominique) in graph
    assert (dominique, FOAF.name, Literal("Dominique Roux")) in graph
    assert (IRIS.fiche(tag), SCHEMA.creditText, Literal("Camille Martin, Coopaxis")) in graph

    # the edit form shows them, and a second image is added after the first
    edit = client.get(f"/fiche/{tag}/modifier")
    soup = BeautifulSoup(edit.get_data(as_text=True), "html.parser")
    for name, value in ROWS.items():
        assert soup.select_one(f"input[name={name}]")["value"] == value
    values = {i["name"]: i.get("value", "") for i in soup.select("form input[type=text]")}
    values |= {"Fiche-images-1-Image-fichier": "affiche.png"}
    data = filled(csrf(edit), etag=history.etag(app.extensions["store"], tag), **ROWS)
    data |= {k: v for k, v in values.items() if k.startswith("Fiche-images-")}
    changed = client.post(f"/fiche/{tag}/modifier", data=data)
    assert changed.status_code == 303, changed.get_data(as_text=True)[:3000]
    graph = Graph().parse(
        data=client.get(f"/fiche/{tag}", headers={"Accept": "text/turtle"}).data, format="turtle"
    )
    assert (IRIS.image(tag, 2), SCHEMA.name, Literal("affiche.png")) in graph
    assert (IRIS.image(tag, 1), SCHEMA.name, Literal("fresque.jpg")) in graph
