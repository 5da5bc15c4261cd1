"""Fetch what a peer publishes: RDF parsing, each kind of source (HTTP: harvest_http.py).

A gzip stream cut short or larger than `HARVEST_MAX_BYTES` once unpacked, an HTML page or
RDF that does not parse raise `HarvestError` naming the URL, in French: the caller then
writes nothing. RDF is parsed by pyoxigraph, whose JSON-LD parser never loads a remote
context.

Kinds (peers.py): a dump is one GET (conditional: If-None-Match / If-Modified-Since); a VoID
or DCAT description is read for its dumps, then the best one is fetched; a memoires-ld
instance is its `.well-known/void`, then its change feed (`changes?since=`) on later
harvests; a SPARQL endpoint is asked paged CONSTRUCTs (ORDER BY, LIMIT, OFFSET) built by
SPARQLWrapper and sent by the same client.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit

import pyoxigraph as ox
from rdflib.namespace import DCAT, RDF, VOID
from SPARQLWrapper import TURTLE, SPARQLWrapper

from . import __version__
from .harvest_http import Answer, Fetcher, HarvestError
from .namespaces import MLD
from .peers import Peer, is_allowed

RDF_ACCEPT = (
    "application/n-triples, text/turtle;q=0.9, application/ld+json;q=0.8, "
    "application/rdf+xml;q=0.5, application/gzip;q=0.5"
)
FORMATS = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/trig": ox.RdfFormat.TRIG,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
SUFFIXES = {
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".ttl": ox.RdfFormat.TURTLE,
    ".trig": ox.RdfFormat.TRIG,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".json": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
}
#: Dumps in the order we prefer them (the smallest to fetch, the fastest to parse first).
DUMP_PREFERENCE = (".nt.gz", ".nt", ".ttl.gz", ".ttl", ".jsonld", ".trig", ".rdf")
PAGE_SIZE = 200
MAX_PAGES = 10_000
FEED_ACCEPT = "application/activity+json"


@dataclass
class Collected:
    """What a harvest brought back (before validation)."""

    #: the URL the data came from (the dump, the endpoint, the feed)
    used: str
    triples: list[ox.Triple] = field(default_factory=list)
    not_modified: bool = False
    etag: str = ""
    last_modified: str = ""
    #: a feed harvest: fiche IRI → its triples now, or None when it is gone
    changes: dict[str, list[ox.Triple] | None] | None = None
    #: fiches kept only under this IRI prefix (a memoires-ld instance: its own fiches)
    within: str = ""


# -- RDF ---------------------------------------------------------------------------------


def gunzip(url: str, body: bytes, limit: int) -> bytes:
    """Unpack a gzip body, refusing a stream cut short or larger than `limit` unpacked."""
    unpacker = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = unpacker.decompress(body, limit + 1)
    except zlib.error as error:
        raise HarvestError(f"{url} : fichier gzip illisible ({error})") from None
    if len(data) > limit:
        raise HarvestError(
            f"{url} : fichier gzip trop volumineux une fois décompressé (limite "
            f"HARVEST_MAX_BYTES = {limit} octets)"
        )
    if not unpacker.eof:
        raise HarvestError(
            f"{url} : fichier gzip tronqué ({len(body)} octets reçus, la fin manque)"
        )
    return data


def parse_rdf(answer: Answer, limit: int) -> list[ox.Triple]:
    """The triples of an RDF answer (the graphs of a dataset merged); HarvestError if it is
    HTML, garbage, or a format we do not read."""
    body, path = answer.body, urlsplit(answer.url).path
    if body[:2] == b"\x1f\x8b":
        body, path = gunzip(answer.url, body, limit), path.removesuffix(".gz")
    rdf_format = FORMATS.get(answer.content_type) or next(
        (f for suffix, f in SUFFIXES.items() if path.endswith(suffix)), None
    )
    head = body[:512].lstrip().lower()
    if answer.content_type in ("text/html", "application/xhtml+xml") or head.startswith(
        (b"<!doctype html", b"<html")
    ):
        raise HarvestError(f"{answer.url} : page HTML reçue au lieu de données RDF")
    if rdf_format is None:
        raise HarvestError(
            f"{answer.url} : format inconnu (« {answer.content_type or 'sans type'} ») : "
            "N-Triples, Turtle, JSON-LD, TriG ou RDF/XML attendu"
        )
    try:
        return [q.triple for q in ox.parse(body, rdf_format, base_iri=answer.url)]
    except (SyntaxError, ValueError) as error:
        raise HarvestError(
            f"{answer.url} : données RDF illisibles ({rdf_format.name}) : {error}"
        ) from None


def fetch_rdf(fetcher: Fetcher, url: str, *, etag: str = "", last_modified: str = "") -> Collected:
    """A dump: its triples, or `not_modified` when the peer answers 304."""
    answer = fetcher.get(url, RDF_ACCEPT, etag=etag, last_modified=last_modified, ok=(200, 304))
    if answer.status == 304:
        return Collected(url, not_modified=True, etag=etag, last_modified=last_modified)
    return Collected(
        url,
        parse_rdf(answer, fetcher.max_bytes),
        etag=answer.etag,
        last_modified=answer.last_modified,
    )


def _named(term: str) -> ox.NamedNode:
    return ox.NamedNode(str(term))


def has_fiches(triples: list[ox.Triple]) -> bool:
    return any(t.predicate == _named(RDF.type) and t.object == _named(MLD.Fiche) for t in triples)


def dumps_of(triples: list[ox.Triple]) -> list[str]:
    """The dumps a VoID/DCAT description names, the preferred first."""
    links = {_named(VOID.dataDump), _named(DCAT.downloadURL)}
    urls = sorted({t.object.value for t in triples if t.predicate in links}, key=_preference)
    return [u for u in urls if _preference(u)[0] < len(DUMP_PREFERENCE)]


def _preference(url: str) -> tuple[int, str]:
    path = urlsplit(url).path
    rank = next((i for i, s in enumerate(DUMP_PREFERENCE) if path.endswith(s)), 99)
    return rank, url


def from_description(
    fetcher: Fetcher, url: str, triples: list[ox.Triple], etag: str, last_modified: str
) -> Collected:
    """Follow a VoID/DCAT description to the first dump on the allowlist, and fetch it."""
    found = dumps_of(triples)
    allowed = [u for u in found if is_allowed(u, fetcher.origins)]
    if not allowed:
        named = ", ".join(found) or "aucun"
        raise HarvestError(
            f"{url} : la description ne nomme aucun fichier de données lisible sur un pair "
            f"autorisé (void:dataDump, dcat:downloadURL : {named})"
        )
    return fetch_rdf(fetcher, allowed[0], etag=etag, last_modified=last_modified)


def full(peer: Peer, fetcher: Fetcher, *, etag: str = "", last_modified: str = "") -> Collected:
    """Everything a peer publishes now (or `not_modified`)."""
    kind = peer.kind or detect(peer)
    if kind == "sparql":
        return Collected(peer.url, list(sparql_pages(fetcher, peer.url)))
    if kind == "memoires-ld":
        void_url = urljoin(peer.url, ".well-known/void")
        described = fetch_rdf(fetcher, void_url).triples
        collected = from_description(fetcher, void_url, described, etag, last_modified)
        collected.within = peer.url
        return collected
    if kind == "void":
        described = fetch_rdf(fetcher, peer.url).triples
        return from_description(fetcher, peer.url, described, etag, last_modified)
    first = fetch_rdf(fetcher, peer.url, etag=etag, last_modified=last_modified)
    if first.not_modified or has_fiches(first.triples) or kind == "dump":
        return first
    return from_description(fetcher, peer.url, first.triples, "", "")


def detect(peer: Peer) -> str:
    """The kind of a peer given without one: from the shape of its URL."""
    path = urlsplit(peer.url).path
    if path.endswith("/") and not urlsplit(peer.url).query:
        return "memoires-ld"
    if path.rstrip("/").endswith(("/sparql", "/query")):
        return "sparql"
    return ""  # a document: a dump, or a description naming one (decided on what it holds)


# -- SPARQL endpoints ----------------------------------------------------------------------

#: One page of fiches: what each says; what its `#…` resources, blank nodes and the agents it
#: cites (what has a name) say; and one hop further from those (an attribution's agent).
#: harvest.py then keeps only what a fiche's graph holds.
PAGE_QUERY = """PREFIX mld: <https://w3id.org/memoires-ld/ns#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX schema: <http://schema.org/>
CONSTRUCT {{ ?f ?p ?o . ?o ?q ?v . ?v ?r ?w }}
WHERE {{
  {{ SELECT DISTINCT ?f WHERE {{ ?f a mld:Fiche }} ORDER BY ?f LIMIT {limit} OFFSET {offset} }}
  ?f ?p ?o .
  OPTIONAL {{
    ?o ?q ?v .
    FILTER(isBlank(?o) || STRSTARTS(STR(?o), CONCAT(STR(?f), "#"))
           || EXISTS {{ ?o foaf:name|schema:name|foaf:accountName ?name }})
    OPTIONAL {{
      ?v ?r ?w .
      FILTER(isBlank(?v) || EXISTS {{ ?v foaf:name|schema:name|foaf:accountName ?other }})
    }}
  }}
}}"""


def sparql_pages(fetcher: Fetcher, endpoint: str, size: int = PAGE_SIZE) -> Iterator[ox.Triple]:
    """Every fiche of a SPARQL endpoint, page by page, until a page holds no fiche."""
    for page in range(MAX_PAGES):
        wrapper = SPARQLWrapper(endpoint, agent=f"memoires-ld/{__version__}")
        wrapper.setQuery(PAGE_QUERY.format(limit=size, offset=page * size))
        wrapper.setReturnFormat(TURTLE)
        # SPARQLWrapper writes the request (protocol, Accept); our client sends it, so that
        # the allowlist, the deadline and the size cap apply to it as to every harvest.
        answer = fetcher.send(wrapper._createRequest())
        if answer.content_type in ("", "application/octet-stream"):
            answer.content_type = "text/turtle"
        triples = parse_rdf(answer, fetcher.max_bytes)
        yield from triples
        if not has_fiches(triples):
            return
    raise HarvestError(f"{endpoint} : plus de {MAX_PAGES} pages de {size} fiches : arrêt")


# -- the change feed of a memoires-ld instance ---------------------------------------------


def feed(peer: Peer, fetcher: Fetcher, since: str) -> Collected | None:
    """The fiches changed on a memoires-ld peer since `since` (ISO 8601), from its change
    feed (an ActivityStreams 2.0 OrderedCollection); None when the peer has no feed."""
    url = urljoin(peer.url, "changes") + "?since=" + quote(since, safe="")
    answer = fetcher.get(url, FEED_ACCEPT, ok=(200, 404))
    if answer.status == 404:
        return None
    latest: dict[str, str] = {}  # fiche → the last activity about it (items are in order)
    collection = _json(answer)
    page = collection.get("first", collection)
    for _ in range(MAX_PAGES):
        if isinstance(page, dict) and not {"orderedItems", "items"} & set(page):
            page = page.get("id") or page.get("href")  # a Link to the page, not the page
        if isinstance(page, str):
            page = _json(fetcher.get(urljoin(url, page), FEED_ACCEPT))
        if not isinstance(page, dict):
            break
        for item in page.get("orderedItems") or page.get("items") or []:
            target = item.get("object") if isinstance(item, dict) else None
            iri = target.get("id") if isinstance(target, dict) else target
            if isinstance(iri, str) and iri.startswith(peer.url):
                latest[iri] = item.get("type", "")
        page = page.get("next")
        if not page:
            break
    changes: dict[str, list[ox.Triple] | None] = {}
    for iri, kind in latest.items():
        changes[iri] = None if kind == "Delete" else _fiche_document(fetcher, iri)
    return Collected(url, changes=changes, within=peer.url)


def _fiche_document(fetcher: Fetcher, iri: str) -> list[ox.Triple] | None:
    answer = fetcher.get(iri, "text/turtle", ok=(200, 404, 410))
    if answer.status in (404, 410):
        return None
    return parse_rdf(answer, fetcher.max_bytes)


def _json(answer: Answer) -> dict:
    try:
        value = json.loads(answer.body)
    except (ValueError, RecursionError) as error:
        raise HarvestError(f"{answer.url} : flux de modifications illisible ({error})") from None
    if not isinstance(value, dict):
        raise HarvestError(f"{answer.url} : flux de modifications illisible (objet JSON attendu)")
    return value
