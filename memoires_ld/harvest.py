"""Harvest the fiches of a peer into its own named graph, with their provenance.

`harvest(store, settings, peer)` fetches what the peer publishes (harvest_sources.py), cuts
it into fiches (each fiche with its `#…` resources and the names and types of the agents it
cites on its own host, as our write path keeps them), validates each with our shapes (a
fiche not openly licensed may lack its text: a peer's dumps leave it out), and then, in ONE
store update (one transaction):

* replaces the graph `Iris.source(slug)` with the valid fiches, as the peer said them (their
  IRIs are the peer's; nothing is added about them: the graph is the link to the source);
  of a fiche whose licence is not open (licences.py), only the metadata is kept — its text
  (`licences.WITHHELD`) is left out, so it is in none of our dumps either;
* describes the source in the graph `Iris.sources()`::

    <sources/osons> a prov:Entity, void:Dataset ; dct:title "osons" ;
        prov:wasDerivedFrom <http://peer/> ; prov:generatedAtTime "…" ; void:entities 37 ;
        httph:etag "…" ; httph:last-modified "…" ;
        prov:wasGeneratedBy [ a prov:Activity ; prov:used <http://peer/dump> ;
            prov:startedAtTime "…" ; prov:endedAtTime "…" ; prov:wasAssociatedWith <user/harvest> ;
            prov:generated [ a sh:ValidationReport ; sh:conforms false ;
                sh:result [ sh:focusNode <http://peer/fiche/X> ; sh:resultMessage "…"@fr ] ] ] .
    [] a prov:Activity, schema:Action ; prov:used <sources/osons> ;   # the last attempt
        prov:startedAtTime "…" ; prov:endedAtTime "…" ; schema:actionStatus schema:… ;
        schema:description "moissonné" ; schema:error "…" .

A failed harvest (network fault, HTML, garbage, too big), a 304 or a change feed with nothing
new changes only the last attempt: the source's graph and its provenance stay as the last
completed harvest left them.
Fiches of our own instance are never harvested back; from a memoires-ld peer, only the
fiches under its base URL (not those it harvested itself).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, SH, VOID, XSD

from . import validation
from .harvest_http import Fetcher, HarvestError
from .harvest_sources import Collected, detect, feed, full
from .history import N, date_time
from .iris import Iris
from .licences import WITHHELD, open_licences
from .namespaces import MLD, SCHEMA, bind_prefixes
from .peers import ETAG, LAST_MODIFIED, Peer, State, allowed_origins, state
from .store import Store
from .writes import ACCOUNT_PREDICATES, AGENT_PREDICATES, COUNT_WRITE, insert

#: The account our harvests are associated with (prov:wasAssociatedWith).
HARVEST_AGENT = "harvest"
#: Rejected fiches whose first message is kept in the sources graph.
MESSAGES_KEPT = 20
NEIGHBOUR_PREDICATES = frozenset(N(p) for p in AGENT_PREDICATES | ACCOUNT_PREDICATES)
NAMES = NEIGHBOUR_PREDICATES - {N(RDF.type)}
TYPE, FICHE, LICENSE = N(RDF.type), N(MLD.Fiche), N(DCTERMS.license)


@dataclass
class Outcome:
    """What one harvest of one peer did."""

    peer: Peer
    status: str
    kept: int = 0
    rejected: int = 0
    #: fiches kept as metadata only (licence not open); None: not counted (nothing new)
    withheld: int | None = None
    messages: list[str] = field(default_factory=list)


def now() -> datetime:
    return datetime.now(UTC)


# -- cutting a graph into fiches -----------------------------------------------------------


def fiches_of(triples: Iterable[ox.Triple]) -> dict[str, list[ox.Triple]]:
    """Each fiche of the triples → its description: what it and its `#…` resources say
    (blank nodes followed), and the names and types of the resources they cite on the
    fiche's own host (its publisher's agents and accounts). Concepts, other documents and
    resources elsewhere (ours, the vocabulary's) are not copied: a peer cannot rename them."""
    by_subject: dict = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
    fiches = {
        s
        for s, ts in by_subject.items()
        if any(t.predicate == TYPE and t.object == FICHE for t in ts)
    }
    hashed: dict[str, list] = {}
    for subject in by_subject:
        if isinstance(subject, ox.NamedNode) and "#" in subject.value:
            hashed.setdefault(subject.value.split("#", 1)[0], []).append(subject)
    found = {}
    for fiche in sorted((f for f in fiches if isinstance(f, ox.NamedNode)), key=str):
        own = [fiche, *hashed.get(fiche.value, [])]
        described, seen, todo = [], set(), list(own)
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            for t in by_subject.get(node, []):
                described.append(t)
                if isinstance(t.object, ox.BlankNode):
                    todo.append(t.object)
        cited = {t.object for t in described if isinstance(t.object, ox.NamedNode)} - seen
        for other in sorted(cited, key=str):
            if _origin(other.value) != _origin(fiche.value):
                continue  # a fiche names only its publisher's agents (not ours, no concept)
            said = [t for t in by_subject.get(other, []) if t.predicate in NEIGHBOUR_PREDICATES]
            if any(t.predicate in NAMES for t in said):  # an agent or an account it cites
                described += said
        found[fiche.value] = list(dict.fromkeys(described))
    return found


def _origin(iri: str) -> tuple:
    parts = urlsplit(iri)
    return parts.scheme, parts.hostname, parts.port


def _rdflib(triples: list[ox.Triple]) -> Graph:
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    return bind_prefixes(Graph()).parse(data=data, format="nt")


def is_open(triples: list[ox.Triple], fiche: str, open_: frozenset[str]) -> bool:
    licences = {
        t.object.value for t in triples if t.subject.value == fiche and t.predicate == LICENSE
    }
    return bool(licences) and licences <= open_


@dataclass
class Sorted:
    """The fiches of a harvest, validated: kept (possibly as metadata only) or rejected."""

    kept: dict[str, list[ox.Triple]] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)  # fiche → first message


