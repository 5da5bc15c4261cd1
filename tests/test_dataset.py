"""The dataset description (VoID, DCAT) and the dumps, on the real app.

A small data folder of hand-made fiches covers the licence rule: one under CC BY-SA, one
under CC0, one under "Licence non-libre" whose text must stay out of the open dumps.
"""

from __future__ import annotations

import gzip
import html.parser
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import DCAT, DCTERMS, RDF, VOID
from virtuoso_server import fresh

from memoires_ld import datadir, dumps, licences
from memoires_ld.iris import DEFAULT_BASE, Iris, concept
from memoires_ld.mapping import map_fiche
from memoires_ld.namespaces import MLD, SCHEMA
from memoires_ld.record import Agent, Block, FicheRecord
from memoires_ld.web import create_app

CC_BY_SA = URIRef("http://creativecommons.org/licenses/by-sa/4.0/")
CC0 = URIRef("http://creativecommons.org/publicdomain/zero/1.0/")
NON_FREE = concept("licence", "non-libre")
SECRET = "Texte réservé aux auteur·rices, à ne pas rediffuser."
PARIS = timezone(timedelta(hours=1))
IRIS = Iris(DEFAULT_BASE)


def record(tag: str, licence: URIRef, body: str) -> FicheRecord:
    return FicheRecord(
        tag=tag,
        title=f"Atelier « {tag} » à Tours",
        natures=[concept("nature", "formation")],
        durations=[concept("duree", "journee")],
        status=concept("statut", "terminee"),
        years=[2019],
        description=[
            Block("paragraph", text=body),
            Block("image", text=f"Légende : {body}", file="photo.jpg", size="12 Ko"),
        ],
        authors_raw="Sarah Gaucher",
        authors=[Agent("sarah-gaucher", "Sarah Gaucher", "person")],
        licence=licence,
        created=datetime(2019, 3, 1, 10, 0, tzinfo=PARIS),
        modified=datetime(2019, 3, 2, 11, 30, tzinfo=PARIS),
        source=f"http://osons.cc/wakka.php?wiki={tag}",
    )


FICHES = {
    "Libre": record("Libre", CC_BY_SA, "Une coopération réussie entre voisins."),
    "Domaine": record("Domaine", CC0, "Un chantier éducatif ouvert à toutes et tous."),
    "Reservee": record("Reservee", NON_FREE, SECRET),
}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("data")
    datadir.write(data, {tag: map_fiche(r, IRIS) for tag, r in FICHES.items()}, Graph())
    return data


@pytest.fixture(scope="module")
def app(data_dir: Path, tmp_path_factory, backend):
    instance = tmp_path_factory.mktemp("instance")
    config = {"DATA_DIR": str(data_dir), "INSTANCE_DIR": str(instance), "TESTING": True}
    return create_app(config | fresh(backend))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def store(app):
    return app.extensions["store"]


def as_rdflib(items, fmt: ox.RdfFormat = ox.RdfFormat.N_TRIPLES) -> Graph:
    """Triples (or quads of one graph) from pyoxigraph into an rdflib graph."""
    triples = [q.triple if isinstance(q, ox.Quad) else q for q in items]
    return Graph().parse(data=ox.serialize(triples, format=fmt), format="nt")


def parse(body: bytes, fmt) -> Graph:
    """rdflib's own parser for Turtle and N-Triples; pyoxigraph's for the others.

    (rdflib 7.6 parses JSON-LD through the deprecated ConjunctiveGraph.)
    """
    if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES):
        return Graph().parse(data=body, format="turtle" if fmt == ox.RdfFormat.TURTLE else "nt")
    return as_rdflib(ox.parse(body, format=fmt))


def assert_same(a: Graph, b: Graph) -> None:
    if not isomorphic(a, b):
        _, only_a, only_b = graph_diff(to_isomorphic(a), to_isomorphic(b))
        raise AssertionError(
            f"only in the first:\n{only_a.serialize(format='nt')[:2000]}\n"
            f"only in the second:\n{only_b.serialize(format='nt')[:2000]}"
        )


def get(client, url: str, headers: dict | None = None):
    """GET, body read and the response closed (a dump is sent from an open file)."""
    response = client.get(url, headers=headers or {})
    response.get_data()
    response.close()
    return response


def fiche(tag: str) -> URIRef:
    return IRIS.fiche(tag)


# -- the licence rule ------------------------------------------------------------------


def test_open_licences_are_those_that_permit_distribution_and_derivatives(store):
    assert licences.open_licences(store) == {str(CC_BY_SA), str(CC0)}
    assert licences.closed_fiches(store) == {str(fiche("Reservee"))}


