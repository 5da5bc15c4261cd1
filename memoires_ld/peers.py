"""The peers a harvest may fetch (the allowlist of `PEERS`) and what the store says of each.

`PEERS` (settings) is `name=URL` separated by spaces, URL optionally prefixed by its kind:
`osons=http://osons.example/` (detected), `labo=sparql+http://labo.example/sparql`,
`vieux=dump+http://vieux.example/memoires.nt.gz`. Kinds:

* `memoires-ld`: another instance (its base URL): its VoID, its dump, its change feed;
* `sparql`: any SPARQL 1.1 endpoint, queried with paged CONSTRUCTs;
* `dump`: an RDF file (N-Triples gzip, N-Triples, Turtle, JSON-LD);
* `void`: a VoID or DCAT description naming a dump (`void:dataDump`, `dcat:downloadURL`).

Only these URLs are fetched, and only the hosts they name are ever contacted (redirects to
another host are refused). Each peer's fiches go to the named graph `Iris.source(slug)`;
its state (last harvest, counts, last error) is read back from the graph `Iris.sources()`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, urlsplit

import pyoxigraph as ox
from rdflib.namespace import DCTERMS, PROV, SH, VOID, XSD

from .errors import MemoiresError
from .history import N
from .iris import Iris, slugify
from .namespaces import MLD, SCHEMA
from .store import Store

KINDS = ("memoires-ld", "sparql", "dump", "void")
#: HTTP headers kept about a source (W3C "HTTP Vocabulary in RDF 1.0", its header names).
HTTP_HEADERS = "http://www.w3.org/2011/http-headers#"
ETAG = ox.NamedNode(HTTP_HEADERS + "etag")
LAST_MODIFIED = ox.NamedNode(HTTP_HEADERS + "last-modified")


class PeerRefused(MemoiresError):
    """A URL or a name that is not on the allowlist (PEERS), or a malformed PEERS."""

    status = 403
    code = "pair-refuse"


@dataclass(frozen=True)
class Peer:
    name: str
    url: str
    #: one of KINDS, or "" to detect it from what the URL answers
    kind: str = ""

    @property
    def slug(self) -> str:
        return slugify(self.name) or "source"

    @property
    def origin(self) -> tuple[str, str, int | None]:
        return _origin(self.url)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or ""), parts.port


def parse_peers(value: str | dict) -> list[Peer]:
    """The peers of a PEERS setting (`name=[kind+]URL …`, or a dict name → URL)."""
    items = value.items() if isinstance(value, dict) else _pairs(str(value))
    peers, names = [], set()
    for name, target in items:
        kind, _, rest = target.partition("+")
        kind, url = (kind, rest) if kind in KINDS and rest else ("", target)
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise PeerRefused(f"PEERS : adresse invalide pour « {name} » : {target}")
        peer = Peer(name, url, kind)
        if peer.slug in names:
            raise PeerRefused(f"PEERS : deux pairs portent le nom « {name} »")
        names.add(peer.slug)
        peers.append(peer)
    return peers


def _pairs(text: str) -> list[tuple[str, str]]:
    pairs = []
    for item in text.split():
        name, sep, url = item.partition("=")
        if not sep or not name or not url:
            raise PeerRefused(f"PEERS : « {item} » n'est pas de la forme nom=URL")
        pairs.append((name, url))
    return pairs


def select(settings: dict, wanted: tuple[str, ...] = ()) -> list[Peer]:
    """The peers named (by name or URL) in `wanted`, every peer if it is empty.

    A name or URL that is not on the allowlist raises PeerRefused: nothing is fetched.
    """
    peers = parse_peers(settings.get("PEERS") or "")
    if not wanted:
        return peers
    chosen = []
    for item in wanted:
        found = [p for p in peers if item in (p.name, p.url, f"{p.kind}+{p.url}")]
        if not found:
            known = ", ".join(p.name for p in peers) or "aucun (PEERS est vide)"
            raise PeerRefused(
                f"« {item} » n'est pas dans la liste des pairs autorisés (PEERS) : rien n'est "
                f"moissonné. Pairs connus : {known}."
            )
        chosen.extend(p for p in found if p not in chosen)
    return chosen


def allowed_origins(settings: dict) -> frozenset:
    """Scheme, host and port of every peer: the only places a harvest may contact."""
    return frozenset(p.origin for p in parse_peers(settings.get("PEERS") or ""))


def is_allowed(url: str, origins: frozenset) -> bool:
    return _origin(url) in origins


# -- the state of each source, as the graph Iris.sources() says it -------------------------


@dataclass
class State:
    """What the store knows of one peer's source."""

    graph: str
    title: str = ""
    harvested: datetime | None = None  # end of the last completed harvest
    started: datetime | None = None  # its start: the `since` of the next feed request
    checked: datetime | None = None  # end of the last attempt (ok, 304 or failed)
    status: str = "jamais moissonné"
    kept: int = 0
    rejected: int = 0
    error: str = ""
    etag: str = ""
    last_modified: str = ""
    messages: tuple[str, ...] = ()