def sort_fiches(fiches: dict[str, list[ox.Triple]], open_: frozenset[str]) -> Sorted:
    """Validate each fiche; keep the valid ones, their text only under an open licence.

    A fiche that is not openly licensed may come without its text (a memoires-ld peer's
    dumps leave it out, as ours do): a missing text is then no violation.
    """
    result = Sorted()
    withheld = {URIRef(p.value) for p in WITHHELD}
    for iri, triples in fiches.items():
        report = validation.validate(_rdflib(triples))
        opened = is_open(triples, iri, open_)
        violations = [v for v in report.violations if opened or v.path not in withheld]
        if violations:
            message = f"{len(violations)} violation(s) : {violations[0].message_fr}"
            result.rejected[iri] = message[:300]
            continue
        if not opened:
            triples = [t for t in triples if t.predicate not in WITHHELD]
        result.kept[iri] = triples
    return result


# -- the harvest -------------------------------------------------------------------------


def harvest(store: Store, settings: dict, peer: Peer, *, clock: Callable = now) -> Outcome:
    """Harvest one peer into the store (see the module doc); raises HarvestError on a fault,
    after recording it as the last attempt."""
    iris = Iris(store.base)
    previous = state(store, iris, peer)
    fetcher = Fetcher(
        allowed_origins(settings),
        float(settings["HARVEST_TIMEOUT"]),
        int(settings["HARVEST_MAX_BYTES"]),
    )
    started = clock()
    try:
        collected = _collect(peer, fetcher, previous)
    except HarvestError as error:
        _record_attempt(store, iris, peer, started, clock(), "échec", error.message)
        raise
    if collected.not_modified or collected.changes == {}:
        status = "inchangé (304)" if collected.not_modified else "inchangé (flux)"
        _record_attempt(store, iris, peer, started, clock(), status, "")
        return Outcome(peer, status, previous.kept, previous.rejected)
    fiches, carried, rejected_before = _fiches(store, iris, peer, previous, collected)
    open_ = open_licences(store)
    result = sort_fiches(fiches, open_)
    result.kept = carried | result.kept
    result.rejected = rejected_before | result.rejected
    _write(store, iris, peer, collected, result, started, clock())
    return Outcome(
        peer,
        _status(collected),
        len(result.kept),
        len(result.rejected),
        sum(not is_open(triples, iri, open_) for iri, triples in result.kept.items()),
        messages=[f"{k} : {m}" for k, m in result.rejected.items()],
    )