def test_open_distribution_keeps_the_metadata_of_a_non_free_fiche_but_not_its_text(store):
    kept = [q for q in licences.open_distribution(store)]
    withheld = [q for q in store.quads() if q not in set(kept)]
    reserved = ox.NamedNode(str(fiche("Reservee")))
    assert withheld and all(q.graph_name == reserved for q in withheld)
    assert {q.predicate for q in withheld} == licences.WITHHELD
    about = {(q.predicate.value, q.object) for q in kept if q.subject == reserved}
    for predicate in (DCTERMS.title, DCTERMS.license, DCTERMS.source, DCTERMS.creator):
        assert any(p == str(predicate) for p, _ in about), predicate
    assert not any(SECRET in q.object.value for q in kept if isinstance(q.object, ox.Literal))
    # an open fiche keeps its text
    libre = ox.NamedNode(str(fiche("Libre")))
    assert any(q.subject == libre and q.predicate.value == str(SCHEMA.articleBody) for q in kept)


def test_a_fiche_without_licence_is_not_open(tmp_path: Path):
    data = tmp_path / "data"
    datadir.write(data, {"Sans": map_fiche(record("Sans", None, SECRET), IRIS)}, Graph())
    app = create_app({"DATA_DIR": str(data), "INSTANCE_DIR": str(tmp_path / "instance")})
    store = app.extensions["store"]
    assert licences.closed_fiches(store) == {str(fiche("Sans"))}
    assert not any(SECRET in str(q.object) for q in licences.open_distribution(store))


# -- dumps -----------------------------------------------------------------------------


@pytest.mark.parametrize("dump", dumps.DUMPS, ids=lambda d: d.filename)
def test_each_dump_parses_back_to_the_open_distribution(client, store, dump):
    response = get(client, f"/dumps/{dump.filename}")
    assert response.status_code == 200
    assert response.mimetype == dump.served_as
    assert response.headers["ETag"] == f'"{store.version}"'
    assert int(response.headers["Content-Length"]) == len(response.data)
    assert "Content-Encoding" not in response.headers
    body = gzip.decompress(response.data) if dump.gzip else response.data
    assert SECRET.encode() not in body
    assert "Atelier « Reservee » à Tours".encode() in body  # its metadata is there
    expected = list(licences.open_distribution(store))
    if dump.graphs:
        served = list(ox.parse(body, format=ox.RdfFormat.TRIG))
        names = {q.graph_name for q in expected}
        assert {q.graph_name for q in served} == names
        for name in names:
            assert_same(
                as_rdflib(q for q in expected if q.graph_name == name),
                as_rdflib(q for q in served if q.graph_name == name),
            )
    else:
        assert_same(as_rdflib(expected), parse(body, dump.format))


def test_dumps_are_written_once_per_version_atomically(client, app, store):
    instance = Path(app.config["INSTANCE_DIR"])
    get(client, "/dumps/memoires.ttl")
    path = dumps.folder(instance, store) / "memoires.ttl"
    before = path.stat().st_mtime_ns
    assert get(client, "/dumps/memoires.ttl").status_code == 200
    assert path.stat().st_mtime_ns == before
    assert not list(path.parent.glob(".*.tmp"))


def test_a_failed_dump_leaves_no_file(tmp_path: Path, monkeypatch, data_dir: Path):
    app = create_app({"DATA_DIR": str(data_dir), "INSTANCE_DIR": str(tmp_path)})
    store = app.extensions["store"]

    def broken(*args, **kwargs):
        raise OSError("disque plein")

    monkeypatch.setattr(dumps.ox, "serialize", broken)
    with pytest.raises(OSError):
        dumps.ensure(store, tmp_path, dumps.BY_FILENAME["memoires.ttl"])
    assert [p.name for p in dumps.folder(tmp_path, store).iterdir()] == [".lock"]


def test_dumps_with_the_default_relative_instance_folder(tmp_path: Path, monkeypatch, data_dir):
    """`INSTANCE_DIR` is `instance` by default, relative to where the server is started."""
    monkeypatch.chdir(tmp_path)
    app = create_app({"DATA_DIR": str(data_dir), "INSTANCE_DIR": "instance", "TESTING": True})
    response = app.test_client().get("/dumps/memoires.ttl")
    body = response.data
    response.close()
    assert response.status_code == 200, body[:300]
    served = Graph().parse(data=body, format="turtle")
    assert served and (tmp_path / "instance" / "dumps").is_dir()


