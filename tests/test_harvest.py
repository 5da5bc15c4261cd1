"""`memoires-ld harvest` and `memoires-ld peers` against real peers on 127.0.0.1 (#6).

Two real memoires-ld instances (alpha and bee, different data) harvest each other through
their VoID and dumps; a real Oxigraph server holding three fiches (one invalid, one not
openly licensed) is a SPARQL peer; a small HTTP server of this file misbehaves on demand
(slow, reset mid-body, truncated gzip, HTML, 500, too big, redirect elsewhere, remote
JSON-LD context) and plays a memoires-ld instance with a change feed. Every fault exits 2
with a French message and leaves the previous harvest exactly as it was (graphs compared).
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import json
import socket
import struct
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pyoxigraph as ox
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from oxigraph_server import OxigraphServer
from rdflib import Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import DCTERMS, PROV, RDF, SH, VOID
from servers import SEED, Server

from memoires_ld import config, sparql_update, writes
from memoires_ld.cli import main
from memoires_ld.errors import InvalidFiche
from memoires_ld.iris import Iris
from memoires_ld.licences import WITHHELD
from memoires_ld.sparql_update import GraphRefused
from memoires_ld.store import open_configured

TAGS = sorted(p.stem for p in (SEED / "rdf/fiches").glob("*.ttl"))
CLOSED = "FormationDesConseilsCitoyens"  # under "Licence non-libre"
OPEN = [t for t in TAGS if t != CLOSED]  # the seed's openly licensed fiches
ALPHA_TAGS = OPEN[:2]
BEE_TAGS = [*OPEN[2:4], CLOSED]
ELSEWHERE = "http://ailleurs.example/"
LABO = "http://labo.example/"
BODY = {URIRef(q.value) for q in WITHHELD}


# -- helpers -------------------------------------------------------------------------------


def run(env: dict, *args) -> object:
    result = CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)
    gc.collect()  # the store this process opened is closed: a server may open it next
    return result


def make_data(folder: Path, tags: list[str]) -> Path:
    (folder / "rdf/fiches").mkdir(parents=True)
    (folder / "rdf/import.ttl").write_bytes((SEED / "rdf/import.ttl").read_bytes())
    for tag in tags:
        (folder / f"rdf/fiches/{tag}.ttl").write_bytes(
            (SEED / f"rdf/fiches/{tag}.ttl").read_bytes()
        )
    return folder


def fiche_triples(tags: list[str], base: str) -> list[ox.Triple]:
    return [
        q.triple
        for tag in tags
        for q in ox.parse(path=str(SEED / f"rdf/fiches/{tag}.ttl"), base_iri=base)
    ]


def rdflib_graph(triples) -> Graph:
    data = ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES)
    return Graph().parse(data=data, format="nt")


def expected(tags: list[str], base: str, closed: tuple[str, ...] = ()) -> Graph:
    """The fiches as their publisher's data files say them, the text of closed ones left out."""
    graph = Graph()
    for tag in tags:
        path = SEED / f"rdf/fiches/{tag}.ttl"
        one = Graph().parse(path, format="turtle", publicID=base)
        if tag in closed:
            for p in BODY:
                one.remove((None, p, None))
        graph += one
    return graph


def assert_same(got: Graph, want: Graph) -> None:
    if not isomorphic(got, want):
        _, only_got, only_want = graph_diff(to_isomorphic(got), to_isomorphic(want))
        raise AssertionError(
            "graphs differ\nonly harvested:\n"
            + "\n".join(sorted(f"{s} {p} {o}" for s, p, o in only_got)[:20])
            + "\nonly expected:\n"
            + "\n".join(sorted(f"{s} {p} {o}" for s, p, o in only_want)[:20])
        )


class Instance:
    """An instance folder, its settings (as env) and, for alpha and bee, a served process."""

    def __init__(self, root: Path, name: str, tags: list[str]):
        self.name = name
        self.data = make_data(root / name / "data", tags)
        self.instance = root / name / "instance"
        self.server = Server(self.instance, self.data)
        self.base = self.server.base
        self.env = {
            "MEMOIRES_LD_INSTANCE_DIR": str(self.instance),
            "MEMOIRES_LD_DATA_DIR": str(self.data),
            "MEMOIRES_LD_BASE_URL": self.base,
        }

    def settings(self) -> dict:
        return config.load(
            {"INSTANCE_DIR": self.instance, "DATA_DIR": self.data, "BASE_URL": self.base}
        )

    def graph(self, iri: str) -> Graph:
        """A named graph of the store, read while no server holds it."""
        store = open_configured(self.settings())
        try:
            return rdflib_graph(q.triple for q in store.graph_quads(iri))
        finally:
            del store
            gc.collect()

    def source(self, slug: str) -> Graph:
        return self.graph(str(Iris(self.base).source(slug)))

    def sources(self) -> Graph:
        return self.graph(str(Iris(self.base).sources()))


# -- a peer that misbehaves on demand, and plays a memoires-ld instance with a change feed --


