"""The change feed /changes (#6): ActivityStreams 2.0 and Atom pages of the fiches' history.

Three seed fiches are imported (three creations), then one is edited and one retired through
the write path; the feed must list the five changes in order, in both forms, paged, filtered
by `since`, with validators, and be advertised in the dataset description.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from pyld import jsonld
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS
from web_fixtures import BASE, BROWSER, make_app, path, soup
from writes_fixtures import TAGS, retitled, seed_fiche, small_data

from memoires_ld import changes, writes
from memoires_ld.iris import Iris
from memoires_ld.web import jsonld as ours

AS = "https://www.w3.org/ns/activitystreams#"
ATOM = "{http://www.w3.org/2005/Atom}"
AS2 = "application/activity+json"


@pytest.fixture(scope="module")
def app(tmp_path_factory, backend):
    """Two changes after the import, on each backend (the embedded store, a real Virtuoso)."""
    tmp = tmp_path_factory.mktemp("changes")
    app = make_app(tmp, small_data(tmp / "data"), backend)
    store = app.extensions["store"]
    edited = retitled(seed_fiche(TAGS[0], BASE), TAGS[0], "Cohésion d'équipe, revue", BASE)
    writes.replace_fiche(store, edited, agent="alice", reason="titre plus clair")
    writes.retire_fiche(store, TAGS[1], agent="alice", reason="doublon")
    return app


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def items(client, url: str = "/changes") -> list[dict]:
    """Every activity of the feed at `url`, following `first` then `next`."""
    collection = client.get(url, headers={"Accept": AS2}).get_json(force=True)
    found, page = [], collection["first"]
    while page:
        answer = client.get(path(page), headers={"Accept": AS2})
        assert answer.status_code == 200, answer.data
        document = answer.get_json(force=True)
        assert document["type"] == "OrderedCollectionPage"
        assert document["partOf"] == collection["id"]
        found += document["orderedItems"]
        page = document.get("next")
    return found


def test_the_collection_counts_every_change_and_links_its_pages(client):
    answer = client.get("/changes", headers={"Accept": AS2})
    assert answer.status_code == 200
    assert answer.mimetype == AS2
    document = answer.get_json(force=True)
    assert document["@context"] == "https://www.w3.org/ns/activitystreams"
    assert document["type"] == "OrderedCollection"
    assert document["totalItems"] == 5
    assert document["first"] == f"{BASE}changes?page=1" == document["last"]


def test_activities_are_in_order_with_their_fiche_and_revision(client):
    found = items(client)
    assert [a["type"] for a in found] == ["Create", "Create", "Create", "Update", "Delete"]
    published = [a["published"] for a in found]
    assert published == sorted(published)
    update, delete = found[3], found[4]
    assert update["object"]["id"] == f"{BASE}fiche/{TAGS[0]}"
    assert update["object"]["name"] == "Cohésion d'équipe, revue"
    assert update["id"] == f"{BASE}fiche/{TAGS[0]}/revision/2"
    assert update["actor"]["name"] == "alice" and update["summary"] == "titre plus clair"
    assert delete["object"] == {
        "id": f"{BASE}fiche/{TAGS[1]}",
        "type": "Tombstone",
        "name": str(
            seed_fiche(TAGS[1], BASE).value(URIRef(f"{BASE}fiche/{TAGS[1]}"), DCTERMS.title)
        ),
        "url": f"{BASE}fiche/{TAGS[1]}",
    }
    assert {a["actor"]["type"] for a in found[:3]} == {"Application"}  # the import


def test_the_feed_expands_with_the_shipped_activitystreams_context(client):
    """Valid JSON-LD: it expands with pyld, never fetching the AS2 context from the web."""
    page = client.get("/changes?page=1", headers={"Accept": AS2}).get_json(force=True)
    expanded = jsonld.expand(page, {"documentLoader": ours.loader(Iris(BASE))})
    nquads = jsonld.to_rdf(expanded, {"format": "application/n-quads"})
    graph = Graph().parse(data=nquads, format="nt")
    update = URIRef(f"{BASE}fiche/{TAGS[0]}/revision/2")
    assert (update, None, URIRef(AS + "Update")) in graph
    assert graph.value(update, URIRef(AS + "object")) == URIRef(f"{BASE}fiche/{TAGS[0]}")
    assert len(list(graph.objects(None, URIRef(AS + "items")))) == 1  # the ordered list
    with pytest.raises(jsonld.JsonLdError):  # nothing else is loaded
        jsonld.expand({"@context": "https://example.org/x", "a": 1})


def test_since_keeps_the_changes_strictly_after_a_moment(client):
    """A consumer resumes from the `published` time of the last change it saw."""
    everything = items(client)
    for seen in (2, 3):
        since = everything[seen]["published"].replace("+", "%2B")
        found = items(client, "/changes?since=" + since)
        assert [a["id"] for a in found] == [a["id"] for a in everything[seen + 1 :]]
    collection = client.get("/changes?since=" + since, headers={"Accept": AS2}).get_json()
    assert collection["totalItems"] == 1 and "since=" in collection["first"]
    assert items(client, "/changes?since=2999-01-01") == []
    assert len(items(client, "/changes?since=2000-01-01")) == 5


@pytest.mark.parametrize("since", ["hier", "2026-13-01", "1" * 200])
def test_a_malformed_since_is_a_400_naming_it(client, since):
    answer = client.get("/changes?since=" + since, headers={"Accept": AS2})
    assert answer.status_code == 400
    body = answer.get_json(force=True)
    assert body["error"] == "since-invalide" and "since" in body["message"]
    html = client.get("/changes?since=" + since, headers={"Accept": BROWSER["firefox"]})
    assert html.status_code == 400 and "ISO 8601" in soup(html).get_text()


def test_pages_follow_each_other(app, client, monkeypatch):
    monkeypatch.setattr(changes, "PAGE_SIZE", 2)
    collection = client.get("/changes", headers={"Accept": AS2}).get_json(force=True)
    assert collection["last"] == f"{BASE}changes?page=3"
    second = client.get("/changes?page=2", headers={"Accept": AS2}).get_json(force=True)
    assert second["prev"].endswith("page=1") and second["next"].endswith("page=3")
    assert second["startIndex"] == 2 and len(second["orderedItems"]) == 2
    assert [a["type"] for a in items(client)] == ["Create", "Create", "Create", "Update", "Delete"]
    for bad in ("0", "4", "deux"):
        answer = client.get("/changes?page=" + bad, headers={"Accept": AS2})
        assert answer.status_code == 400
        assert answer.get_json(force=True)["error"] == "page-invalide"


def test_atom_feed(client, monkeypatch):
    monkeypatch.setattr(changes, "PAGE_SIZE", 3)
    for answer in (
        client.get("/changes.atom"),
        client.get("/changes", headers={"Accept": "application/atom+xml"}),
    ):
        assert answer.status_code == 200 and answer.mimetype == "application/atom+xml"
        feed = ET.fromstring(answer.data)
        assert feed.tag == ATOM + "feed"
        entries = feed.findall(ATOM + "entry")
        assert {e.find(ATOM + "id").text for e in entries} == {
            f"{BASE}fiche/{tag}/revision/1" for tag in TAGS
        }
        links = {link.get("rel"): link.get("href") for link in feed.findall(ATOM + "link")}
        assert links["next"] == f"{BASE}changes.atom?page=2"
        assert links["last"] == f"{BASE}changes.atom?page=2"
    last = ET.fromstring(client.get("/changes.atom?page=2").data)
    rels = {link.get("rel"): link.get("href") for link in last.findall(ATOM + "link")}
    assert rels["previous"] == rels["first"] == f"{BASE}changes.atom?page=1"
    assert "next" not in rels and rels["self"] == f"{BASE}changes.atom?page=2"
    titles = [e.find(ATOM + "title").text for e in last.findall(ATOM + "entry")]
    assert titles[0] == "Modification : Cohésion d'équipe, revue"
    assert titles[1].startswith("Retrait : ")
    categories = [e.find(ATOM + "category").get("term") for e in last.findall(ATOM + "entry")]
    assert categories == ["Update", "Delete"]


def test_browsers_get_a_page_in_french_or_english(client):
    page = soup(client.get("/changes", headers={"Accept": BROWSER["chrome"]}))
    rows = page.select("ol.changes-list li")
    assert [li["data-activity"] for li in rows] == ["Create"] * 3 + ["Update", "Delete"]
    assert "modification de" in rows[3].get_text() and "révision 2" in rows[3].get_text()
    feeds = {link["type"] for link in page.select('link[rel="alternate"]')}
    assert {"application/activity+json", "application/atom+xml"} <= feeds
    english = soup(client.get("/changes?lang=en", headers={"Accept": BROWSER["chrome"]}))
    assert "updated" in english.select("ol.changes-list li")[3].get_text()
    french = client.get("/changes", headers={"Accept": BROWSER["chrome"]})
    asked = {"Accept": BROWSER["chrome"], "Accept-Language": "en"}
    answer = client.get("/changes", headers={**asked, "If-None-Match": french.headers["ETag"]})
    assert answer.status_code == 200 and "Accept-Language" in answer.headers["Vary"]
    assert "updated" in soup(answer).select("ol.changes-list li")[3].get_text()


def test_the_home_page_links_the_atom_feed(client):
    page = soup(client.get("/", headers={"Accept": BROWSER["firefox"]}))
    link = page.select_one('link[rel="alternate"][type="application/atom+xml"]')
    assert link is not None and link["href"] == f"{BASE}changes.atom"
    assert client.get(path(link["href"])).mimetype == "application/atom+xml"


def test_validators_cors_and_a_new_change(app, client):
    answer = client.get("/changes", headers={"Accept": AS2})
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.headers["Last-Modified"]
    etag = answer.headers["ETag"]
    again = client.get("/changes", headers={"Accept": AS2, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get("/changes.atom", headers={"If-None-Match": etag})
    assert other.status_code == 200  # another form, another tag
    store = app.extensions["store"]
    edited = retitled(seed_fiche(TAGS[2], BASE), TAGS[2], "Conseils citoyens, revu", BASE)
    writes.replace_fiche(store, edited, agent="alice")
    fresh = client.get("/changes", headers={"Accept": AS2, "If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.get_json(force=True)["totalItems"] == 6


def test_a_matching_etag_is_answered_without_reading_the_histories(client, monkeypatch):
    from memoires_ld.web import changes as web_changes

    tag = client.get("/changes?page=1", headers={"Accept": AS2}).headers["ETag"]
    monkeypatch.setattr(web_changes, "_cache", web_changes.OrderedDict())

    def unread(*args):
        raise AssertionError("the histories were read for a 304")

    monkeypatch.setattr(changes, "changes", unread)
    again = client.get("/changes?page=1", headers={"Accept": AS2, "If-None-Match": tag})
    assert again.status_code == 304 and again.headers["ETag"] == tag
    assert again.headers["Access-Control-Allow-Origin"] == "*"


def test_unknown_forms_are_406(client):
    assert client.get("/changes.ttl").status_code == 406
    assert client.get("/changes", headers={"Accept": "image/png"}).status_code == 406


def test_the_dataset_advertises_both_feeds(client):
    answer = client.get("/dataset", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=answer.data, format="turtle")
    feeds = {
        str(graph.value(node, DCAT.mediaType)): graph.value(node, DCAT.accessURL)
        for node in graph.objects(URIRef(f"{BASE}dataset"), DCAT.distribution)
        if (node, DCTERMS.conformsTo, None) in graph
    }
    iana = "https://www.iana.org/assignments/media-types/"
    assert feeds[iana + "application/activity+json"] == URIRef(f"{BASE}changes")
    assert feeds[iana + "application/atom+xml"] == URIRef(f"{BASE}changes.atom")


def test_the_feed_reads_the_same_revisions_as_the_history(app):
    """changes.py reads the histories with its own lean query: the same revisions, in order."""
    from dataclasses import replace

    from memoires_ld import history

    store = app.extensions["store"]
    whole = [replace(r, added=0, removed=0) for r in history.changes_since(store, changes.EPOCH)]
    whole.sort(key=lambda r: (r.at, r.number, r.iri))  # ties (one import, one time) by IRI
    assert [c.revision for c in changes.changes(store)] == whole
    after = whole[2].at
    assert [c.revision for c in changes.changes(store, after)] == [r for r in whole if r.at > after]