def test_before_the_first_publication_503_with_retry_after(tmp_path: Path, monkeypatch, data_dir):
    """A server's publisher writes the first dumps (half an hour at 100k): requests wait a
    little, then say so instead of holding a connection for minutes."""
    from memoires_ld import void
    from memoires_ld.web import dataset

    monkeypatch.setattr(dataset, "FIRST_WAIT", 0.3)
    config = {"DATA_DIR": str(data_dir), "INSTANCE_DIR": str(tmp_path), "PUBLISHER": True}
    app = create_app(config)
    client = app.test_client()
    for url, accept in (("/dataset", "text/turtle"), ("/dumps/memoires.ttl", "*/*")):
        response = get(client, url, {"Accept": accept})
        assert response.status_code == 503, url
        assert response.headers["Retry-After"] == "60"
    said = Graph().parse(data=get(client, "/dataset.ttl").data, format="turtle")
    assert any("première publication" in str(o) for o in said.objects())
    page = get(client, "/dataset", {"Accept": "text/html"})
    assert page.status_code == 503 and "réessayez dans 60 secondes" in page.data.decode()
    assert not (tmp_path / "dumps").exists() or dumps.latest_complete(tmp_path) is None
    void.prepare(app.extensions["store"], tmp_path, app.config["IRIS"])  # the publisher's work
    assert get(client, "/dataset", {"Accept": "text/turtle"}).status_code == 200
    assert get(client, "/dumps/memoires.ttl").status_code == 200


