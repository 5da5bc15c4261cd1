"""Helpers for the tests of the resource pages and their RDF (not a test module).

The oracle of each document is built here with rdflib from the published files (data/rdf,
ontology/, shapes/), independently of the code under test, which reads the store.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bs4 import BeautifulSoup
from pyld import jsonld as pyld
from rdflib import BNode, Graph, URIRef
from rdflib.compare import graph_diff, to_isomorphic
from rdflib.namespace import DCTERMS
from virtuoso_server import fresh

from memoires_ld import datadir
from memoires_ld.iris import DEFAULT_BASE, Iris
from memoires_ld.namespaces import PAIR
from memoires_ld.web import create_app
from memoires_ld.web import jsonld as our_jsonld

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data"
BASE = DEFAULT_BASE
IRIS = Iris(BASE)
BROWSER = {
    "firefox": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "chrome": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "safari": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}
RDFLIB_FORMAT = {"ttl": "turtle", "nt": "nt", "rdf": "xml"}


def make_app(tmp: Path, data: Path | None = None, store: dict | None = None):
    """The real app on a copy of the data folder (seed fiches by default), on the embedded
    store or on the backend `store` names (conftest.backend), emptied first."""
    if data is None:
        data = tmp / "data"
        shutil.copytree(SEED / datadir.RDF_DIR, data / datadir.RDF_DIR)
    app = create_app(
        {"INSTANCE_DIR": str(tmp / "instance"), "DATA_DIR": str(data), "BASE_URL": BASE}
        | fresh(store or {})
    )
    app.config["TESTING"] = True
    return app


def path(url: str) -> str:
    """The path to ask the test client for a URL under the base."""
    assert url.startswith(BASE), url
    return "/" + url[len(BASE) :]


# -- RDF --------------------------------------------------------------------------------


def parse(body: bytes, suffix: str) -> Graph:
    """Read a response back: Turtle, N-Triples, RDF/XML with rdflib; JSON-LD with pyld
    (our local loader: never a remote context) to N-Quads, then rdflib."""
    if suffix == "jsonld":
        nquads = pyld.to_rdf(
            json.loads(body),
            {"format": "application/n-quads", "documentLoader": our_jsonld.loader(IRIS)},
        )
        return Graph().parse(data=nquads, format="nt")
    return Graph().parse(data=body, format=RDFLIB_FORMAT[suffix], publicID=BASE)


def assert_same_graph(got: Graph, expected: Graph) -> None:
    """Isomorphism, with the differing triples listed when it fails."""
    if to_isomorphic(got) == to_isomorphic(expected):
        return
    _, only_got, only_expected = graph_diff(to_isomorphic(got), to_isomorphic(expected))

    def lines(g: Graph) -> str:
        return "\n".join(sorted(f"  {s.n3()} {p.n3()} {o.n3()}" for s, p, o in g)[:25])

    raise AssertionError(
        f"graphs differ: {len(only_got)} triple(s) only in the response:\n{lines(only_got)}\n"
        f"{len(only_expected)} triple(s) only in the data:\n{lines(only_expected)}"
    )


def fiche_graph(tag: str) -> Graph:
    return datadir.read_turtle(SEED / datadir.RDF_DIR / datadir.FICHES_DIR / f"{tag}.ttl", BASE)


def all_fiches() -> Graph:
    g = Graph()
    for _, fiche in datadir.read_fiches(SEED, BASE):
        g += fiche
    return g


def file_graph(*parts: str) -> Graph:
    return Graph().parse(ROOT.joinpath(*parts), format="turtle")


def cbd(source: Graph, subjects) -> Graph:
    """Concise bounded description of `subjects` in `source` (following blank nodes)."""
    out, todo, seen = Graph(), list(subjects), set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for s, p, o in source.triples((node, None, None)):
            out.add((s, p, o))
            if isinstance(o, BNode):
                todo.append(o)
    return out


def with_incoming(source: Graph, iri: str, predicates) -> Graph:
    node = URIRef(iri)
    g = cbd(source, [node])
    for predicate in predicates:
        for s in source.subjects(predicate, node):
            g.add((s, predicate, node))
    return g


def creator_links(iri: str) -> Graph:
    return with_incoming(all_fiches(), iri, (DCTERMS.creator, PAIR.involves))


# -- HTML -------------------------------------------------------------------------------


def soup(response) -> BeautifulSoup:
    assert response.mimetype == "text/html", response.mimetype
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def schema_org(page: BeautifulSoup) -> dict:
    scripts = page.find_all("script", type="application/ld+json")
    assert len(scripts) == 1
    return json.loads(scripts[0].string)