def _collect(peer: Peer, fetcher: Fetcher, previous: State) -> Collected:
    """The change feed of a memoires-ld peer harvested before, else everything (conditional)."""
    if previous.started is not None and (peer.kind or detect(peer)) == "memoires-ld":
        collected = feed(peer, fetcher, previous.started.isoformat(timespec="seconds"))
        if collected is not None:
            collected.etag, collected.last_modified = previous.etag, previous.last_modified
            return collected
    return full(peer, fetcher, etag=previous.etag, last_modified=previous.last_modified)


def _fiches(store: Store, iris: Iris, peer: Peer, previous: State, collected: Collected):
    """The fiches to validate, and those a feed harvest carries over unchanged (kept and
    rejected). Never our own fiches; from a memoires-ld peer, only its own."""
    carried: dict[str, list[ox.Triple]] = {}
    rejected_before: dict[str, str] = {}
    if collected.changes is None:
        fiches = fiches_of(collected.triples)
    else:
        fiches = {}
        for iri, triples in collected.changes.items():
            if triples is not None:
                fiches.update({k: v for k, v in fiches_of(triples).items() if k == iri})
        gone = set(collected.changes)
        current = fiches_of(q.triple for q in store.graph_quads(previous.graph))
        carried = {k: v for k, v in current.items() if k not in gone}
        rejected_before = {k: v for k, v in _rejected(store, iris, peer).items() if k not in gone}
    fiches = {
        k: v
        for k, v in fiches.items()
        if not k.startswith(store.base) and k.startswith(collected.within)
    }
    return fiches, carried, rejected_before


def _status(collected: Collected) -> str:
    return "moissonné (flux)" if collected.changes is not None else "moissonné"


def _rejected(store: Store, iris: Iris, peer: Peer) -> dict[str, str]:
    """The rejected fiches the last completed harvest recorded, with their message."""
    rows = store.query(
        f"SELECT ?f ?m WHERE {{ GRAPH {N(iris.sources())} {{ "
        f"{N(iris.source(peer.slug))} {N(PROV.wasGeneratedBy)}/{N(PROV.generated)}/"
        f"{N(SH.result)} ?r . ?r {N(SH.focusNode)} ?f "
        f"OPTIONAL {{ ?r {N(SH.resultMessage)} ?m }} }} }}"
    )
    return {row["f"].value: (row["m"].value if row["m"] else "") for row in rows}


# -- writing ---------------------------------------------------------------------------


def _clear_ops(iris: Iris, slug: str, *, all_of_it: bool) -> list[str]:
    """Delete the description of a source (all of it, or only its last attempt)."""
    sources, source = N(iris.sources()), N(iris.source(slug))
    generated = f"{N(PROV.wasGeneratedBy)}"
    ops = [
        f"DELETE {{ GRAPH {sources} {{ ?x ?p ?o }} }} WHERE {{ GRAPH {sources} "
        f"{{ ?x {N(PROV.used)} {source} . ?x ?p ?o }} }}"
    ]
    if all_of_it:
        for path in (
            f"{generated}/{N(PROV.generated)}/{N(SH.result)}",
            f"{generated}/{N(PROV.generated)}",
            generated,
        ):
            ops.append(
                f"DELETE {{ GRAPH {sources} {{ ?x ?p ?o }} }} WHERE {{ GRAPH {sources} "
                f"{{ {source} {path} ?x . ?x ?p ?o }} }}"
            )
        ops.append(f"DELETE WHERE {{ GRAPH {sources} {{ {source} ?p ?o }} }}")
    return ops


def _attempt(
    iris: Iris, peer: Peer, started: datetime, ended: datetime, status: str, error: str
) -> list[ox.Triple]:
    check, source = ox.BlankNode(), N(iris.source(peer.slug))
    action = SCHEMA.FailedActionStatus if error else SCHEMA.CompletedActionStatus
    triples = [
        ox.Triple(check, TYPE, N(PROV.Activity)),
        ox.Triple(check, TYPE, N(SCHEMA.Action)),
        ox.Triple(check, N(PROV.used), source),
        ox.Triple(check, N(PROV.startedAtTime), date_time(started)),
        ox.Triple(check, N(PROV.endedAtTime), date_time(ended)),
        ox.Triple(check, N(SCHEMA.actionStatus), N(action)),
        ox.Triple(check, N(SCHEMA.description), ox.Literal(status, language="fr")),
    ]
    if error:
        triples.append(ox.Triple(check, N(SCHEMA.error), ox.Literal(error, language="fr")))
    return triples


