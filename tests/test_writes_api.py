"""The write API, one test per status code, and two editors on one fiche."""

from __future__ import annotations

import json
import threading

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.namespace import DCTERMS, RDF, SH
from virtuoso_server import fresh
from writes_fixtures import TAGS, renamed, retitled, seed_fiche, small_data

from memoires_ld import history
from memoires_ld.accounts import Accounts
from memoires_ld.iris import DEFAULT_BASE
from memoires_ld.web import create_app

TAG = TAGS[0]
PASSWORD = "un mot de passe sûr"


@pytest.fixture
def app(tmp_path, backend):
    small_data(tmp_path / "data")
    app = create_app(
        {
            "INSTANCE_DIR": str(tmp_path / "instance"),
            "DATA_DIR": str(tmp_path / "data"),
            "TESTING": True,
            "MAX_CONTENT_LENGTH": 200_000,
        }
        | fresh(backend)
    )
    accounts = Accounts(tmp_path / "instance")
    accounts.add("robot", PASSWORD, "editor")
    accounts.add("lecteur", PASSWORD, "reader")
    app.config["tokens"] = {
        "editor": accounts.create_token("robot")[1],
        "reader": accounts.create_token("lecteur")[1],
    }
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def auth(app, role="editor", **headers):
    return {"Authorization": f"Bearer {app.config['tokens'][role]}", **headers}


def turtle(graph: Graph) -> bytes:
    return graph.serialize(format="turtle", encoding="utf-8")


def etag(app, tag=TAG):
    return history.etag(app.extensions["store"], tag)


def new_fiche(tag="NouvelleFiche"):
    return renamed(seed_fiche(TAG), TAG, tag)


