"""A person adds a mémoire d'action in headless Chromium, against `memoires-ld serve`:
every field, an image and a contributor (rows of the form), a bad year and its message.

Debian's chromium (never `playwright install`); screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import shutil
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from servers import Server
from writes_fixtures import small_data

from memoires_ld.accounts import Accounts

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
PASSWORD = "un mot de passe sûr"
TITLE = "Atelier fresque du climat au tiers-lieu"


@pytest.fixture
def server(tmp_path):
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    data = small_data(tmp_path / "data")
    Accounts(tmp_path / "instance").add("camille", PASSWORD, "editor")
    running = Server(tmp_path / "instance", data).start()
    running.wait_ready()
    yield running
    running.stop()


@pytest.fixture
def page():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(locale="fr-FR", viewport={"width": 1100, "height": 900})
        yield page
        browser.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"form-{name}.png"), full_page=True)


def test_a_person_adds_a_memoire(server, page):
    base = server.base
    page.goto(base + "fiches/nouvelle")
    assert "/connexion" in page.url
    page.get_by_label("Nom du compte").fill("camille")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/fiches/nouvelle")

    page.get_by_label("Titre").fill(TITLE)
    page.get_by_label("Description").fill(
        "Nous avons animé une **fresque du climat** pour les habitant·es.\n\n"
        "- un temps d'atelier\n- un temps d'échange"
    )
    page.get_by_role("checkbox", name="Animation d'un temps collectif").check()
    page.get_by_role("checkbox", name="De 16 à 30").check()
    page.get_by_role("checkbox", name="Une demi-journée").check()
    page.get_by_role("radio", name="Terminée").check()
    page.get_by_role("radio", name="Belle réussite").check()
    page.get_by_label("Année(s) de mise en œuvre").fill("2O23")  # a letter O, not a zero
    authors, contributors = page.locator("#Fiche-auteurs"), page.locator("#Action-contributeurs")
    authors.get_by_label("Nom 1").fill("Camille Martin")
    contributors.get_by_label("Nom 1").fill("Association Les Tiers")
    contributors.get_by_role("radio", name="Organisation").first.check()
    images = page.locator("#Fiche-images")
    images.get_by_label("Fichier 1").fill("fresque-climat.jpg")
    images.get_by_label("Légende 1").fill("La fresque terminée")
    credit = page.locator("label[for=Fiche-credit]")
    assert credit.count() == 1 and credit.locator(".required").count() == 0
    page.get_by_role("radio", name="CC BY-SA 4.0").check()
    page.get_by_role("button", name="Enregistrer").click()

    message = page.locator("#champ-Action-annees .message.error")
    message.wait_for()
    assert "quatre chiffres" in message.inner_text()
    assert page.get_by_label("Titre").input_value() == TITLE
    assert page.get_by_role("checkbox", name="De 16 à 30").is_checked()
    assert authors.get_by_label("Nom 1").input_value() == "Camille Martin"
    assert contributors.get_by_label("Nom 1").input_value() == "Association Les Tiers"
    assert images.get_by_label("Fichier 1").input_value() == "fresque-climat.jpg"
    assert images.get_by_label("Légende 1").input_value() == "La fresque terminée"
    assert "xsd:" not in message.inner_text() and "shapes:" not in message.inner_text()
    assert "fresque du climat" in page.get_by_label("Description").input_value()
    shot(page, "1-bad-year")

    page.get_by_label("Année(s) de mise en œuvre").fill("2023")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("La fiche a été enregistrée").wait_for()
    shot(page, "2-saved")

    tag = "AtelierFresqueDuClimatAuTiersLieu"
    page.goto(base + "fiches")
    if page.get_by_text(TITLE).count():
        shot(page, "3-listing")
    else:  # the listing is not served by this build: the fiche's own page, then
        page.goto(base + f"fiche/{tag}")
        assert page.get_by_text(TITLE).count(), page.content()[:2000]
        shot(page, "3-fiche")
    assert TITLE in page.content()

    query = f"""PREFIX schema: <http://schema.org/>
    PREFIX pair: <http://virtual-assembly.org/ontologies/pair#>
    PREFIX foaf: <http://xmlns.com/foaf/0.1/>
    ASK {{ <{base}fiche/{tag}> <http://purl.org/dc/terms/title> "{TITLE}"@fr ;
             schema:image [ schema:name "fresque-climat.jpg" ;
                            schema:caption "La fresque terminée"@fr ] ;
             schema:mainEntity [ pair:involves [ a foaf:Organization ;
                                                 foaf:name "Association Les Tiers" ] ] }}"""
    url = base + "sparql?" + urllib.parse.urlencode({"query": query})
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.load(response)["boolean"] is True
    except urllib.error.HTTPError as error:
        assert error.code == 404  # no SPARQL endpoint in this build: the fiche in Turtle
        status, _, body = server.get(f"/fiche/{tag}.ttl")
        assert status == 200 and TITLE.encode() in body
