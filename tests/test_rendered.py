"""Fiches' representations made in advance (web/rendered.py): the same bytes and headers as
a rendering per request, never an older revision's, one file per data/ and code."""

from __future__ import annotations

import json
import sqlite3
import time
import zlib

import pytest
from bs4 import BeautifulSoup
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS
from servers import Server
from writes_fixtures import TAGS, retitled, seed_fiche, small_data

from memoires_ld import config
from memoires_ld.web import create_app, rendered
from memoires_ld.writes import replace_fiche, retire_fiche

TAG = TAGS[0]
ASKED = [
    ("text/turtle", "fr"),
    ("text/html", "fr"),
    ("text/html", "en"),
    ("application/ld+json", "en"),
    ("application/n-triples", "fr"),  # not made in advance: rendered per request
    ("text/html;q=0.9, text/turtle", "de"),
]


@pytest.fixture
def settings(tmp_path):
    small_data(tmp_path / "data")
    return config.load(
        {"INSTANCE_DIR": str(tmp_path / "instance"), "DATA_DIR": str(tmp_path / "data")}
    )


@pytest.fixture
def app(settings):
    app = create_app(settings)
    assert rendered.make(settings) == len(TAGS) * len(rendered.VARIANTS)
    return app


def get(app, path, accept="text/turtle", lang="fr", **headers):
    headers = {"Accept": accept, "Accept-Language": lang, **headers}
    return app.test_client().get(path, headers=headers)


def rows(settings) -> dict:
    with sqlite3.connect(rendered.path_for(settings)) as db:
        found = db.execute("SELECT tag, variant, state, body FROM rendered")
        return {(tag, variant): (state, body) for tag, variant, state, body in found}


def tamper(settings, tag, variant, body: bytes) -> None:
    """Change a made row's body, to tell an answer made in advance from a rendered one."""
    with sqlite3.connect(rendered.path_for(settings)) as db:
        db.execute(
            "UPDATE rendered SET body = ? WHERE tag = ? AND variant = ?",
            (zlib.compress(body), tag, variant),
        )


def test_made_answers_are_byte_for_byte_the_rendered_ones(app, settings):
    per_request = create_app(settings | {"RENDERED_PAGES": False})
    for tag in TAGS:
        for accept, lang in ASKED:
            made, fresh = (
                get(app, f"/fiche/{tag}", accept, lang),
                get(per_request, f"/fiche/{tag}", accept, lang),
            )
            assert made.status_code == fresh.status_code == 200
            assert made.data == fresh.data, (tag, accept, lang)
            assert dict(made.headers) == dict(fresh.headers), (tag, accept, lang)


def test_the_route_answers_from_the_made_row(app, settings):
    tamper(settings, TAG, "turtle:", b"# made in advance\n")
    tamper(settings, TAG, "html:en", b"<p>made in advance</p>")
    assert get(app, f"/fiche/{TAG}").data == b"# made in advance\n"
    assert get(app, f"/fiche/{TAG}.ttl").data == b"# made in advance\n"
    assert get(app, f"/fiche/{TAG}", "text/html", "en").data == b"<p>made in advance</p>"
    assert get(app, f"/fiche/{TAG}?lang=en", "text/html").data == b"<p>made in advance</p>"
    # other arguments show in the page (its language links): rendered for the request
    page = get(app, f"/fiche/{TAG}?format=html&lang=en", "*/*")
    assert b"made in advance" not in page.data
    assert BeautifulSoup(page.data, "html.parser").select_one('a[hreflang="fr"]')["href"] == (
        "?format=html&lang=fr"
    )
    assert get(app, f"/fiche/{TAG}?format=turtle", "*/*").data.startswith(b"@prefix")
    # the other formats are not made in advance
    assert get(app, f"/fiche/{TAG}", "application/n-triples").data.startswith(b"<")
    # 304 from the made row's state
    etag = get(app, f"/fiche/{TAG}").headers["ETag"]
    assert get(app, f"/fiche/{TAG}", **{"If-None-Match": etag}).status_code == 304


