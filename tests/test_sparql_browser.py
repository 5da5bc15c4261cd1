"""The SPARQL editor in headless Chromium (Debian's; never `playwright install`).

YASGUI loads from the package, runs an example against our endpoint and shows its rows; its
completion offers our prefixes and our properties; and the page asks nothing of any other
site (every request the browser makes is recorded). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sparql_server import serve

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


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with serve(tmp_path_factory.mktemp("browser")) as live:
        yield live


@pytest.fixture
def page(server):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(locale="fr-FR", viewport={"width": 1280, "height": 1000})
        page.requested = []
        page.on("request", lambda request: page.requested.append(request.url))
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        yield page
        browser.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"sparql-{name}.png"), full_page=True)


def elsewhere(page, server) -> list[str]:
    return [url for url in page.requested if not url.startswith(server.base)]


def test_an_example_runs_in_the_editor_and_shows_its_rows(server, page):
    page.goto(server.base + "sparql/exemples/fiches-par-annee")
    page.locator(".yasr table tbody tr").first.wait_for(timeout=15000)
    rows = page.locator(".yasr table tbody tr")
    assert rows.count() == 5
    first = rows.first.locator("td").all_inner_texts()
    assert any("2014" in cell for cell in first) and any('"2"' in cell for cell in first)
    tab = page.locator(".tabPanel.active, .tab.active").first.inner_text()
    assert "Nombre d'actions par année" in tab
    shot(page, "1-example")
    assert any(url == server.endpoint for url in page.requested)  # the query went to us
    assert elsewhere(page, server) == [] and page.errors == []


def test_a_query_typed_with_completion_runs(server, page):
    page.goto(server.base + "sparql")
    page.locator(".CodeMirror").first.wait_for()
    page.evaluate("window.memoiresSparql.getTab().getYasqe().setValue('')")
    page.click(".CodeMirror-code")
    page.keyboard.type("PREFIX ml")
    hints = page.locator(".CodeMirror-hints li")
    hints.first.wait_for()
    assert hints.all_inner_texts() == ["mld: <https://w3id.org/memoires-ld/ns#>"]
    page.keyboard.press("Enter")
    page.keyboard.type("\nSELECT ?p WHERE { ?a mld:")
    page.keyboard.press("Control+Space")
    hints.first.wait_for()
    offered = hints.all_inner_texts()
    assert "mld:participants" in offered and "mld:documentation" in offered
    page.keyboard.press("Escape")
    page.keyboard.type("participants ?p }")
    query = page.evaluate("window.memoiresSparql.getTab().getYasqe().getValue()")
    assert query.startswith("PREFIX mld: <https://w3id.org/memoires-ld/ns#>")
    page.evaluate("window.memoiresSparql.getTab().query()")
    page.locator(".yasr table tbody tr").first.wait_for(timeout=15000)
    assert page.locator(".yasr table tbody tr").count() > 10
    shot(page, "2-typed")
    assert elsewhere(page, server) == [] and page.errors == []


def test_the_examples_page_links_open_and_answer(server, page):
    page.goto(server.base + "sparql/exemples")
    sections = page.locator("section.sparql-example")
    assert sections.count() >= 12
    csv_link = page.locator("#actions-annulees a.result[data-format='csv']")
    response = page.request.get(csv_link.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"].startswith("text/csv")
    page.locator("#actions-annulees a.open").click()
    page.locator(".yasr table tbody tr").first.wait_for(timeout=15000)
    assert page.locator(".yasr table tbody tr").count() == 6
    shot(page, "3-cancelled")
    assert elsewhere(page, server) == [] and page.errors == []
