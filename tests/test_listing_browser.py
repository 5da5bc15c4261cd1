"""A reader browses the seed in headless Chromium: home, a fiche, the listing, a facet.

The real app is served by werkzeug's WSGI server in a thread on 127.0.0.1; Debian's
chromium is driven by Playwright (never `playwright install`); screenshots go to
test-artifacts/.
"""

from __future__ import annotations

import shutil
import socket
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from memoires_ld.web import create_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
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


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The app on a free loopback port; its BASE_URL is that address."""
    tmp = tmp_path_factory.mktemp("browser")
    shutil.copytree(ROOT / "data/rdf", tmp / "data/rdf")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    app = create_app(
        {"INSTANCE_DIR": str(tmp / "instance"), "DATA_DIR": str(tmp / "data"), "BASE_URL": url}
    )
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, base):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    # Nothing but the app: a request elsewhere (a CDN, a font) fails the test.
    outside = []

    def only_the_app(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_app)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not outside, outside
    assert not errors, errors


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"listing-{name}.png"), full_page=True)


def results(page) -> int:
    return int(page.locator(".listing-count .nb-results").inner_text())


def test_home_a_fiche_and_the_listing(page, base):
    page.goto(base)
    assert page.locator("h1").first.is_visible()
    shot(page, "home")

    page.goto(base + "fiches")
    assert results(page) == 38
    assert page.locator("ol.fiches > li").count() == 20
    shot(page, "fiches")

    first = page.locator("ol.fiches h3 a").first
    title = first.inner_text()
    first.click()
    page.wait_for_load_state()
    assert page.url.startswith(base + "fiche/")
    assert title in page.locator("h1").first.inner_text()
    shot(page, "fiche")


def test_clicking_facets_changes_the_count(page, base):
    page.goto(base + "fiches")
    formation = page.locator('section[data-facet="nature"] a[data-value="formation"]')
    assert formation.locator(".count").inner_text() == "19"
    formation.click()
    page.wait_for_url("**/fiches?nature=formation")
    assert results(page) == 19
    assert page.locator(".active-filters a").first.inner_text().startswith("Nature")

    page.locator('section[data-facet="nature"] a[data-value="accompagnement"]').click()
    page.wait_for_load_state()
    both = results(page)
    assert 19 < both <= 29

    page.locator('section[data-facet="annee"] a[data-value="2017"]').click()
    page.wait_for_load_state()
    assert results(page) < both
    shot(page, "facets")

    page.fill("#q", "cooperation")
    page.locator(".listing-search button").click()
    page.wait_for_load_state()
    assert "q=cooperation" in page.url and "annee=2017" in page.url
    assert page.locator("ol.fiches mark").count() >= 1
    shot(page, "search")


def test_statistics_bars_lead_to_the_listing(page, base):
    page.goto(base + "statistiques")
    bar = page.locator("#chart-nature a").first
    expected = bar.get_attribute("aria-label").rsplit(":", 1)[1].split()[0]
    shot(page, "statistics")
    bar.click()
    page.wait_for_load_state()
    assert results(page) == int(expected)