def _value(store: Store, subject, predicate, graph) -> ox.Literal | ox.NamedNode | None:
    if not isinstance(predicate, ox.NamedNode):
        predicate = ox.NamedNode(str(predicate))
    for quad in store.match(subject, predicate, None, graph):
        return quad.object
    return None


def _time(term) -> datetime | None:
    return datetime.fromisoformat(term.value) if term is not None else None


def state(store: Store, iris: Iris, peer: Peer) -> State:
    """The state of `peer`'s source (a fresh State if it was never harvested)."""
    graph = ox.NamedNode(str(iris.source(peer.slug)))
    sources = ox.NamedNode(str(iris.sources()))
    found = State(graph=graph.value)
    title = _value(store, graph, DCTERMS.title, sources)
    if title is None:
        return found
    found.title = title.value
    done = _value(store, graph, PROV.wasGeneratedBy, sources)
    if done is not None:
        found.harvested = _time(_value(store, done, PROV.endedAtTime, sources))
        found.started = _time(_value(store, done, PROV.startedAtTime, sources))
        report = _value(store, done, PROV.generated, sources)
        results = list(store.match(report, ox.NamedNode(str(SH.result)), None, sources))
        found.rejected = len(results)
        found.messages = tuple(
            q.object.value
            for r in results
            for q in store.match(r.object, ox.NamedNode(str(SH.resultMessage)), None, sources)
        )
    kept = _value(store, graph, VOID.entities, sources)
    found.kept = int(kept.value) if kept is not None else 0
    for attr, predicate in (("etag", ETAG), ("last_modified", LAST_MODIFIED)):
        term = _value(store, graph, predicate, sources)
        setattr(found, attr, term.value if term is not None else "")
    last = next(store.match(None, ox.NamedNode(str(PROV.used)), graph, sources), None)
    if last is not None:
        check = last.subject
        found.checked = _time(_value(store, check, PROV.endedAtTime, sources))
        error = _value(store, check, SCHEMA.error, sources)
        found.error = error.value if error is not None else ""
        status = _value(store, check, SCHEMA.description, sources)
        found.status = status.value if status is not None else ""
    return found


def fiche_sources(
    store: Store, iris: Iris, fiches: Iterable[str] | None = None
) -> dict[str, tuple[str, ...]]:
    """Each harvested fiche IRI (of `fiches` if given) → the slugs of its sources (sorted;
    two peers may publish the same fiche): the keys of the listing's "source" facet. A fiche
    of our own is in no `sources/…` graph, so not in this dict."""
    prefix = str(iris.source(""))
    only = ""
    if fiches is not None:
        only = f"VALUES ?f {{ {' '.join(str(ox.NamedNode(f)) for f in sorted(fiches))} }}"
    rows = store.query(
        f"SELECT DISTINCT ?f ?g WHERE {{ {only} GRAPH ?g {{ ?f a {N(MLD.Fiche)} }} "
        f"FILTER(STRSTARTS(STR(?g), {ox.Literal(prefix)})) }}"
    )
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["f"].value, set()).add(unquote(row["g"].value[len(prefix) :]))
    return {fiche: tuple(sorted(slugs)) for fiche, slugs in found.items()}


def source_titles(store: Store, iris: Iris) -> dict[str, str]:
    """Each harvested source's slug → its title (the peer's name in PEERS): the facet's labels."""
    prefix = str(iris.source(""))
    title = ox.NamedNode(str(DCTERMS.title))
    return {
        unquote(q.subject.value[len(prefix) :]): q.object.value
        for q in store.match(None, title, None, ox.NamedNode(str(iris.sources())))
        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(prefix)
    }


def changed_sources(store: Store, iris: Iris, since: datetime) -> dict[str, set[str]]:
    """The sources whose graph a harvest replaced at or after `since` (a timezone-aware time)
    → the fiches each holds now. What the listing's indexes, which follow revisions, must
    read again: these fiches, and drop the others they had from the same source."""
    moment = ox.Literal(since.isoformat(), datatype=ox.NamedNode(str(XSD.dateTime)))
    rows = store.query(
        f"SELECT ?g ?f WHERE {{ GRAPH {N(iris.sources())} {{ ?g {N(PROV.generatedAtTime)} ?t "
        f"FILTER(?t >= {moment}) }} OPTIONAL {{ GRAPH ?g {{ ?f a {N(MLD.Fiche)} }} }} }}"
    )
    prefix = str(iris.source(""))
    found: dict[str, set[str]] = {}
    for row in rows:
        fiches = found.setdefault(unquote(row["g"].value[len(prefix) :]), set())
        if row["f"] is not None:
            fiches.add(row["f"].value)
    return found
