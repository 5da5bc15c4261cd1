"""The history of each fiche: one revision per write, kept in the store and queryable in SPARQL.

Each fiche has a named graph `{fiche}/history` (kept when the fiche is retired) holding::

    <fiche/T/history> a as:OrderedCollection ; dct:subject <fiche/T> ;
        as:totalItems 3 ; as:last <fiche/T/revision/3> .
    <fiche/T/revision/3> a prov:Entity, cs:ChangeSet ; dct:isPartOf <fiche/T/history> ;
        prov:specializationOf <fiche/T> ; cs:subjectOfChange <fiche/T> ; schema:version 3 ;
        prov:wasRevisionOf <fiche/T/revision/2> ; cs:precedingChangeSet <fiche/T/revision/2> ;
        prov:generatedAtTime "…"^^xsd:dateTime ; cs:createdDate "…"^^xsd:dateTime ;
        prov:wasAttributedTo <user/alice> ; cs:creatorName "alice" ; cs:changeReason "…"@fr ;
        prov:wasGeneratedBy [ a prov:Activity, as:Update ; prov:wasAssociatedWith <user/alice> ;
                              prov:endedAtTime "…"^^xsd:dateTime ] ;
        cs:addition [ a rdf:Statement ; rdf:subject … ; rdf:predicate … ; rdf:object … ] ;
        cs:removal [ a rdf:Statement ; … ] .
    <user/alice> a prov:Agent, foaf:OnlineAccount ; foaf:accountName "alice" .

What changed is kept as reified statements (the Changeset vocabulary's `cs:addition` and
`cs:removal`), not as named graphs of triples: SPARQL's default graph is the union of all
graphs, where added/removed triples in graphs of their own would read as current data. The
activity type says what the write was: `as:Create`, `as:Update` or `as:Delete` (retired).

A fiche created by an import (data/ sync, `memoires-ld load`, a new store) gets a small first
revision (#7): instead of reifying its ~50 triples (5 quads each), it names what was imported
and how big the fiche's graph was::

    <fiche/T/revision/1> schema:sha256 "…" ;   # the digest of the file it was read from
        void:triples 54 .                        # the triples it added: the graph as it was

Its additions are the fiche as it was after that revision, rebuilt backwards from the current
graph by undoing the later revisions (`state_at`), which record what they add and remove as
above. Before a creation the fiche has no triple, so the walk stops there.

A retired fiche leaves a tombstone in the graph `{fiche}#tombstone`::

    <fiche/T> a as:Tombstone ; as:formerType mld:Fiche ; as:deleted "…"^^xsd:dateTime ;
        rdfs:label "title"@fr ; skos:changeNote "reason"@fr ; rdfs:seeAlso <fiche/T/history> .
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pyoxigraph as ox
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, RDFS, SKOS, VOID, XSD

from .iris import Iris
from .namespaces import AS, CS, MLD, SCHEMA
from .store import Store

KINDS = {"create": AS.Create, "replace": AS.Update, "retire": AS.Delete}
_KIND_OF = {str(v): k for k, v in KINDS.items()}


def N(term) -> ox.NamedNode:
    return ox.NamedNode(str(term))


#: A vocabulary term (a predicate, a class, a datatype), made once.
_vocab = functools.cache(N)


def fresh_blank_node() -> ox.BlankNode:
    """A blank node with 128 random bits from the kernel. Oxigraph's own generator is not
    used for what is stored: processes forked from one parent may draw the same labels."""
    # The top bit set: 32 hex digits, kept by Oxigraph as a number, not a string.
    label = int.from_bytes(os.urandom(16)) | 1 << 127
    return ox.BlankNode(f"{label:x}")


def date_time(value: datetime) -> ox.Literal:
    if value.utcoffset() is None:
        raise ValueError(f"a date without time zone cannot be published: {value}")
    return ox.Literal(value.isoformat(), datatype=_vocab(XSD.dateTime))


@dataclass(frozen=True)
class Revision:
    """One write of one fiche, as its history records it."""

    tag: str
    number: int
    iri: str
    kind: str  # "create", "replace" or "retire"
    agent: str  # the account's name ("import" for data/ and YesWiki imports)
    agent_iri: str
    at: datetime
    reason: str = ""
    added: int = 0
    removed: int = 0

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None


@dataclass(frozen=True)
class Tombstone:
    tag: str
    title: str
    at: datetime
    reason: str
    history: str


def record(
    iris: Iris,
    revision: Revision,
    added: Iterable[ox.Triple],
    removed: Iterable[ox.Triple],
    *,
    source_digest: str | None = None,
) -> list[ox.Quad]:
    """The quads that record `revision` in the fiche's history graph.

    With `source_digest` (the sha256 of the file a creation was imported from), the
    additions are not reified: the revision holds the digest and their number.
    """
    tag, n = revision.tag, revision.number
    graph = N(iris.history(tag))
    fiche, rev, agent = N(iris.fiche(tag)), N(revision.iri), N(revision.agent_iri)
    at = date_time(revision.at)
    quads: list[ox.Quad] = []

    def add(s, p, o) -> None:
        quads.append(ox.Quad(s, _vocab(p), o, graph))

    add(graph, RDF.type, _vocab(AS.OrderedCollection))
    add(graph, DCTERMS.subject, fiche)
    add(graph, AS.totalItems, ox.Literal(str(n), datatype=_vocab(XSD.nonNegativeInteger)))
    add(graph, AS.last, rev)
    for t in (PROV.Entity, CS.ChangeSet):
        add(rev, RDF.type, _vocab(t))
    add(rev, DCTERMS.isPartOf, graph)
    add(rev, PROV.specializationOf, fiche)
    add(rev, CS.subjectOfChange, fiche)
    add(rev, SCHEMA.version, ox.Literal(str(n), datatype=_vocab(XSD.integer)))
    if n > 1:
        previous = N(iris.revision(tag, n - 1))
        add(rev, PROV.wasRevisionOf, previous)
        add(rev, CS.precedingChangeSet, previous)
    add(rev, PROV.generatedAtTime, at)
    add(rev, CS.createdDate, at)
    add(rev, PROV.wasAttributedTo, agent)
    add(rev, CS.creatorName, ox.Literal(revision.agent))
    if revision.reason:
        add(rev, CS.changeReason, ox.Literal(revision.reason, language="fr"))
    activity = fresh_blank_node()
    add(rev, PROV.wasGeneratedBy, activity)
    for t in (PROV.Activity, KINDS[revision.kind]):
        add(activity, RDF.type, _vocab(t))
    add(activity, PROV.wasAssociatedWith, agent)
    add(activity, PROV.endedAtTime, at)
    for t in (PROV.Agent, FOAF.OnlineAccount):
        add(agent, RDF.type, _vocab(t))
    add(agent, FOAF.accountName, ox.Literal(revision.agent))
    if source_digest is not None:
        if revision.kind != "create":
            raise ValueError("only a creation is recorded by its source")
        add(rev, SCHEMA.sha256, ox.Literal(source_digest))
        add(rev, VOID.triples, ox.Literal(str(revision.added), datatype=_vocab(XSD.integer)))
        added = ()
    for link, triples in ((CS.addition, added), (CS.removal, removed)):
        for triple in triples:
            statement = fresh_blank_node()
            add(rev, link, statement)
            add(statement, RDF.type, _vocab(RDF.Statement))
            add(statement, RDF.subject, triple.subject)
            add(statement, RDF.predicate, triple.predicate)
            add(statement, RDF.object, triple.object)
    return quads


def tombstone(iris: Iris, revision: Revision, title: str) -> list[ox.Quad]:
    """The quads of the tombstone a retired fiche leaves (served with 410 Gone)."""
    tag = revision.tag
    graph, fiche = N(iris.tombstone(tag)), N(iris.fiche(tag))
    quads = [
        ox.Quad(fiche, N(RDF.type), N(AS.Tombstone), graph),
        ox.Quad(fiche, N(AS.formerType), N(MLD.Fiche), graph),
        ox.Quad(fiche, N(AS.deleted), date_time(revision.at), graph),
        ox.Quad(fiche, N(RDFS.seeAlso), N(iris.history(tag)), graph),
        ox.Quad(fiche, N(PROV.wasInvalidatedBy), N(revision.iri), graph),
    ]
    if title:
        quads.append(ox.Quad(fiche, N(RDFS.label), ox.Literal(title, language="fr"), graph))
    if revision.reason:
        note = ox.Literal(revision.reason, language="fr")
        quads.append(ox.Quad(fiche, N(SKOS.changeNote), note, graph))
    return quads


# ------------------------------------------------------------------------------- reading

_REVISIONS = f"""
SELECT ?rev ?n ?at ?name ?agent ?kind ?reason ?size
       (COUNT(DISTINCT ?a) AS ?added) (COUNT(DISTINCT ?r) AS ?removed)
