"""HTTP semantics of the resources: negotiation on real Accept headers, validators and 304,
HEAD, CORS on every answer, cache policy, and clean 4xx for bad input (never a 500)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from web_fixtures import BROWSER, IRIS, SEED, make_app, path, soup
from werkzeug.http import parse_date

from memoires_ld import datadir, history, writes
from memoires_ld.store import open_store
from memoires_ld.web import http
from memoires_ld.web.negotiation import RDF_FORMATS

TAG = "CitykartParcoursDeRemobilisation1625AA"
FICHE = path(IRIS.fiche(TAG))


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("http"))


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (BROWSER["firefox"], "text/html"),
        (BROWSER["chrome"], "text/html"),
        (BROWSER["safari"], "text/html"),
        ("*/*", "text/turtle"),  # curl
        (None, "text/turtle"),
        ("text/turtle;q=0.9, application/ld+json", "application/ld+json"),
        ("application/ld+json;q=0.5, text/turtle;q=0.8", "text/turtle"),
        ("application/rdf+xml", "application/rdf+xml"),
        ("application/n-triples", "application/n-triples"),
        ("application/json", "application/ld+json"),
        ("text/*", "text/html"),
        ("text/html;q=0, text/turtle", "text/turtle"),
    ],
)
def test_accept_headers_seen_in_the_wild(client, accept, media_type):
    headers = {"Accept": accept} if accept else {}
    response = client.get(FICHE, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == media_type


def test_an_unavailable_type_is_406_listing_the_available_ones(client):
    response = client.get(FICHE, headers={"Accept": "image/png"})
    assert response.status_code == 406
    body = json.loads(response.data)
    assert set(body["available"]) >= {f.media_type for f in RDF_FORMATS} | {"text/html"}
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("query", "status"),
    [("format=xyz", 406), ("format=text/plain;q=1", 406), ("format=TTL", 200), ("format=", 200)],
)
def test_the_format_parameter(client, query, status):
    response = client.get(f"{FICHE}?{query}", headers={"Accept": "text/turtle"})
    assert response.status_code == status


def test_negotiated_answers_say_where_the_chosen_representation_lives(client):
    response = client.get(FICHE, headers={"Accept": "text/turtle"})
    assert response.headers["Content-Location"] == f"{IRIS.fiche(TAG)}.ttl"
    assert "Accept" in response.vary
    assert "Accept-Language" in client.get(FICHE, headers={"Accept": "text/html"}).vary
    links = response.headers["Link"]
    for fmt in RDF_FORMATS:
        assert (
            f'<{IRIS.fiche(TAG)}.{fmt.suffix}>; rel="alternate"; type="{fmt.media_type}"' in links
        )
    assert f'<{IRIS.fiche(TAG)}>; rel="canonical"' in links
    assert f'<{IRIS.shapes()}>; rel="describedby"' in links


def test_a_suffixed_url_does_not_vary_on_accept(client):
    response = client.get(f"{FICHE}.ttl", headers={"Accept": "text/html"})
    assert response.mimetype == "text/turtle"
    assert "Accept" not in response.vary


def test_html_lists_its_rdf_twins(client):
    page = soup(client.get(FICHE, headers={"Accept": BROWSER["firefox"]}))
    twins = {link["type"]: link["href"] for link in page.find_all("link", rel="alternate")}
    assert twins == {f.media_type: f"{IRIS.fiche(TAG)}.{f.suffix}" for f in RDF_FORMATS}
    assert page.find("link", rel="canonical")["href"] == str(IRIS.fiche(TAG))


def test_etag_and_last_modified_then_304(client):
    first = client.get(FICHE, headers={"Accept": "text/turtle"})
    tag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert tag.startswith('"') and not tag.startswith("W/")
    again = client.get(FICHE, headers={"Accept": "text/turtle", "If-None-Match": tag})
    assert again.status_code == 304
    assert again.data == b""
    for header in ("ETag", "Content-Location", "Cache-Control", "Access-Control-Allow-Origin"):
        assert again.headers[header] == first.headers[header]
    assert "Accept" in again.vary
    weak = client.get(FICHE, headers={"Accept": "text/turtle", "If-None-Match": "W/" + tag})
    assert weak.status_code == 304  # If-None-Match uses the weak comparison
    since = client.get(FICHE, headers={"Accept": "text/turtle", "If-Modified-Since": modified})
    assert since.status_code == 304
    earlier = (parse_date(modified) - timedelta(seconds=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    stale = client.get(FICHE, headers={"Accept": "text/turtle", "If-Modified-Since": earlier})
    assert stale.status_code == 200


def test_if_none_match_wins_over_if_modified_since(client):
    first = client.get(FICHE, headers={"Accept": "text/turtle"})
    headers = {
        "Accept": "text/turtle",
        "If-None-Match": '"something-else"',
        "If-Modified-Since": first.headers["Last-Modified"],
    }
    assert client.get(FICHE, headers=headers).status_code == 200


def test_each_representation_has_its_own_tag_but_the_state_is_the_fiches(app, client):
    tags = {
        client.get(FICHE, headers={"Accept": f.media_type}).headers["ETag"] for f in RDF_FORMATS
    }
    tags.add(client.get(FICHE, headers={"Accept": "text/html"}).headers["ETag"])
    tags.add(client.get(FICHE + "?lang=en", headers={"Accept": "text/html"}).headers["ETag"])
    assert len(tags) == len(RDF_FORMATS) + 2
    state = history.state(app.extensions["store"], TAG)
    assert {t.strip('"').split("-", 1)[0] for t in tags} == {state}  # what If-Match compares


def test_a_tag_of_another_format_is_not_a_304(client):
    turtle = client.get(FICHE, headers={"Accept": "text/turtle"}).headers["ETag"]
    response = client.get(FICHE, headers={"Accept": "text/html", "If-None-Match": turtle})
    assert response.status_code == 200


def test_last_modified_is_the_fiches_latest_write_never_in_the_future(app, client):
    store = app.extensions["store"]
    written = history.revisions(store, TAG)[-1].at
    response = client.get(FICHE, headers={"Accept": "text/turtle"})
    assert parse_date(response.headers["Last-Modified"]) == written.replace(microsecond=0)
    assert http._clamp(datetime(2999, 1, 1, tzinfo=UTC)) <= datetime.now(UTC)


@pytest.mark.parametrize(
    "url",
    [
        FICHE,
        path(IRIS.agent("romain-lalande")),
        path(IRIS.concept_page("nature", "formation")),
        path(IRIS.ontology()),
        path(IRIS.shapes()),
        "/",
    ],
)
def test_head_has_the_headers_of_get_and_no_body(client, url):
    get = client.get(url, headers={"Accept": BROWSER["chrome"]})
    head = client.head(url, headers={"Accept": BROWSER["chrome"]})
    assert head.status_code == get.status_code == 200
    assert head.data == b""
    for header in ("Content-Type", "ETag", "Content-Length", "Cache-Control"):
        assert head.headers.get(header) == get.headers.get(header)


@pytest.mark.parametrize(
    ("url", "headers", "status"),
    [
        (FICHE, {"Accept": "text/turtle"}, 200),
        ("/fiche/Nope", {"Accept": "text/html"}, 404),
        ("/nowhere", {}, 404),
        (FICHE, {"Accept": "image/png"}, 406),
        ("/" + "x" * 5000, {}, 414),
        ("/context.jsonld", {}, 200),
        ("/", {"Accept": "text/turtle"}, 406),
    ],
)
def test_cors_on_every_answer(client, url, headers, status):
    response = client.get(url, headers=headers)
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"ETag", "Link", "Location", "Content-Location"} <= exposed


def test_cors_preflight(client):
    response = client.options(
        FICHE,
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in response.headers["Access-Control-Allow-Headers"]


def test_cache_policy(client):
    assert client.get(FICHE).headers["Cache-Control"] == http.RESOURCE_CACHE
    assert client.get("/fiche/Nope").headers["Cache-Control"] == "no-cache"
    versioned = client.get("/context/0.1.0.jsonld").headers["Cache-Control"]
    assert "immutable" in versioned and "max-age=31536000" in versioned


@pytest.mark.parametrize(
    "url",
    [
        "/fiche/..%2F..",
        "/fiche/../../etc/passwd",
        "/fiche/%2e%2e",
        "/fiche/%C3%89l%C3%A9phant",
        "/fiche/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/fiche/%00",
        "/fiche/X.xyz",
        "/fiche/.ttl",
        "/agent/%3Cscript%3E",
        "/account/%F0%9F%98%80",
        "/vocab/karaoke",
        "/vocab/nature/karaoke",
        "/vocab/karaoke/formation",
        "/vocab/nature/formation/extra",
        "/ns/9.9.9",
        "/context/9.9.9.jsonld",
        "/context/0.1.0.json",
        "/import/nope",
        "/" + "é" * 3000,
    ],
)
@pytest.mark.parametrize("accept", ["text/html", "application/ld+json", "text/turtle", "*/*"])
def test_bad_input_is_a_clean_4xx_in_the_negotiated_format(client, url, accept):
    response = client.get(url, headers={"Accept": accept})
    assert 400 <= response.status_code < 500, (url, response.status_code)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    if accept == "text/html":
        page = soup(response)
        assert page.find("h1") is not None
        assert page.find("script", string=lambda s: s and "alert" in s) is None
    elif accept == "application/ld+json":
        assert json.loads(response.data)["status"] == response.status_code
    elif accept == "text/turtle" and response.mimetype == "text/turtle":
        from rdflib import Graph

        assert len(Graph().parse(data=response.data, format="turtle")) == 4


def test_an_unknown_suffix_on_a_document_is_406(client):
    assert client.get("/ns.xyz").status_code == 406
    assert client.get("/shapes.pdf").status_code == 406


def test_the_error_of_a_suffixed_url_is_in_that_format(client):
    response = client.get("/fiche/Nope.ttl", headers={"Accept": BROWSER["firefox"]})
    assert response.status_code == 404
    assert response.mimetype == "text/turtle"
    assert "Nope" in response.get_data(as_text=True)


def test_a_retired_fiche_is_410_gone(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SEED / datadir.RDF_DIR, data / datadir.RDF_DIR)
    store = open_store(tmp_path / "instance", data, IRIS.base, writable=True)
    writes.retire_fiche(store, TAG, agent="test", reason="doublon")
    del store
    client = make_app(tmp_path, data).test_client()
    response = client.get(FICHE, headers={"Accept": "application/ld+json"})
    assert response.status_code == 410
    assert response.mimetype == "application/ld+json"  # its tombstone (web/revisions.py)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