def test_post_turtle_creates_a_fiche(app, client):
    response = client.post(
        "/fiches",
        data=turtle(new_fiche()),
        headers=auth(app, **{"Content-Type": "text/turtle"}),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["Location"] == f"{DEFAULT_BASE}fiche/NouvelleFiche"
    assert response.headers["ETag"] == etag(app, "NouvelleFiche")
    body = response.get_json()
    assert (body["number"], body["kind"], body["agent"]) == (1, "create", "robot")
    assert app.extensions["store"].has_graph(f"{DEFAULT_BASE}fiche/NouvelleFiche")


def test_post_json_ld(app, client):
    nt = new_fiche("EnJsonLd").serialize(format="nt", encoding="utf-8")
    body = ox.serialize(ox.parse(nt, ox.RdfFormat.N_TRIPLES), format=ox.RdfFormat.JSON_LD)
    response = client.post(
        "/fiches", data=body, headers=auth(app, **{"Content-Type": "application/ld+json"})
    )
    assert response.status_code == 201, response.get_data(as_text=True)


def test_relative_iris_are_resolved_against_the_base(app, client):
    data = turtle(new_fiche("Relative")).decode().replace(DEFAULT_BASE, "")
    assert "<fiche/Relative>" in data
    response = client.post(
        "/fiches", data=data, headers=auth(app, **{"Content-Type": "text/turtle"})
    )
    assert response.status_code == 201, response.get_data(as_text=True)


def test_409_when_it_exists(app, client):
    response = client.post(
        "/fiches",
        data=turtle(seed_fiche(TAG)),
        headers=auth(app, **{"Content-Type": "text/turtle"}),
    )
    assert response.status_code == 409


def test_422_with_the_validation_report(app, client):
    graph = new_fiche()
    graph.remove((None, DCTERMS.title, None))
    headers = auth(app, **{"Content-Type": "text/turtle", "Accept": "text/turtle"})
    response = client.post("/fiches", data=turtle(graph), headers=headers)
    assert response.status_code == 422
    assert response.mimetype == "text/turtle"
    report = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    assert (None, RDF.type, SH.ValidationReport) in report
    assert (None, SH.resultPath, DCTERMS.title) in report
    headers["Accept"] = "application/json"
    response = client.post("/fiches", data=turtle(graph), headers=headers)
    assert response.status_code == 422 and response.mimetype == "application/json"
    summary = response.get_json()["summary"]
    assert not summary["conforms"]
    assert any(v["path"] == "dct:title" for v in summary["violations"])
    headers["Accept"] = "application/ld+json"
    response = client.post("/fiches", data=turtle(graph), headers=headers)
    parsed = {t.object.value for t in ox.parse(response.get_data(), ox.RdfFormat.JSON_LD)}
    assert str(SH.ValidationReport) in parsed
    assert response.get_json()["summary"]["violations"]
    assert not app.extensions["store"].has_graph(f"{DEFAULT_BASE}fiche/NouvelleFiche")


def test_400_unreadable_body(app, client):
    response = client.post(
        "/fiches", data=b"<a> <b> .", headers=auth(app, **{"Content-Type": "text/turtle"})
    )
    assert response.status_code == 400


def test_415_unknown_media_type(app, client):
    response = client.post(
        "/fiches", data=b"title=x", headers=auth(app, **{"Content-Type": "text/csv"})
    )
    assert response.status_code == 415
    assert "text/turtle" in response.headers["Accept-Post"]


def test_413_too_large(app, client):
    response = client.post(
        "/fiches", data=b"#" * 300_000, headers=auth(app, **{"Content-Type": "text/turtle"})
    )
    assert response.status_code == 413


def test_401_without_credentials(client):
    response = client.post("/fiches", data=b"", headers={"Content-Type": "text/turtle"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    response = client.post(
        "/fiches",
        data=b"",
        headers={"Content-Type": "text/turtle", "Authorization": "Bearer mld_0000_faux"},
    )
    assert response.status_code == 401 and "invalid_token" in response.headers["WWW-Authenticate"]


def test_403_for_a_reader(app, client):
    response = client.post(
        "/fiches",
        data=turtle(new_fiche()),
        headers=auth(app, "reader", **{"Content-Type": "text/turtle"}),
    )
    assert response.status_code == 403


def test_put_replaces_with_if_match(app, client):
    graph = retitled(seed_fiche(TAG), TAG, "Titre changé")
    headers = auth(app, **{"Content-Type": "text/turtle", "If-Match": etag(app)})
    response = client.put(f"/fiche/{TAG}", data=turtle(graph), headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["number"] == 2
    assert response.headers["ETag"] == etag(app) != headers["If-Match"]


def test_428_without_if_match(app, client):
    headers = auth(app, **{"Content-Type": "text/turtle"})
    response = client.put(f"/fiche/{TAG}", data=turtle(seed_fiche(TAG)), headers=headers)
    assert response.status_code == 428
    assert response.headers["ETag"] == etag(app)
    assert client.delete(f"/fiche/{TAG}", headers=auth(app)).status_code == 428


def test_412_on_a_stale_etag(app, client):
    stale = etag(app)
    headers = auth(app, **{"Content-Type": "text/turtle", "If-Match": stale})
    first = client.put(
        f"/fiche/{TAG}", data=turtle(retitled(seed_fiche(TAG), TAG, "A")), headers=headers
    )
    assert first.status_code == 200
    second = client.put(
        f"/fiche/{TAG}", data=turtle(retitled(seed_fiche(TAG), TAG, "B")), headers=headers
    )
    assert second.status_code == 412
    assert (
        client.delete(f"/fiche/{TAG}", headers=auth(app, **{"If-Match": stale})).status_code == 412
    )


def test_put_to_another_fiche_is_refused(app, client):
    headers = auth(app, **{"Content-Type": "text/turtle", "If-Match": etag(app)})
    response = client.put(f"/fiche/{TAGS[1]}", data=turtle(seed_fiche(TAG)), headers=headers)
    assert response.status_code == 422


def test_404_and_410(app, client):
    headers = auth(app, **{"Content-Type": "text/turtle", "If-Match": "*"})
    missing = client.put("/fiche/Inconnue", data=turtle(new_fiche("Inconnue")), headers=headers)
    assert missing.status_code == 404
    retired = client.delete(
        f"/fiche/{TAG}",
        headers=auth(app, **{"If-Match": etag(app), "Reason": "Doublon%20%C3%A9vident"}),
    )
    assert retired.status_code == 200
    assert history.get_tombstone(app.extensions["store"], TAG).reason == "Doublon évident"
    again = client.put(f"/fiche/{TAG}", data=turtle(seed_fiche(TAG)), headers=headers)
    assert again.status_code == 410


def test_delete_retires_with_a_reason_in_the_body(app, client):
    response = client.delete(
        f"/fiche/{TAG}",
        data=json.dumps({"reason": "Fiche de test"}),
        headers=auth(app, **{"If-Match": etag(app), "Content-Type": "application/json"}),
    )
    assert response.status_code == 200 and response.get_json()["kind"] == "retire"
    gone = client.get(f"/fiche/{TAG}", headers={"Accept": "text/html"})
    assert gone.status_code == 410
    assert "Fiche de test" in gone.get_data(as_text=True)
    rdf = client.get(f"/fiche/{TAG}.ttl")
    assert rdf.status_code == 410 and "Tombstone" in rdf.get_data(as_text=True)
    assert client.get(f"/fiche/{TAG}/history", headers={"Accept": "text/html"}).status_code == 200


def test_two_editors_on_one_fiche(app):
    """Same ETag, two threads: exactly one 200, one 412 (no lost update)."""
    tag_value = etag(app)
    barrier = threading.Barrier(2)
    statuses = []

    def edit(title):
        client = app.test_client()
        graph = turtle(retitled(seed_fiche(TAG), TAG, title))
        headers = auth(app, **{"Content-Type": "text/turtle", "If-Match": tag_value})
        barrier.wait()
        statuses.append(client.put(f"/fiche/{TAG}", data=graph, headers=headers).status_code)

    threads = [threading.Thread(target=edit, args=(t,)) for t in ("Premier", "Second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 412]
    assert len(history.revisions(app.extensions["store"], TAG)) == 2