WHERE {{
  FILTER_PLACEHOLDER
  GRAPH ?history {{
    ?rev <{CS.subjectOfChange}> ?fiche ; <{SCHEMA.version}> ?n ;
         <{PROV.generatedAtTime}> ?at ; <{PROV.wasAttributedTo}> ?agent ;
         <{CS.creatorName}> ?name ; <{PROV.wasGeneratedBy}> ?activity .
    ?activity a ?kind .
    FILTER(?kind != <{PROV.Activity}>)
    OPTIONAL {{ ?rev <{CS.changeReason}> ?reason }}
    OPTIONAL {{ ?rev <{VOID.triples}> ?size }}
    OPTIONAL {{ ?rev <{CS.addition}> ?a }}
    OPTIONAL {{ ?rev <{CS.removal}> ?r }}
  }}
}}
GROUP BY ?rev ?n ?at ?name ?agent ?kind ?reason ?size
ORDER BY ?at ?n
"""


def _query(store: Store, restriction: str) -> list[Revision]:
    """Revisions matching `restriction`, a SPARQL fragment built from N-Triples terms only."""
    iris = Iris(store.base)
    sparql = _REVISIONS.replace("FILTER_PLACEHOLDER", restriction)
    found = []
    for row in store.query(sparql):
        tag = iris.tag_of(_fiche_of(row["rev"].value))
        found.append(
            Revision(
                tag=tag or "",
                number=int(row["n"].value),
                iri=row["rev"].value,
                kind=_KIND_OF.get(row["kind"].value, "replace"),
                agent=row["name"].value,
                agent_iri=row["agent"].value,
                at=datetime.fromisoformat(row["at"].value),
                reason=row["reason"].value if row["reason"] is not None else "",
                added=int((row["size"] or row["added"]).value),
                removed=int(row["removed"].value),
            )
        )
    return found


def _fiche_of(revision_iri: str) -> str:
    return revision_iri.rsplit("/revision/", 1)[0]


def revisions(store: Store, tag: str) -> list[Revision]:
    """Every revision of a fiche, oldest first (empty if it never existed)."""
    history = N(Iris(store.base).history(tag))
    found = _query(store, f"VALUES ?history {{ {history} }}")
    return sorted(found, key=lambda r: r.number)


def revision(store: Store, tag: str, number: int) -> Revision | None:
    rev = N(Iris(store.base).revision(tag, number))
    history = N(Iris(store.base).history(tag))
    found = _query(store, f"VALUES (?history ?rev) {{ ({history} {rev}) }}")
    return found[0] if found else None


def changes_since(store: Store, since: datetime) -> list[Revision]:
    """Every revision of every fiche written at or after `since` (time-zone aware), oldest first.

    Inclusive, so that a reader that asks again from the time of the last change it saw
    misses nothing (it drops the revisions it already has by their IRI).
    """
    restriction = f"FILTER(?at >= {date_time(since)})"
    return _query(store, restriction)


def head(store: Store, tag: str) -> ox.NamedNode | None:
    """The IRI of the latest revision of a fiche, if it has any."""
    history = N(Iris(store.base).history(tag))
    for quad in store.match(history, N(AS.last), None, history):
        return quad.object
    return None


def head_number(store: Store, tag: str) -> int:
    """The number of the latest revision of a fiche (0 if it has none)."""
    return number(head(store, tag))


def number(revision: ox.NamedNode | None) -> int:
    """The number of a revision from its IRI (0 for None)."""
    return int(revision.value.rsplit("/", 1)[1]) if revision is not None else 0


def changes(store: Store, tag: str, number: int) -> tuple[list[ox.Triple], list[ox.Triple]]:
    """The triples a revision added and removed (an imported creation: the graph as it was)."""
    recorded = _recorded(store, tag, number)
    if number in recorded.snapshots:
        return sorted(state_at(store, tag, number), key=str), []
    return recorded.added.get(number, []), recorded.removed.get(number, [])


@dataclass
class _Recorded:
    """What a fiche's history records: each revision's reified additions and removals, and
    the numbers of the imported creations (whose additions are not reified)."""

    added: dict[int, list[ox.Triple]]
    removed: dict[int, list[ox.Triple]]
    snapshots: set[int]


def _recorded(store: Store, tag: str, number: int | None = None) -> _Recorded:
    """One query for the changes of revision `number` (of every revision if None), joined
    through the statements' blank nodes: a blank node read in one answer cannot be named in
    the next request to a SPARQL server."""
    iris = Iris(store.base)
    graph = N(iris.history(tag))
    rev = N(iris.revision(tag, number)) if number is not None else "?rev"
    sparql = f"""SELECT ?rev ?link ?s ?p ?o WHERE {{ GRAPH {graph} {{
      {{ VALUES ?link {{ {N(CS.addition)} {N(CS.removal)} }}
         {rev} ?link ?statement .
         ?statement {N(RDF.subject)} ?s ; {N(RDF.predicate)} ?p ; {N(RDF.object)} ?o }}
      UNION {{ {rev} {N(VOID.triples)} ?size BIND({N(VOID.triples)} AS ?link) }}
      {f"BIND({rev} AS ?rev)" if number is not None else ""} }} }}"""
    found = _Recorded({}, {}, set())
    for row in store.query(sparql):
        n = int(row["rev"].value.rsplit("/", 1)[1])
        link = row["link"].value
        if link == str(VOID.triples):
            found.snapshots.add(n)
        else:
            into = found.added if link == str(CS.addition) else found.removed
            into.setdefault(n, []).append(ox.Triple(row["s"], row["p"], row["o"]))
    return found


def state_at(store: Store, tag: str, number: int) -> set[ox.Triple]:
    """The fiche as it was after revision `number`: the current graph with the later
    revisions undone, newest first (an imported creation does not list what it added)."""
    fiche = N(Iris(store.base).fiche(tag))
    state = {q.triple for q in store.match(None, None, None, fiche)}
    recorded = _recorded(store, tag)
    for n in range(head_number(store, tag), number, -1):
        if n in recorded.snapshots:
            state = set()  # nothing before a creation
            continue
        state.difference_update(recorded.added.get(n, ()))
        state.update(recorded.removed.get(n, ()))
    return state


def revision_quads(store: Store, tag: str, number: int) -> list[ox.Quad]:
    """What the history graph says about one revision (to serve it as RDF)."""
    rev = N(Iris(store.base).revision(tag, number))
    graph = N(Iris(store.base).history(tag))
    return store.describe([rev], graph, follow=frozenset([N(PROV.wasAttributedTo)]))


def get_tombstone(store: Store, tag: str) -> Tombstone | None:
    """The tombstone of a retired fiche, or None if it is not retired."""
    iris = Iris(store.base)
    graph, fiche = N(iris.tombstone(tag)), N(iris.fiche(tag))
    values = {q.predicate.value: q.object for q in store.match(fiche, None, None, graph)}
    if str(AS.deleted) not in values:
        return None
    label = values.get(str(RDFS.label))
    note = values.get(str(SKOS.changeNote))
    return Tombstone(
        tag=tag,
        title=label.value if label is not None else tag,
        at=datetime.fromisoformat(values[str(AS.deleted)].value),
        reason=note.value if note is not None else "",
        history=str(iris.history(tag)),
    )


def state(store: Store, tag: str) -> str | None:
    """The state of a fiche, as its ETags start: a digest of its latest revision's IRI."""
    return state_of(head(store, tag))