def test_dump_revalidation_and_unknown_dump(client):
    first = get(client, "/dumps/memoires.nt.gz")
    assert first.headers["Content-Disposition"].startswith("attachment")
    again = get(client, "/dumps/memoires.nt.gz", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    missing = get(client, "/dumps/memoires.xml", headers={"Accept": "application/json"})
    assert missing.status_code == 404
    assert json.loads(missing.data)["status"] == 404


# -- the description -------------------------------------------------------------------


def description(client, url: str = "/dataset") -> Graph:
    response = client.get(url, headers={"Accept": "text/turtle"})
    assert response.status_code == 200, response.data[:500]
    return Graph().parse(data=response.data, format="turtle")


TTL, JSONLD, NT, XML = (
    ox.RdfFormat.TURTLE,
    ox.RdfFormat.JSON_LD,
    ox.RdfFormat.N_TRIPLES,
    ox.RdfFormat.RDF_XML,
)
MEDIA_TYPES = {
    TTL: "text/turtle",
    JSONLD: "application/ld+json",
    NT: "application/n-triples",
    XML: "application/rdf+xml",
}
FORMATS = [
    ("/dataset.ttl", None, TTL),
    ("/dataset.jsonld", None, JSONLD),
    ("/dataset.nt", None, NT),
    ("/dataset.rdf", None, XML),
    ("/dataset?format=jsonld", None, JSONLD),
    ("/dataset", None, TTL),
    ("/dataset", "*/*", TTL),
    ("/dataset", "application/ld+json", JSONLD),
    ("/dataset", "application/n-triples", NT),
    ("/dataset", "application/rdf+xml;q=0.9, text/html;q=0.1", XML),
    ("/.well-known/void", "text/turtle", TTL),
    ("/.well-known/void?format=nt", None, NT),
    ("/catalog", "application/ld+json", JSONLD),
    ("/catalog.ttl", None, TTL),
]


@pytest.mark.parametrize(("url", "accept", "fmt"), FORMATS)
def test_every_format_says_the_same(client, url, accept, fmt):
    response = client.get(url, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.mimetype == MEDIA_TYPES[fmt]
    assert "Accept" in response.headers["Vary"]
    assert_same(parse(response.data, fmt), description(client))


def test_void_counts_what_the_store_holds(client, store, data_dir: Path):
    g = description(client)
    dataset = IRIS.dataset()
    union = Graph()
    for _, graph in datadir.read_fiches(data_dir, DEFAULT_BASE):
        union += graph
    from memoires_ld.vocabulary import graph as vocabulary

    union += vocabulary()
    assert g.value(dataset, VOID.triples).toPython() == len(union)
    assert g.value(dataset, VOID.documents).toPython() == len(FICHES)
    for node in g.objects(dataset, VOID.classPartition):
        if g.value(node, VOID["class"]) == MLD.Fiche:
            assert g.value(node, VOID.entities).toPython() == len(FICHES)
    partitions = {
        g.value(n, VOID.property): g.value(n, VOID.triples).toPython()
        for n in g.objects(dataset, VOID.propertyPartition)
    }
    assert partitions[DCTERMS.title] == len(set(union.triples((None, DCTERMS.title, None))))
    assert sum(partitions.values()) == len(union)
    for term in (RDF.type, DCAT.Dataset):
        assert (dataset, RDF.type, DCAT.Dataset) in g, term
    assert (dataset, VOID.sparqlEndpoint, IRIS.sparql()) in g
    assert (dataset, VOID.uriSpace, Literal(DEFAULT_BASE)) in g
    assert g.value(dataset, DCTERMS.modified) == Literal(
        "2019-03-02T11:30:00+01:00", datatype=URIRef("http://www.w3.org/2001/XMLSchema#dateTime")
    )
    assert set(g.objects(dataset, VOID.dataDump)) == {IRIS.dump(d.filename) for d in dumps.DUMPS}
    service = g.value(IRIS.catalog(), DCAT.service)
    assert (service, DCAT.endpointURL, IRIS.sparql()) in g
    assert (service, DCAT.servesDataset, dataset) in g


def test_no_open_licence_statement_covers_the_non_free_fiche(client):
    g = description(client)
    dataset = IRIS.dataset()
    assert g.value(dataset, DCTERMS.license) is None
    for distribution in g.objects(dataset, DCAT.distribution):
        assert g.value(distribution, DCTERMS.license) is None
        assert g.value(distribution, DCTERMS.rights) is not None
    subsets = {g.value(s, DCTERMS.license): s for s in g.objects(dataset, VOID.subset)}
    assert set(subsets) == {CC_BY_SA, CC0, NON_FREE}
    for licence, subset in subsets.items():
        assert g.value(subset, VOID.documents).toPython() == 1, licence
    assert g.value(subsets[NON_FREE], DCTERMS.description) is not None


def test_distributions_give_media_type_size_and_url(client):
    g = description(client)
    for dump in dumps.DUMPS:
        [node] = g.subjects(DCAT.downloadURL, IRIS.dump(dump.filename))
        served = get(client, f"/dumps/{dump.filename}")
        assert g.value(node, DCAT.byteSize).toPython() == len(served.data)
        assert str(g.value(node, DCAT.mediaType)).endswith("/" + dump.media_type)
        assert (g.value(node, DCAT.compressFormat) is not None) == dump.gzip


def test_description_revalidates_with_its_etag(client):
    first = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    headers = {"Accept": "text/turtle", "If-None-Match": first.headers["ETag"]}
    assert client.get("/.well-known/void", headers=headers).status_code == 304
    other = client.get("/.well-known/void", headers={"Accept": "application/ld+json"})
    assert other.headers["ETag"] != first.headers["ETag"]


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[dict] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("a", "link"):
            self.links.append({"tag": tag, **attrs})
        self._in_script = tag == "script" and attrs.get("type") == "application/ld+json"

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)

    def handle_endtag(self, tag):
        self._in_script = False


@pytest.mark.parametrize("url", ["/dataset", "/catalog", "/.well-known/void"])
def test_html_page_links_dumps_twins_and_embeds_the_description(client, url):
    response = client.get(url, headers={"Accept": "text/html,application/xhtml+xml;q=0.9"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = Page()
    page.feed(response.data.decode())
    hrefs = {link.get("href") for link in page.links}
    assert {str(IRIS.dump(d.filename)) for d in dumps.DUMPS} <= hrefs
    alternates = {link["type"] for link in page.links if link.get("rel") == "alternate"}
    assert {"text/turtle", "application/ld+json"} <= alternates
    assert 'rel="alternate"' in response.headers["Link"]
    [script] = page.scripts
    assert_same(parse(script.encode(), JSONLD), description(client))


def test_without_a_publisher_the_previous_dumps_are_served_while_a_thread_writes_the_new(
    tmp_path: Path,
):
    """The app on its own (no `memoires-ld serve` publisher): after a write the first
    answers are the previous version's, then a thread's new files are served."""
    import time

    from writes_fixtures import small_data

    from memoires_ld import writes

    data = small_data(tmp_path / "data")
    app = create_app({"DATA_DIR": str(data), "INSTANCE_DIR": str(tmp_path / "instance")})
    store, client = app.extensions["store"], app.test_client()
    old = get(client, "/dumps/memoires.ttl")
    version = store.version
    assert old.headers["ETag"] == f'"{version}"'
    graph = writes.current_graph(store, "AtelierCohesionDEquipe")
    fiche = URIRef(IRIS.fiche("AtelierCohesionDEquipe"))
    graph.set((fiche, DCTERMS.title, Literal("Zygomatique à Tours", lang="fr")))
    writes.replace_fiche(store, graph, agent="test")
    assert store.version != version
    stale = get(client, "/dumps/memoires.ttl")
    assert (stale.headers["ETag"], stale.data) == (old.headers["ETag"], old.data)
    assert get(client, "/dataset").headers["ETag"] == f'"{version}-turtle"'
    deadline = time.monotonic() + 30
    while get(client, "/dataset").headers["ETag"] != f'"{store.version}-turtle"':
        assert time.monotonic() < deadline, "the new version was never published"
        time.sleep(0.05)
    new = get(client, "/dumps/memoires.ttl")
    assert new.headers["ETag"] == f'"{store.version}"'
    assert b"Zygomatique" in new.data and b"Zygomatique" not in old.data
    assert [p.name for p in (tmp_path / "instance" / dumps.FOLDER).iterdir()] == [store.version]