class Flaky:
    def __init__(self):
        self.mode = "good"
        self.requests: list[tuple[str, dict]] = []
        self.dump = b""
        self.feed_dump = b""  # the dump of the memoires-ld instance it plays under /feed/
        self.documents: dict[str, bytes] = {}  # path → Turtle (the feed peer's fiches)
        self.feed: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @contextlib.contextmanager
    def acting(self, mode: str):
        """Misbehave as `mode` for the duration, then answer well again."""
        self.mode = mode
        try:
            yield
        finally:
            self.mode = "good"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _handler(flaky: Flaky):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def send(self, status, body: bytes, content_type: str, **headers):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            flaky.requests.append((self.path, dict(self.headers)))
            path = urlsplit(self.path).path
            if path == "/dump.nt.gz":
                return self.dump_answer()
            if path == "/feed/dump.nt.gz":
                return self.send(200, flaky.feed_dump, "application/gzip")
            if path == "/feed/.well-known/void":
                body = (
                    f"<{flaky.base}feed/dataset> <{VOID.dataDump}> <{flaky.base}feed/dump.nt.gz> ."
                )
                return self.send(200, body.encode(), "application/n-triples")
            if path == "/feed/changes":
                return self.feed_answer()
            if path in flaky.documents:
                return self.send(200, flaky.documents[path], "text/turtle")
            if path.startswith("/feed/fiche/"):
                return self.send(410, b"Gone", "text/plain")
            if path == "/context.jsonld":
                return self.send(200, b'{"@context": {}}', "application/ld+json")
            return self.send(404, b"<html>introuvable</html>", "text/html")

        def dump_answer(self):
            mode, body = flaky.mode, flaky.dump
            etag = '"v1"'
            if mode == "good":
                if self.headers.get("If-None-Match") == etag:
                    return self.send(304, b"", "application/gzip", ETag=etag)
                return self.send(200, body, "application/gzip", ETag=etag)
            if mode == "slow":
                time.sleep(2.5)
                return self.send(200, body, "application/gzip")
            if mode == "drip":  # a byte every 0.2 s: each receive is quick, the whole is not
                self.send_response(200)
                self.send_header("Content-Type", "application/gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for byte in body[:40]:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.2)
                return None
            if mode == "reset":
                self.send_response(200)
                self.send_header("Content-Type", "application/gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 3])
                self.wfile.flush()
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                return None
            if mode == "gzip-bomb":  # 2 kB packed, 1 MB unpacked
                return self.send(200, gzip.compress(b"\n" * 1_000_000), "application/gzip")
            if mode == "truncated-gzip":
                return self.send(200, body[: len(body) // 2], "application/gzip")
            if mode == "html":
                page = b"<!DOCTYPE html><html><head><title>Maintenance</title></head></html>"
                return self.send(200, page, "text/html; charset=utf-8")
            if mode == "garbage":
                return self.send(
                    200, b"\x00\x01 ceci n'est pas du RDF <<<", "application/n-triples"
                )
            if mode == "error":
                return self.send(500, b"Internal Server Error", "text/plain")
            if mode == "huge":
                self.send_response(200)
                self.send_header("Content-Type", "application/n-triples")
                self.end_headers()  # no Content-Length: the size shows only while reading
                line = b'<http://ailleurs.example/x> <http://ailleurs.example/p> "x" .\n'
                for _ in range(5000):
                    self.wfile.write(line * 10)
                return None
            if mode == "redirect":
                self.send_response(302)
                self.send_header("Location", "http://127.0.0.2:9/dump.nt.gz")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            if mode == "remote-context":
                doc = {"@context": flaky.base + "context.jsonld", "@id": ELSEWHERE + "x"}
                return self.send(200, json.dumps(doc).encode(), "application/ld+json")
            raise AssertionError(mode)

        def feed_answer(self):
            """The items published after `since`, one per page (as the real feed, in order)."""
            query = parse_qs(urlsplit(self.path).query)
            since, page = query.get("since", [""])[0], query.get("page", [""])[0]
            items = [
                i
                for i in flaky.feed
                if datetime.fromisoformat(i["published"]) >= datetime.fromisoformat(since)
            ]
            base = f"{flaky.base}feed/changes?since={quote(since, safe='')}"
            if not page:
                body = {
                    "@context": "https://www.w3.org/ns/activitystreams",
                    "type": "OrderedCollection",
                    "totalItems": len(items),
                    "first": base + "&page=1",
                }
            else:
                n = int(page)
                body = {"type": "OrderedCollectionPage", "orderedItems": items[n - 1 : n]}
                if n < len(items):
                    body["next"] = base + f"&page={n + 1}"
            return self.send(200, json.dumps(body).encode(), "application/activity+json")

    return Handler


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def flaky():
    server = Flaky()
    server.dump = gzip.compress(
        ox.serialize(fiche_triples(OPEN[5:7], ELSEWHERE + "pub/"), format=ox.RdfFormat.N_TRIPLES)
    )
    yield server
    server.close()


@pytest.fixture(scope="module")
def labo(tmp_path_factory):
    """A real Oxigraph SPARQL server with three fiches: one fine, one invalid, one closed."""
    folder = tmp_path_factory.mktemp("labo")
    fine, invalid = "CitykartParcoursDeRemobilisation1625AA", OPEN[9]  # fine: attributions
    triples = fiche_triples([fine, invalid, CLOSED], LABO)
    fiche = ox.NamedNode(f"{LABO}fiche/{invalid}")
    # a second French title: the shapes allow one per language
    triples.append(
        ox.Triple(fiche, ox.NamedNode(str(DCTERMS.title)), ox.Literal("Bis", language="fr"))
    )
    path = folder / "labo.nt"
    path.write_bytes(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
    server = OxigraphServer(folder / "db").load([path]).start()
    server.tags = (fine, invalid)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def federation(tmp_path_factory, flaky, labo):
    """alpha and bee served, gamma an instance folder only; every peer on every PEERS."""
    root = tmp_path_factory.mktemp("federation")
    alpha = Instance(root, "alpha", ALPHA_TAGS)
    bee = Instance(root, "bee", BEE_TAGS)
    gamma = Instance(root, "gamma", ALPHA_TAGS[:1])
    peers = (
        f"alpha={alpha.base} bee={bee.base} labo=sparql+{labo.query_url} "
        f"flaky=dump+{flaky.base}dump.nt.gz feedpeer=memoires-ld+{flaky.base}feed/ "
        f"ctx=dump+{flaky.base}dump.nt.gz beettl=dump+{bee.base}dumps/memoires.ttl "
        f"beejson=dump+{bee.base}dumps/memoires.jsonld beecat=void+{bee.base}catalog"
    )
    for instance in (alpha, bee, gamma):
        instance.env |= {
            "MEMOIRES_LD_PEERS": peers,
            "MEMOIRES_LD_HARVEST_TIMEOUT": "1",
            "MEMOIRES_LD_HARVEST_MAX_BYTES": "200000",
        }
    for instance in (alpha, bee):
        instance.server.start()
    for instance in (alpha, bee):
        instance.server.wait_ready()
    yield alpha, bee, gamma
    for instance in (alpha, bee):
        instance.server.stop()


def harvest_into(instance: Instance, *names: str):
    """Stop the instance's server (the store has one writer), harvest, serve again."""
    instance.server.stop()
    result = run(instance.env, "harvest", *names)
    instance.server.start().wait_ready()
    return result


# -- the allowlist -------------------------------------------------------------------------


def test_a_url_not_on_the_allowlist_is_refused(federation, flaky):
    _, _, gamma = federation
    before = len(flaky.requests)
    result = run(gamma.env, "harvest", "http://127.0.0.1:9/dump.nt.gz")
    assert result.exit_code == 2
    assert "n'est pas dans la liste des pairs autorisés (PEERS)" in result.output
    assert len(flaky.requests) == before
    assert len(gamma.sources()) == 0


def test_a_malformed_peers_setting_is_an_error(federation):
    _, _, gamma = federation
    result = run(gamma.env | {"MEMOIRES_LD_PEERS": "pasdegal"}, "peers")
    assert result.exit_code == 2
    assert "n'est pas de la forme nom=URL" in result.output


# -- two memoires-ld instances ----------------------------------------------------------------


def test_instances_harvest_each_other_through_void_and_dumps(federation):
    alpha, bee, _ = federation
    result = harvest_into(alpha, "bee")
    assert result.exit_code == 0, result.output
    assert "bee : moissonné : 3 fiche(s) gardée(s) (dont 1 en métadonnées seules)" in result.output
    alpha.server.stop()
    assert_same(alpha.source("bee"), expected(BEE_TAGS, bee.base, closed=(CLOSED,)))
    provenance = alpha.sources()
    alpha.server.start().wait_ready()
    source = URIRef(Iris(alpha.base).source("bee"))
    assert (source, DCTERMS.title, Literal("bee")) in provenance
    assert (source, PROV.wasDerivedFrom, URIRef(bee.base)) in provenance
    assert (source, RDF.type, PROV.Entity) in provenance
    assert (source, VOID.entities, Literal(3)) in provenance
    activity = provenance.value(source, PROV.wasGeneratedBy)
    assert provenance.value(activity, PROV.used) == URIRef(bee.base + "dumps/memoires.nt.gz")
    assert provenance.value(activity, PROV.wasAssociatedWith) == URIRef(alpha.base + "user/harvest")
    assert provenance.value(activity, PROV.startedAtTime) is not None

    # bee harvests alpha: alpha's own fiches, not bee's fiches that alpha holds
    result = harvest_into(bee, "alpha")
    assert result.exit_code == 0, result.output
    bee.server.stop()
    assert_same(bee.source("alpha"), expected(ALPHA_TAGS, alpha.base))
    bee.server.start().wait_ready()


def test_harvested_fiches_are_listed(federation):
    alpha, bee, _ = federation
    status, _, body = alpha.server.get("/fiches", accept="text/html")
    assert status == 200
    titles = {a.get_text(" ", strip=True) for a in BeautifulSoup(body, "html.parser").find_all("a")}
    bee_titles = {
        str(o)
        for o in expected(BEE_TAGS, bee.base).objects(None, DCTERMS.title)
        if o.language == "fr"
    }
    assert bee_titles <= titles, "the harvested fiches are listed"


def test_the_source_facet_filters_by_where_fiches_come_from(federation):
    alpha, bee, _ = federation

    def listed(query: str) -> tuple[set[str], BeautifulSoup]:
        status, _, body = alpha.server.get("/fiches" + query, accept="text/html")
        assert status == 200, body[:300]
        page = BeautifulSoup(body, "html.parser")
        return {a["href"] for a in page.select("article.fiche-card h3 a")}, page

    from_bee, page = listed("?source=bee")
    assert from_bee == {f"{bee.base}fiche/{t}" for t in BEE_TAGS}  # links back to the peer
    assert {s.get_text() for s in page.select("article.fiche-card .source")} == {"bee"}
    ours, page = listed("?source=local")
    assert ours == {f"{alpha.base}fiche/{t}" for t in ALPHA_TAGS}
    assert not page.select("article.fiche-card .source")
    both, _ = listed("?source=local&source=bee")
    assert both == from_bee | ours
    status, _, body = alpha.server.get("/fiches?source=Pas%20un%20pair", accept="application/json")
    assert status == 400 and b"source" in body
    status, _, body = alpha.server.get("/fiches", accept="text/html")
    text = BeautifulSoup(body, "html.parser").get_text(" ", strip=True)
    assert "Source" in text and "Ce site" in text


def test_pages_answer_with_harvested_fiches_and_ours_are_unaffected(federation):
    alpha, _, _ = federation
    for page in ("/fiches", "/dataset", "/statistiques", "/fiches?nature=formation"):
        assert alpha.server.get(page, accept="text/html")[0] == 200, page
    own = f"{alpha.base}fiche/{ALPHA_TAGS[0]}"
    status, _, body = alpha.server.get(f"/fiche/{ALPHA_TAGS[0]}")
    assert status == 200
    served = _subgraph(Graph().parse(data=body, format="turtle"), own)
    assert_same(served, _subgraph(expected(ALPHA_TAGS[:1], alpha.base), own))
    status, _, _ = alpha.server.get(f"/fiche/{ALPHA_TAGS[0]}", accept="text/html")
    assert status == 200


def test_the_dataset_lists_each_harvested_source_as_a_subset(federation):
    alpha, bee, _ = federation
    status, _, body = alpha.server.get("/.well-known/void")
    assert status == 200
    void = Graph().parse(data=body, format="turtle")
    subset = URIRef(Iris(alpha.base).source("bee"))
    assert (URIRef(alpha.base + "dataset"), VOID.subset, subset) in void
    assert void.value(subset, VOID.documents) == Literal(len(BEE_TAGS))
    assert void.value(subset, PROV.wasDerivedFrom) == URIRef(bee.base)
    titles = {str(t) for t in void.objects(subset, DCTERMS.title)}
    assert "Fiches moissonnées : bee" in titles


def _subgraph(graph: Graph, subject: str) -> Graph:
    out = Graph()
    for triple in graph.triples((URIRef(subject), None, None)):
        out.add(triple)
    return out


def test_open_dumps_leave_out_the_text_of_closed_harvested_fiches(federation):
    alpha, bee, _ = federation
    status, _, body = alpha.server.get("/dumps/memoires.nt.gz", accept="*/*")
    assert status == 200
    dump = rdflib_graph(ox.parse(gzip.decompress(body), ox.RdfFormat.N_TRIPLES))
    closed = URIRef(f"{bee.base}fiche/{CLOSED}")
    assert (closed, DCTERMS.title, None) in dump
    assert (closed, DCTERMS.license, None) in dump
    assert not any((closed, p, None) in dump for p in BODY)
    open_fiche = URIRef(f"{bee.base}fiche/{BEE_TAGS[0]}")
    assert (open_fiche, DCTERMS.description, None) in dump
    # the TriG dump keeps the source's graph, and the provenance graph is published too
    status, _, body = alpha.server.get("/dumps/memoires.trig", accept="*/*")
    assert status == 200
    graphs: dict[str, set] = {}
    for quad in ox.parse(body, ox.RdfFormat.TRIG):
        graphs.setdefault(str(getattr(quad.graph_name, "value", "")), set()).add(quad.triple)
    iris = Iris(alpha.base)
    source = graphs[str(iris.source("bee"))]
    assert {t.subject.value for t in source if t.predicate.value == str(RDF.type)} >= {
        f"{bee.base}fiche/{tag}" for tag in BEE_TAGS
    }
    assert not any(t.predicate in WITHHELD and t.subject.value == str(closed) for t in source)
    assert any(
        t.subject.value == str(iris.source("bee")) and t.predicate.value == str(DCTERMS.title)
        for t in graphs[str(iris.sources())]
    )


def test_turtle_json_ld_dumps_and_a_dcat_catalogue_give_the_same_fiches(federation):
    _, bee, gamma = federation
    by_url = f"{bee.base}dumps/memoires.ttl"  # a peer named by its URL
    result = run(gamma.env, "harvest", by_url, "beejson", "beecat")
    assert result.exit_code == 0, result.output
    turtle, jsonld, catalogue = (gamma.source(n) for n in ("beettl", "beejson", "beecat"))
    assert_same(jsonld, turtle)
    assert_same(catalogue, turtle)
    own = Graph()
    for triple in turtle:
        if str(triple[0]).startswith(bee.base):
            own.add(triple)
    assert_same(own, expected(BEE_TAGS, bee.base, closed=(CLOSED,)))
    from memoires_ld.peers import fiche_sources

    store = open_configured(gamma.settings())
    try:
        sources = fiche_sources(store, Iris(gamma.base))
    finally:
        del store
        gc.collect()
    assert sources[f"{bee.base}fiche/{BEE_TAGS[0]}"] == ("beecat", "beejson", "beettl")
    provenance = gamma.sources()
    activity = provenance.value(URIRef(Iris(gamma.base).source("beecat")), PROV.wasGeneratedBy)
    assert str(provenance.value(activity, PROV.used)).startswith(bee.base + "dumps/")


# -- a SPARQL endpoint ---------------------------------------------------------------------


def test_a_sparql_endpoint_is_harvested_invalid_fiches_reported(federation, labo):
    _, _, gamma = federation
    result = run(gamma.env, "harvest", "labo")
    assert result.exit_code == 0, result.output
    assert (
        "labo : moissonné : 2 fiche(s) gardée(s) (dont 1 en métadonnées seules), 1 rejetée(s)"
        in result.output
    )
    fine, invalid = labo.tags
    assert f"rejetée : {LABO}fiche/{invalid}" in result.output
    assert_same(gamma.source("labo"), expected([fine, CLOSED], LABO, closed=(CLOSED,)))
    report = gamma.sources()
    focus = set(report.objects(None, SH.focusNode))
    assert focus == {URIRef(f"{LABO}fiche/{invalid}")}
    table = run(gamma.env, "peers")
    assert table.exit_code == 0
    line = next(row for row in table.output.splitlines() if row.startswith("labo "))
    assert line.split()[2:][:1] == ["sparql"]
    assert line.split()[-4:] == ["moissonné", "2", "1", "—"]
    assert "Titre" in table.output  # the first message of the rejected fiche


# -- a peer that misbehaves --------------------------------------------------------------------


@pytest.fixture(scope="module")
def flaky_harvested(federation, flaky):
    _, _, gamma = federation
    flaky.mode = "good"
    result = run(gamma.env, "harvest", "flaky")
    assert result.exit_code == 0, result.output
    assert "flaky : moissonné : 2 fiche(s) gardée(s)" in result.output
    return gamma, gamma.source("flaky")


def test_a_dump_is_harvested_then_not_fetched_again_when_unchanged(flaky_harvested, flaky):
    gamma, harvested = flaky_harvested
    assert_same(harvested, expected(OPEN[5:7], ELSEWHERE + "pub/"))
    result = run(gamma.env, "harvest", "flaky")
    assert result.exit_code == 0, result.output
    assert "flaky : inchangé (304)" in result.output
    assert flaky.requests[-1][1].get("If-None-Match") == '"v1"'
    assert_same(gamma.source("flaky"), harvested)


#: Each fault, and what the message names (a reset shows as a short read or a cut exchange,
#: depending on where the client was when the connection was reset).
FAULTS = {
    "slow": ("n'a pas répondu en 1 s",),
    "drip": ("n'a pas répondu en 1 s",),
    "reset": ("réponse tronquée", "échange interrompu", "gzip tronqué"),
    "truncated-gzip": ("fichier gzip tronqué",),
    "gzip-bomb": ("trop volumineux une fois décompressé",),
    "html": ("page HTML reçue au lieu de données RDF",),
    "garbage": ("données RDF illisibles",),
    "error": ("HTTP 500",),
    "huge": ("trop volumineux", "HARVEST_MAX_BYTES = 200000"),
    "redirect": ("hors de la liste des pairs (PEERS) : redirection refusée",),
}


@pytest.mark.parametrize("mode", FAULTS)
def test_a_fault_is_reported_and_keeps_the_previous_harvest(flaky_harvested, flaky, mode):
    gamma, harvested = flaky_harvested
    with flaky.acting(mode):
        result = run(gamma.env, "harvest", "flaky")
    assert result.exit_code == 2
    assert "flaky : échec :" in result.output
    assert any(words in result.output for words in FAULTS[mode]), result.output
    assert_same(gamma.source("flaky"), harvested)
    table = run(gamma.env, "peers")
    line = next(row for row in table.output.splitlines() if row.startswith("flaky "))
    assert line.split()[-1] != "—", "the last error is shown"
    assert " échec " in line and " 2 " in line


def test_json_ld_remote_contexts_are_never_fetched(federation, flaky):
    _, _, gamma = federation
    with flaky.acting("remote-context"):
        result = run(gamma.env, "harvest", "ctx")
    assert result.exit_code == 2
    assert "données RDF illisibles" in result.output
    assert not any(path.startswith("/context.jsonld") for path, _ in flaky.requests)


# -- the change feed of a memoires-ld peer ---------------------------------------------------


def test_a_memoires_ld_peer_is_reharvested_through_its_change_feed(federation, flaky):
    _, _, gamma = federation
    base = flaky.base + "feed/"
    one, two, three = OPEN[10:13]
    flaky.feed_dump = gzip.compress(
        ox.serialize(fiche_triples([one, two], base), format=ox.RdfFormat.N_TRIPLES)
    )
    first = run(gamma.env, "harvest", "feedpeer")
    assert first.exit_code == 0, first.output
    assert "feedpeer : moissonné : 2 fiche(s)" in first.output
    assert_same(gamma.source("feedpeer"), expected([one, two], base))

    # on the peer: `one` is updated, `two` retired, `three` created
    changed = expected([one], base)
    fiche = URIRef(f"{base}fiche/{one}")
    changed.remove((fiche, DCTERMS.title, None))
    changed.add((fiche, DCTERMS.title, Literal("Nouveau titre", lang="fr")))
    flaky.documents = {
        f"/feed/fiche/{one}": changed.serialize(format="turtle").encode(),
        f"/feed/fiche/{three}": expected([three], base).serialize(format="turtle").encode(),
    }
    published = datetime.now(UTC).isoformat()
    flaky.feed = [
        {"type": kind, "object": {"id": f"{base}fiche/{tag}"}, "published": published}
        for kind, tag in (("Update", one), ("Delete", two), ("Create", three))
    ]
    time.sleep(1.1)  # `since` is to the second: the next harvest starts after those changes
    before = len(flaky.requests)
    second = run(gamma.env, "harvest", "feedpeer")
    assert second.exit_code == 0, second.output
    assert "feedpeer : moissonné (flux) : 2 fiche(s)" in second.output
    want = changed + expected([three], base)
    assert_same(gamma.source("feedpeer"), want)
    asked = [path for path, _ in flaky.requests[before:]]
    assert asked[0].startswith("/feed/changes?since=")
    assert not any("dump" in path for path in asked), "no full download"
    accept = next(h for p, h in flaky.requests[before:] if p.startswith("/feed/changes"))
    assert accept.get("Accept") == "application/activity+json"

    third = run(gamma.env, "harvest", "feedpeer")
    assert third.exit_code == 0, third.output
    assert "feedpeer : inchangé (flux) : 2 fiche(s)" in third.output
    assert_same(gamma.source("feedpeer"), want)


# -- our own write path never touches a harvested graph ----------------------------------------


def test_local_writes_and_sparql_updates_cannot_touch_a_harvested_graph(flaky_harvested):
    gamma, harvested = flaky_harvested
    graph = expected(OPEN[5:6], ELSEWHERE + "pub/")
    store = open_configured(gamma.settings(), writable=True)
    try:
        with pytest.raises(InvalidFiche):
            writes.create_fiche(store, graph, agent="alice")
        with pytest.raises(InvalidFiche):
            writes.replace_fiche(store, graph, agent="alice")
        source = Iris(gamma.base).source("flaky")
        for update in (
            f"DROP GRAPH <{source}>",
            f"INSERT DATA {{ GRAPH <{source}> {{ <{ELSEWHERE}a> <{ELSEWHERE}b> 1 }} }}",
            f"DELETE WHERE {{ GRAPH <{source}> {{ ?s ?p ?o }} }}",
        ):
            with pytest.raises(GraphRefused):
                sparql_update.run(store, update, gamma.base, agent="alice")
    finally:
        del store
        gc.collect()
    assert_same(gamma.source("flaky"), harvested)


def test_harvest_while_the_server_runs_says_to_stop_it(federation):
    alpha, bee, _ = federation
    result = run(alpha.env, "harvest", "bee")
    assert result.exit_code == 2
    assert "ouverte par un autre processus (le serveur ?)" in result.output
    table = run(alpha.env, "peers")  # reading works meanwhile
    assert table.exit_code == 0, table.output
    (row,) = [row for row in table.output.splitlines() if row.startswith("bee ")]
    assert row.split()[1:3] == [bee.base, "memoires-ld"]


@pytest.fixture(scope="module")
def delta(federation, tmp_path_factory):
    """An instance with a revision in its history (its indexes follow it), served, then
    stopped to harvest bee, then served again."""
    _, bee, _ = federation
    delta = Instance(tmp_path_factory.mktemp("delta"), "delta", ALPHA_TAGS)
    delta.env |= {"MEMOIRES_LD_PEERS": f"bee={bee.base}"}
    store = open_configured(delta.settings(), writable=True)
    graph = writes.current_graph(store, ALPHA_TAGS[0])
    fiche = URIRef(f"{delta.base}fiche/{ALPHA_TAGS[0]}")
    graph.set((fiche, DCTERMS.title, Literal("Un titre réécrit", lang="fr")))
    writes.replace_fiche(store, graph, agent="alice")
    del store
    gc.collect()
    delta.server.start().wait_ready()
    assert delta.server.get("/fiches?q=Vend%C3%B4me", accept="text/html")[0] == 200
    delta.server.stop()
    result = run(delta.env, "harvest", "bee")
    assert result.exit_code == 0, result.output
    delta.server.start().wait_ready()
    yield delta
    delta.server.stop()


def _links(instance: Instance, path: str) -> set[str]:
    status, _, body = instance.server.get(path, accept="text/html")
    assert status == 200
    return {a["href"] for a in BeautifulSoup(body, "html.parser").find_all("a", href=True)}


def test_harvested_fiches_are_listed_after_a_restart_with_history(delta, federation):
    _, bee, _ = federation
    assert f"{bee.base}fiche/{BEE_TAGS[0]}" in _links(delta, "/fiches")


def test_harvested_fiches_are_found_by_the_text_search(delta, federation):
    _, bee, _ = federation
    assert f"{bee.base}fiche/{BEE_TAGS[0]}" in _links(delta, "/fiches?q=Vend%C3%B4me")


def test_instances_reharvest_after_changes_on_the_peer(federation):
    """Through bee's change feed when it has one (`/changes`), else in full (its 404)."""
    alpha, bee, _ = federation
    feed = bee.server.get("/changes", accept="application/activity+json")[0] == 200
    assert harvest_into(alpha, "bee").exit_code == 0  # a first harvest (or nothing new)
    # on bee: one fiche edited, one retired, one created
    edited, retired, created = BEE_TAGS[0], BEE_TAGS[1], OPEN[14]
    bee.server.stop()
    store = open_configured(bee.settings(), writable=True)
    graph = writes.current_graph(store, edited)
    graph.set((URIRef(f"{bee.base}fiche/{edited}"), DCTERMS.title, Literal("Réécrite", lang="fr")))
    writes.replace_fiche(store, graph, agent="alice")
    writes.retire_fiche(store, retired, agent="alice")
    writes.create_fiche(store, expected([created], bee.base), agent="alice", stamp=False)
    current = [edited, CLOSED, created]
    want = rdflib_graph(
        q.triple
        for tag in current
        for q in store.graph_quads(str(Iris(bee.base).fiche(tag)))
        if not (tag == CLOSED and q.predicate in WITHHELD)
    )
    del store
    gc.collect()
    bee.server.start().wait_ready()
    result = harvest_into(alpha, "bee")
    assert result.exit_code == 0, result.output
    status = "moissonné (flux)" if feed else "moissonné"
    assert f"bee : {status} : 3 fiche(s) gardée(s)" in result.output
    alpha.server.stop()
    try:
        assert_same(alpha.source("bee"), want)
    finally:
        alpha.server.start().wait_ready()


def test_a_harvest_and_a_fault_on_both_backends(backend, flaky, tmp_path):
    """The plain functions on the embedded store and on Virtuoso: a harvest, a fault that
    leaves it as it was, then a 304."""
    from virtuoso_server import fresh

    from memoires_ld.harvest import harvest
    from memoires_ld.harvest_http import HarvestError
    from memoires_ld.peers import select, state

    settings = config.load(
        {
            "INSTANCE_DIR": tmp_path / "instance",
            "DATA_DIR": make_data(tmp_path / "data", ALPHA_TAGS[:1]),
            "BASE_URL": "http://127.0.0.1:8000/",
            "PEERS": f"flaky=dump+{flaky.base}dump.nt.gz",
            **fresh(dict(backend)),
        }
    )
    store = open_configured(settings, writable=True)
    iris = Iris(store.base)
    (peer,) = select(settings, ("flaky",))
    try:
        flaky.mode = "good"
        done = harvest(store, settings, peer)
        assert (done.status, done.kept, done.rejected) == ("moissonné", 2, 0)
        source = str(iris.source("flaky"))
        harvested = rdflib_graph(q.triple for q in store.graph_quads(source))
        assert_same(harvested, expected(OPEN[5:7], ELSEWHERE + "pub/"))
        with flaky.acting("html"), pytest.raises(HarvestError, match="page HTML"):
            harvest(store, settings, peer)
        assert_same(rdflib_graph(q.triple for q in store.graph_quads(source)), harvested)
        failed = state(store, iris, peer)
        assert (failed.status, failed.kept, failed.error[:40]) == (
            "échec",
            2,
            f"{flaky.base}dump.nt.gz : page HTML reçue"[:40],
        )
        assert harvest(store, settings, peer).status == "inchangé (304)"
        assert state(store, iris, peer).error == ""
    finally:
        flaky.mode = "good"
        store.close()
        del store
        gc.collect()


def test_the_source_of_each_harvested_fiche_for_the_listing(federation, labo, flaky):
    """What the listing's "source" facet reads: fiche → source slug, slug → title."""
    from memoires_ld.peers import fiche_sources, source_titles

    _, _, gamma = federation
    flaky.mode = "good"
    assert run(gamma.env, "harvest", "labo", "flaky").exit_code == 0
    store = open_configured(gamma.settings())
    try:
        iris = Iris(gamma.base)
        sources, titles = fiche_sources(store, iris), source_titles(store, iris)
    finally:
        del store
        gc.collect()
    fine, invalid = labo.tags
    assert sources[f"{LABO}fiche/{fine}"] == ("labo",)
    assert sources[f"{LABO}fiche/{CLOSED}"] == ("labo",)
    assert f"{LABO}fiche/{invalid}" not in sources
    assert {sources[f"{ELSEWHERE}pub/fiche/{t}"] for t in OPEN[5:7]} == {("flaky",)}
    assert f"{gamma.base}fiche/{ALPHA_TAGS[0]}" not in sources
    assert titles["labo"] == "labo" and titles["flaky"] == "flaky"


def test_the_sources_harvested_since_a_time(federation, labo, flaky):
    """What the listing's indexes must read again after harvests: changed_sources."""
    from memoires_ld.peers import changed_sources

    _, _, gamma = federation
    flaky.mode = "good"
    assert run(gamma.env, "harvest", "flaky").exit_code == 0
    before = datetime.now(UTC)
    assert run(gamma.env, "harvest", "labo", "flaky").exit_code == 0  # flaky: 304
    store = open_configured(gamma.settings())
    try:
        iris = Iris(gamma.base)
        changed, later = (
            changed_sources(store, iris, before),
            changed_sources(store, iris, datetime.now(UTC)),
        )
    finally:
        del store
        gc.collect()
    fine, _ = labo.tags
    assert set(changed) == {"labo"}, "a 304 replaces nothing"
    assert changed["labo"] == {f"{LABO}fiche/{fine}", f"{LABO}fiche/{CLOSED}"}
    assert later == {}


def test_a_peer_cannot_say_things_about_our_resources_or_the_vocabulary():
    from memoires_ld.harvest import fiches_of

    ours = "http://127.0.0.1:8000/"
    text = f"""
    @prefix schema: <http://schema.org/> . @prefix foaf: <http://xmlns.com/foaf/0.1/> .
    <{LABO}fiche/X> a <https://w3id.org/memoires-ld/ns#Fiche> ;
        schema:author <{LABO}agent/a>, <{ours}agent/b> ;
        <http://purl.org/dc/terms/type> <https://w3id.org/memoires-ld/vocab/nature/formation> ;
        schema:about <{ours}fiche/Y> .
    <{LABO}fiche/X#action> schema:name "l'action" .
    <{LABO}agent/a> a foaf:Person ; foaf:name "A" ; schema:email "a@example.org" .
    <{ours}agent/b> a foaf:Person ; foaf:name "Renommé par un pair" .
    <https://w3id.org/memoires-ld/vocab/nature/formation> schema:name "Détourné" .
    <{ours}fiche/Y> schema:name "Détournée" .
    """
    triples = [q.triple for q in ox.parse(text, ox.RdfFormat.TURTLE)]
    (fiche,) = fiches_of(triples).values()
    subjects = {t.subject.value for t in fiche}
    assert subjects == {f"{LABO}fiche/X", f"{LABO}fiche/X#action", f"{LABO}agent/a"}
    assert not any(t.predicate.value == "http://schema.org/email" for t in fiche)


def test_a_source_is_forgotten(federation, flaky):
    _, _, gamma = federation
    flaky.mode = "good"
    env = gamma.env | {"MEMOIRES_LD_PEERS": f"vieux=dump+{flaky.base}dump.nt.gz"}
    agent = URIRef(Iris(gamma.base).user("harvest"))  # described once for every source

    def description() -> int:
        return sum(1 for t in gamma.sources() if t[0] != agent)

    described = description()
    assert run(env, "harvest", "vieux").exit_code == 0
    assert len(gamma.source("vieux")) > 0
    others = len(gamma.source("flaky"))
    result = run(gamma.env, "peers", "--forget", "vieux")  # no longer on PEERS
    assert result.exit_code == 0, result.output
    assert "vieux : source oubliée (2 fiche(s) retirée(s))." in result.output
    assert len(gamma.source("vieux")) == 0
    iri = URIRef(Iris(gamma.base).source("vieux"))
    provenance = gamma.sources()
    assert not any(iri in triple for triple in provenance)
    assert description() == described, "no blank node of its description is left"
    assert len(gamma.source("flaky")) == others