def state_of(last: ox.NamedNode | None) -> str | None:
    """The state a fiche is in when `last` is its latest revision (None: no revision)."""
    return hashlib.sha256(last.value.encode()).hexdigest()[:16] if last is not None else None


def etag(store: Store, tag: str) -> str | None:
    """The strong entity tag of a fiche's current state, the same for every format.

    The pages' ETags are `"<state>-<variant>"` (web/http.py): If-Match compares the state,
    the part before the dash (what one edits is the state, whichever format one read).
    """
    current = state(store, tag)
    return f'"{current}"' if current is not None else None


def same_state(tag_value: str, current: str) -> bool:
    """Whether an entity tag from If-Match names the state `current` (strong comparison)."""
    tag_value = tag_value.strip()
    if tag_value.startswith("W/") or not (tag_value.startswith('"') and tag_value.endswith('"')):
        return False
    return tag_value.strip('"').split("-", 1)[0] == current


# ---------------------------------------------------------------- store metadata (internal)

#: Bookkeeping of the store, not published: the number of writes (so that `Store.version`
#: changes with each write), the store's random id, the digest of each data/ file imported.
META_GRAPH = ox.NamedNode("urn:x-memoires-ld:store")
META = ox.NamedNode("urn:x-memoires-ld:store")
WRITES = ox.NamedNode("urn:x-memoires-ld:writes")
STORE_ID = ox.NamedNode("urn:x-memoires-ld:id")
DATA_DIGEST = ox.NamedNode("urn:x-memoires-ld:data-digest")
#: `<revision> WRITE_ID "token"`: the write that made a revision (write_request.run).
WRITE_ID = ox.NamedNode("urn:x-memoires-ld:write")
#: Prefix of the graphs where a write puts its quads until it knows it may apply them.
PENDING = "urn:x-memoires-ld:pending:"


def _meta(store: Store, subject, predicate) -> ox.Literal | None:
    for quad in store.match(subject, predicate, None, META_GRAPH):
        return quad.object
    return None


def write_count(store: Store | ox.Store) -> int:
    """The store's write count (a bare pyoxigraph Store is accepted too)."""
    if isinstance(store, ox.Store):
        found = store.quads_for_pattern(META, WRITES, None, META_GRAPH)
        return next((int(q.object.value) for q in found), 0)
    return store.write_count()


def data_digests(store: Store) -> dict[str, str]:
    """The tag → digest of the data/ file each fiche was last imported from."""
    iris = Iris(store.base)
    found = {}
    for quad in store.match(None, DATA_DIGEST, None, META_GRAPH):
        tag = iris.tag_of(quad.subject.value.removesuffix("/history"))
        if tag:
            found[tag] = quad.object.value
    return found