def test_a_write_is_never_answered_from_the_older_revision(app, settings):
    store = app.extensions["store"]
    before = get(app, f"/fiche/{TAG}")
    tamper(settings, TAG, "turtle:", b"# made in advance\n")
    replace_fiche(store, retitled(seed_fiche(TAG), TAG, "Titre neuf"), agent="robot")
    after = get(app, f"/fiche/{TAG}")
    assert after.headers["ETag"] != before.headers["ETag"]
    assert "Titre neuf" in after.data.decode()
    # the publisher's next look makes this fiche's four again, and nothing else
    assert rendered.make(settings) == len(rendered.VARIANTS)
    made = rows(settings)
    assert "Titre neuf" in zlib.decompress(made[(TAG, "turtle:")][1]).decode()
    assert get(app, f"/fiche/{TAG}").data == after.data
    page = get(app, f"/fiche/{TAG}", "text/html")
    assert BeautifulSoup(page.data, "html.parser").h1.get_text(strip=True) == "Titre neuf"
    document = json.loads(get(app, f"/fiche/{TAG}.jsonld").data)
    assert "Titre neuf" in json.dumps(document, ensure_ascii=False)


def test_a_retired_fiche_is_gone_and_its_rows_too(app, settings):
    retire_fiche(app.extensions["store"], TAG, agent="robot", reason="doublon")
    for accept, lang in ASKED:
        assert get(app, f"/fiche/{TAG}", accept, lang).status_code == 410
    assert rendered.make(settings) == 0
    assert {tag for tag, _ in rows(settings)} == set(TAGS) - {TAG}


def test_one_file_per_data_base_and_code(app, settings, tmp_path):
    path = rendered.path_for(settings)
    assert path.parent == (tmp_path / "instance").resolve()
    assert rendered.path_for(settings | {"BASE_URL": "https://example.org/osons/"}) != path
    assert rendered.path_for(settings | {"RENDERED_PAGES": False}) is None
    assert rendered.path_for(settings | {"STORE": "sparql+http://127.0.0.1:1/sparql"}) is None
    stale = path.with_name("rendered-0123456789abcdef.sqlite")
    stale.write_bytes(b"")
    rendered.make(settings)
    assert not stale.exists() and path.exists()


def test_the_server_makes_them_in_the_background(tmp_path):
    """The server's file, whatever its name: the server may import the package from another
    place than this test does (the source tree, an installed copy), and the name follows
    the code it imported."""
    data = small_data(tmp_path / "data")
    server = Server(tmp_path / "instance", data).start()
    try:
        server.wait_ready()
        deadline, made = time.monotonic() + 180, {}
        while time.monotonic() < deadline and len(made) < len(TAGS) * 4:  # niced
            time.sleep(0.2)
            files = list(server.instance.glob("rendered-*.sqlite"))
            made = _made(files[0]) if len(files) == 1 else {}
        assert len(made) == len(TAGS) * len(rendered.VARIANTS)
        status, _, body = server.get(f"/fiche/{TAG}")
        assert status == 200
        assert body == zlib.decompress(made[(TAG, "turtle:")])
        fiche = URIRef(f"{server.base}fiche/{TAG}")
        assert (fiche, DCTERMS.title, None) in Graph().parse(data=body, format="turtle")
    finally:
        server.stop()


def _made(path) -> dict:
    if not path.exists():
        return {}
    try:
        with sqlite3.connect(path) as db:
            return {(t, v): b for t, v, b in db.execute("SELECT tag, variant, body FROM rendered")}
    except sqlite3.OperationalError:  # not created yet
        return {}


def test_passes_say_when_they_are_done(settings):
    create_app(settings)
    assert rendered.make(settings, passes=("pages",)) == len(TAGS) * 3
    with sqlite3.connect(rendered.path_for(settings)) as db:
        assert db.execute("SELECT pass FROM made").fetchall() == [("pages",)]
    assert rendered.make(settings) == len(TAGS)  # the JSON-LD pass: one more each
    with sqlite3.connect(rendered.path_for(settings)) as db:
        assert sorted(db.execute("SELECT pass FROM made").fetchall()) == [("jsonld",), ("pages",)]