def _description(
    iris: Iris, peer: Peer, used: str, result: Sorted, started, ended, etag, modified
) -> list[ox.Triple]:
    source, agent = N(iris.source(peer.slug)), N(iris.user(HARVEST_AGENT))
    activity, report = ox.BlankNode(), ox.BlankNode()
    t = ox.Triple
    triples = [
        t(source, TYPE, N(PROV.Entity)),
        t(source, TYPE, N(VOID.Dataset)),
        t(source, N(DCTERMS.title), ox.Literal(peer.name)),
        t(source, N(PROV.wasDerivedFrom), ox.NamedNode(peer.url)),
        t(source, N(PROV.generatedAtTime), date_time(ended)),
        t(source, N(VOID.entities), ox.Literal(str(len(result.kept)), datatype=N(XSD.integer))),
        t(source, N(PROV.wasGeneratedBy), activity),
        t(activity, TYPE, N(PROV.Activity)),
        t(activity, N(PROV.used), ox.NamedNode(used)),
        t(activity, N(PROV.startedAtTime), date_time(started)),
        t(activity, N(PROV.endedAtTime), date_time(ended)),
        t(activity, N(PROV.wasAssociatedWith), agent),
        t(activity, N(PROV.generated), report),
        t(report, TYPE, N(SH.ValidationReport)),
        t(
            report,
            N(SH.conforms),
            ox.Literal(str(not result.rejected).lower(), datatype=N(XSD.boolean)),
        ),
        t(agent, TYPE, N(PROV.SoftwareAgent)),
        t(agent, N(FOAF.accountName), ox.Literal(HARVEST_AGENT)),
    ]
    if etag:
        triples.append(t(source, ETAG, ox.Literal(etag)))
    if modified:
        triples.append(t(source, LAST_MODIFIED, ox.Literal(modified)))
    for n, (fiche, message) in enumerate(sorted(result.rejected.items())):
        node = ox.BlankNode()
        triples += [
            t(report, N(SH.result), node),
            t(node, TYPE, N(SH.ValidationResult)),
            t(node, N(SH.focusNode), ox.NamedNode(fiche)),
            t(node, N(SH.resultSeverity), N(SH.Violation)),
        ]
        if n < MESSAGES_KEPT and message:
            triples.append(t(node, N(SH.resultMessage), ox.Literal(message, language="fr")))
    return triples


def _run(store: Store, ops: list[str], quads: list[ox.Quad]) -> None:
    """One update request: the operations, the new quads, the write counter (caches follow)."""
    store.update(" ;\n".join([*ops, *insert(store, quads), COUNT_WRITE]))


def _in(graph, triples: Iterable[ox.Triple]) -> list[ox.Quad]:
    return [ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples]


def _record_attempt(store, iris, peer, started, ended, status, error) -> None:
    """Replace only the last attempt (a source never harvested also gets its name)."""
    sources, source = N(iris.sources()), N(iris.source(peer.slug))
    triples = _attempt(iris, peer, started, ended, status, error)
    if state(store, iris, peer).title == "":
        triples.append(ox.Triple(source, N(DCTERMS.title), ox.Literal(peer.name)))
        triples.append(ox.Triple(source, N(PROV.wasDerivedFrom), ox.NamedNode(peer.url)))
    _run(store, _clear_ops(iris, peer.slug, all_of_it=False), _in(sources, triples))


def _write(store, iris, peer, collected, result: Sorted, started, ended) -> None:
    source, sources = N(iris.source(peer.slug)), N(iris.sources())
    triples = [t for fiche in sorted(result.kept) for t in result.kept[fiche]]
    description = _description(
        iris, peer, collected.used, result, started, ended, collected.etag, collected.last_modified
    )
    quads = _in(source, dict.fromkeys(triples))
    quads += _in(
        sources, description + _attempt(iris, peer, started, ended, _status(collected), "")
    )
    ops = [f"DROP SILENT GRAPH {source}", *_clear_ops(iris, peer.slug, all_of_it=True)]
    _run(store, ops, quads)


def forget(store: Store, slug: str) -> int:
    """Remove a source (a peer taken off PEERS): its graph and its provenance, in one update.
    Return how many fiches it held."""
    iris = Iris(store.base)
    source = N(iris.source(slug))
    held = sum(1 for _ in store.match(None, TYPE, FICHE, source))
    _run(store, [f"DROP SILENT GRAPH {source}", *_clear_ops(iris, slug, all_of_it=True)], [])
    return held
