"""The one write path: create, replace and retire fiches — validated, atomic, recorded.

Every door calls these functions: the form, the write API, SPARQL Update and the Graph
Store Protocol when enabled, the YesWiki importer and the data/ sync. Each write:

1. checks that the graph describes one fiche of this instance and only its own resources
   (the fiche, `#action`, `#image-N`, `#attribution-…`, and the names and types of the
   agents and accounts it cites);
2. sets `dct:modified`/`schema:dateModified` to now, Paris time (imports keep the source's);
3. validates the graph against the shapes (a violation raises `InvalidFiche`: nothing stored);
4. under a lock, checks If-Match against the fiche's current ETag (412 otherwise), computes
   what changes, and applies the new graph, the revision (history.py) and the store's write
   counter in ONE SPARQL Update request: Oxigraph runs it in a single transaction (so do the
   SPARQL servers of store_sparql.py), so a process killed at any point leaves the store as
   it was before, or as it is after;
5. that request applies only if the fiche's latest revision is still the one read in step
   4 (write_request.py): processes sharing a SPARQL server do not share the lock, and two of
   them may pass the same If-Match. The one that loses changes nothing and plans again on
   the new state: 412 if it had an If-Match, else its write on top of the other's.

The update is built only from pyoxigraph terms serialised as N-Triples, never from strings
a client sent.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, SH, XSD

from . import datadir, history, validation, write_request
from .errors import Conflict, Gone, InvalidFiche, NotFound, PreconditionFailed, ReadOnly
from .history import DATA_DIGEST, META_GRAPH, N, Revision
from .iris import Iris
from .loading import file_digest, other_graphs, source_key
from .namespaces import AS, MLD, SCHEMA, bind_prefixes
from .store import Store

# What harvest.py, bulkload.py and the SPARQL engine take from here (write_request.py's).
from .write_request import COUNT_WRITE as COUNT_WRITE
from .write_request import insert as insert

PARIS = ZoneInfo("Europe/Paris")
#: The agent of imports (data/ sync, YesWiki): not an account anyone can log in with.
IMPORT_AGENT = "import"

log = logging.getLogger(__name__)
#: One writer at a time in this process: If-Match is checked and the revision numbered
#: under it. (RocksDB lets only one process open the store read-write.)
_LOCK = threading.RLock()


def now(*, precise: bool = False) -> datetime:
    """Now, Paris time: to the second for dates shown on fiches, to the microsecond for
    revisions (which orders the writes of one second)."""
    moment = datetime.now(PARIS)
    return moment if precise else moment.replace(microsecond=0)


# ------------------------------------------------------------------------------ the doors


def create_fiche(
    store: Store,
    graph: Graph,
    *,
    agent: str,
    if_match: str | None = None,
    reason: str | None = None,
    stamp: bool = True,
    data_digest: str | None = None,
) -> Revision:
    """Store a new fiche (or bring back a retired one); 409 if it exists."""
    tag, triples = _prepare(store, graph, stamp=stamp)
    return _apply(store, tag, "create", triples, agent, if_match, reason, data_digest)


def replace_fiche(
    store: Store,
    graph: Graph,
    *,
    agent: str,
    if_match: str | None = None,
    reason: str | None = None,
    stamp: bool = True,
    data_digest: str | None = None,
) -> Revision:
    """Replace a fiche by `graph`; 404/410 if there is none, 412 if If-Match is stale."""
    tag, triples = _prepare(store, graph, stamp=stamp)
    return _apply(store, tag, "replace", triples, agent, if_match, reason, data_digest)


def retire_fiche(
    store: Store,
    tag: str,
    *,
    agent: str,
    if_match: str | None = None,
    reason: str | None = None,
) -> Revision:
    """Retire a fiche: its graph goes, its history stays, a tombstone says when and why."""
    return _apply(store, tag, "retire", None, agent, if_match, reason, None)


def current_graph(store: Store, tag: str) -> Graph | None:
    """The stored graph of a fiche as rdflib sees it (to edit it and write it back), or None."""
    fiche = str(Iris(store.base).fiche(tag))
    if not store.has_graph(fiche):
        return None
    text = "\n".join(f"{q.triple} ." for q in store.graph_quads(fiche))
    return bind_prefixes(Graph()).parse(data=text, format="nt")


@dataclass(frozen=True)
class Change:
    """One fiche's part of a write that changes several at once (see `apply_changes`)."""

    kind: str  # "create", "replace" or "retire"
    tag: str
    graph: Graph | None = None  # the new graph (None to retire)
    if_match: str | None = None


def apply_changes(
    store: Store, changes: list[Change], *, agent: str, reason: str | None = None
) -> list[Revision]:
    """Write several fiches all at once or not at all: each is checked and validated as by
    the functions above; if one fails, nothing is stored (its error, or one 422 whose
    report holds every fiche at fault); else one SPARQL Update request applies every graph
    and every revision (one transaction). Returns the revisions of the fiches that changed.
    """
    iris = Iris(store.base)
    prepared: list[tuple[Change, set[ox.Triple] | None]] = []
    invalid: list[InvalidFiche] = []
    for change in changes:
        try:
            new = None
            if change.graph is not None:
                tag, new = _prepare(store, change.graph, stamp=True)
                if tag != change.tag:
                    raise _invalid(
                        change.graph,
                        [iris.fiche(tag)],
                        f"Le graphe de la fiche « {change.tag} » décrit la fiche « {tag} ».",
                        f"The graph of the record “{change.tag}” describes the record “{tag}”.",
                    )
            prepared.append((change, new))
        except InvalidFiche as error:
            invalid.append(error)
    if len(invalid) == 1:
        raise invalid[0]
    if invalid:
        raise InvalidFiche(
            f"{len(invalid)} fiches ne respectent pas les formes : rien n'a été enregistré.\n"
            + "\n".join(error.message for error in invalid),
            report=validation.merge(error.report for error in invalid),
        )
    _check_writable(store)
    for _ in range(ATTEMPTS):
        with _LOCK:
            revisions, write = [], write_request.Write()
            for change, new in prepared:
                revision, more = _plan(
                    store, change.tag, change.kind, new, agent, change.if_match, reason, None
                )
                if more:
                    revisions.append(revision)
                    write += more
            if write_request.run(store, write):
                return revisions
    raise _busy(", ".join(change.tag for change in changes))


# --------------------------------------------------------------------- checking the graph


def fiche_tag(graph: Graph, iris: Iris) -> str:
    """The tag of the one fiche the graph describes, which must be of this instance."""
    fiches = set(graph.subjects(RDF.type, MLD.Fiche))
    if len(fiches) != 1:
        raise _invalid(
            graph,
            [],
            f"Le graphe doit décrire exactement une fiche (mld:Fiche), il en décrit {len(fiches)}.",
            f"The graph must describe exactly one record (mld:Fiche); it describes {len(fiches)}.",
        )
    fiche = next(iter(fiches))
    tag = iris.tag_of(str(fiche)) if isinstance(fiche, URIRef) else None
    if tag is None or iris.fiche(tag) != fiche:
        raise _invalid(
            graph,
            [fiche],
            f"L'IRI de la fiche doit être {iris.base}fiche/<identifiant>.",
            f"The record's IRI must be {iris.base}fiche/<identifier>.",
        )
    return tag


#: What a fiche graph may say about the agents and accounts it cites (they are shared).
AGENT_PREDICATES = {RDF.type, FOAF.name, SCHEMA.name}
ACCOUNT_PREDICATES = {RDF.type, FOAF.accountName}


def check_subjects(graph: Graph, iris: Iris, tag: str) -> None:
    """Raise InvalidFiche if the graph says anything about resources that are not its own."""
    fiche = str(iris.fiche(tag))
    own = re.compile(re.escape(fiche) + r"(#action|#image-[0-9]+|#attribution-[^#\s]+)?")
    agents, accounts = str(iris.agent("")), str(iris.account(""))
    foreign = []
    for s, p, o in graph:
        if isinstance(s, BNode) or isinstance(o, BNode):
            foreign.append((s, p, o))
        elif (
            own.fullmatch(str(s))
            or (str(s).startswith(agents) and p in AGENT_PREDICATES)
            or (str(s).startswith(accounts) and p in ACCOUNT_PREDICATES)
        ):
            continue
        else:
            foreign.append((s, p, o))
    if foreign:
        raise _invalid(
            graph,
            sorted({s for s, _, _ in foreign}, key=str),
            "Le graphe d'une fiche ne parle que de la fiche, de son action, de ses images et "
            "attributions, et du nom et du type des agents qu'elle cite (pas de nœud anonyme).",
            "A record's graph only talks about the record, its action, images and "
            "attributions, and the name and type of the agents it cites (no blank node).",
        )


def _invalid(graph: Graph, focus: list, fr: str, en: str) -> InvalidFiche:
    """An InvalidFiche with a small sh:ValidationReport of our own (not from the shapes)."""
    report_graph = bind_prefixes(Graph())
    root = BNode()
    report_graph.add((root, RDF.type, SH.ValidationReport))
    report_graph.add((root, SH.conforms, Literal(False)))
    results = []
    for node in focus or [URIRef("urn:x-memoires-ld:graph")]:
        result = BNode()
        report_graph.add((root, SH.result, result))
        report_graph.add((result, RDF.type, SH.ValidationResult))
        report_graph.add((result, SH.focusNode, node))
        report_graph.add((result, SH.resultSeverity, SH.Violation))
        report_graph.add((result, SH.resultMessage, Literal(fr, lang="fr")))
        report_graph.add((result, SH.resultMessage, Literal(en, lang="en")))
        results.append(
            validation.Result(
                focus=node,
                path=None,
                severity=SH.Violation,
                message_fr=fr,
                message_en=en,
                source_shape=None,
                fiche=node,
            )
        )
    report = validation.Report(conforms=False, violations=results, graph=report_graph)
    return InvalidFiche(fr, report=report)


def _prepare(store: Store, graph: Graph, *, stamp: bool) -> tuple[str, set[ox.Triple]]:
    """Check, date and validate a fiche graph; return its tag and its triples for the store."""
    iris = Iris(store.base)
    tag = fiche_tag(graph, iris)
    check_subjects(graph, iris, tag)
    graph = _copy(graph)
    fiche = iris.fiche(tag)
    if stamp:
        when = Literal(now().isoformat(), datatype=XSD.dateTime)
        if (fiche, DCTERMS.created, None) not in graph:
            created = _stored(store, tag, DCTERMS.created) or when
            graph.add((fiche, DCTERMS.created, created))
            graph.add((fiche, SCHEMA.dateCreated, created))
        for p in (DCTERMS.modified, SCHEMA.dateModified):
            graph.remove((fiche, p, None))
            graph.add((fiche, p, when))
    report = validation.validate(graph)
    if not report.conforms:
        raise InvalidFiche(
            f"La fiche ne respecte pas les formes SHACL ({len(report.violations)} violation(s)) : "
            "rien n'a été enregistré.\n" + validation.report_text(report),
            report=report,
        )
    return tag, to_store_terms(graph)


def _copy(graph: Graph) -> Graph:
    copy = bind_prefixes(Graph())
    for triple in graph:
        copy.add(triple)
    return copy


def _stored(store: Store, tag: str, predicate: URIRef) -> Literal | None:
    fiche = N(Iris(store.base).fiche(tag))
    for quad in store.match(fiche, N(predicate), None, fiche):
        value = quad.object
        return Literal(value.value, datatype=URIRef(value.datatype.value))
    return None


def to_store_terms(graph: Graph) -> set[ox.Triple]:
    """The graph's triples as the store keeps them (Oxigraph normalises some literals)."""
    memory = ox.Store()
    memory.extend(
        ox.Quad(t.subject, t.predicate, t.object)
        for t in ox.parse(graph.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES)
    )
    return {q.triple for q in memory}


# ------------------------------------------------------------------- applying a write


def _apply(
    store: Store,
    tag: str,
    kind: str,
    new: set[ox.Triple] | None,
    agent: str,
    if_match: str | None,
    reason: str | None,
    data_digest: str | None,
) -> Revision:
    _check_writable(store)
    for _ in range(ATTEMPTS):
        with _LOCK:
            revision, write = _plan(store, tag, kind, new, agent, if_match, reason, data_digest)
            if write_request.run(store, write):
                return revision
    raise _busy(tag)


def _busy(tags: str) -> Conflict:
    return Conflict(
        f"La fiche « {tags} » est modifiée ailleurs au même moment : rien n'a été enregistré, "
        "réessayez.",
        detail={"tag": tags},
    )


def _check_writable(store: Store) -> None:
    if not store.writable:
        raise ReadOnly(
            "Ce serveur ne peut pas enregistrer : sa base est ouverte en lecture seule "
            "(plusieurs processus). Relancez-le avec un seul processus (WORKERS = 1)."
        )


def _plan(
    store: Store,
    tag: str,
    kind: str,
    new: set[ox.Triple] | None,
    agent: str,
    if_match: str | None,
    reason: str | None,
    data_digest: str | None,
) -> tuple[Revision, write_request.Write]:
    """Check a write against the store (under _LOCK) and return its revision and what to
    run (nothing when nothing changes), conditional on the fiche's head read here."""
    iris = Iris(store.base)
    fiche = N(iris.fiche(tag))
    # The head first: what is read after it is as new or newer, and the write is
    # conditional on it (another process writing meanwhile makes the write try again).
    head = history.head(store, tag)
    exists = store.has_graph(fiche.value)
    _check_state(store, tag, kind, exists)
    _check_if_match(tag, head if exists else None, if_match)
    current = {q.triple for q in store.match(None, None, None, fiche)}
    added = (new or set()) - current
    removed = current - (new or set())
    number = history.number(head)
    if kind == "replace" and not added and not removed:
        ops = _digest_ops(iris, tag, data_digest) if data_digest is not None else []
        return history.revision(store, tag, number), write_request.Write(ops=ops)
    revision = Revision(
        tag=tag,
        number=number + 1,
        iri=str(iris.revision(tag, number + 1)),
        kind=kind,
        agent=agent,
        agent_iri=str(iris.user(agent)),
        at=now(precise=True),
        reason=reason or "",
        added=len(added),
        removed=len(removed),
    )
    hist = N(iris.history(tag))
    drops = [fiche, N(iris.tombstone(tag))]
    deletes = [f"GRAPH {hist} {{ {hist} {N(AS.totalItems)} ?o }}"]
    quads = [ox.Quad(t.subject, t.predicate, t.object, fiche) for t in new or ()]
    # A creation by an import names its file's digest instead of reifying its triples.
    source = data_digest if kind == "create" else None
    added_list, removed_list = sorted(added, key=str), sorted(removed, key=str)
    quads += history.record(iris, revision, added_list, removed_list, source_digest=source)
    if kind == "retire":
        # The digest of its data/ file, if any, stays: an unchanged file does not bring
        # back a fiche retired on the web.
        quads += history.tombstone(iris, revision, _title(current))
    elif data_digest is not None:
        deletes.append(f"GRAPH {META_GRAPH} {{ {hist} {DATA_DIGEST} ?o }}")
        quads.append(ox.Quad(hist, DATA_DIGEST, ox.Literal(data_digest), META_GRAPH))
    write = write_request.Write(drops, deletes, quads, {hist: head}, [N(revision.iri)])
    return revision, write


def _check_state(store: Store, tag: str, kind: str, exists: bool) -> None:
    if kind == "create" and exists:
        raise Conflict(f"La fiche « {tag} » existe déjà.", detail={"tag": tag})
    if kind != "create" and not exists:
        gone = history.get_tombstone(store, tag)
        if gone is not None:
            raise Gone(
                f"La fiche « {tag} » a été retirée le {gone.at:%d/%m/%Y}.", detail={"tag": tag}
            )
        raise NotFound(f"Il n'y a pas de fiche « {tag} ».", detail={"tag": tag})


def _check_if_match(tag: str, head: ox.NamedNode | None, if_match: str | None) -> None:
    """RFC 9110 §13.1.1: `*` matches a current fiche (whose latest revision is `head`);
    otherwise a strong comparison."""
    if if_match is None:
        return
    state = history.state_of(head)
    asked = [value.strip() for value in if_match.split(",")]
    if state is not None and ("*" in asked or any(history.same_state(a, state) for a in asked)):
        return
    current = f'"{state}"' if state is not None else None
    raise PreconditionFailed(
        f"La fiche « {tag} » a changé depuis que vous l'avez lue : relisez-la, puis refaites "
        "votre modification.",
        detail={"tag": tag, "etag": current},
        headers={"ETag": current} if current else None,
    )


def _title(triples: Iterable[ox.Triple]) -> str:
    titles = {
        t.object.language: t.object.value
        for t in triples
        if t.predicate == N(DCTERMS.title) and isinstance(t.object, ox.Literal)
    }
    return titles.get("fr") or next(iter(titles.values()), "")


def _digest_ops(iris: Iris, tag: str, digest: str | None) -> list[str]:
    hist = N(iris.history(tag))
    ops = [f"DELETE WHERE {{ GRAPH {META_GRAPH} {{ {hist} {DATA_DIGEST} ?d }} }}"]
    if digest is not None:
        ops.append(
            f"INSERT DATA {{ GRAPH {META_GRAPH} {{ {hist} {DATA_DIGEST} {ox.Literal(digest)} }} }}"
        )
    return ops


#: Times a write is planned again when another process changed its fiche between the
#: reading and the writing: without If-Match on the new state, with it a 412 at once.
ATTEMPTS = 5


def replace_graph(
    store: Store, graph: ox.NamedNode | ox.DefaultGraph, quads: list[ox.Quad], digest: str
) -> None:
    """Replace a graph that is not a fiche's (the vocabulary, the import's provenance)."""
    stored = store.stored_graph(graph)
    name = "DEFAULT" if isinstance(stored, ox.DefaultGraph) else f"GRAPH {stored}"
    quads = [ox.Quad(q.subject, q.predicate, q.object, graph) for q in quads]
    with _LOCK:
        write_request.run_ops(store, [f"DROP SILENT {name}", *_source_ops(graph, digest)], quads)


def _source_ops(graph: ox.NamedNode | ox.DefaultGraph, digest: str) -> list[str]:
    subject = source_key(graph)
    return [
        f"DELETE WHERE {{ GRAPH {META_GRAPH} {{ {subject} {DATA_DIGEST} ?d }} }}",
        f"INSERT DATA {{ GRAPH {META_GRAPH} {{ {subject} {DATA_DIGEST} {ox.Literal(digest)} }} }}",
    ]


# ------------------------------------------------------------------------- data/ and loads


def sync_store(store: Store, data_dir: Path) -> list[Revision]:
    """Bring a store up to date with data/ and the vocabulary (see `sync_data`)."""
    for graph, (digest, quads) in other_graphs(store.base, data_dir).items():
        known = history._meta(store, source_key(graph), DATA_DIGEST)
        if known is None or known.value != digest:
            replace_graph(store, graph, quads, digest)
    return sync_data(store, data_dir)


def sync_data(store: Store, data_dir: Path) -> list[Revision]:
    """Apply a changed data/ to a store that may hold fiches written on the web.

    A fiche whose data/ file changed since it was last imported is replaced (or created),
    as a revision by "import"; a fiche that came from data/ and is no longer there is
    retired; fiches written on the web and absent from data/ are left alone. A file that
    does not conform is skipped (logged): nothing of it is stored.
    """
    iris = Iris(store.base)
    known = history.data_digests(store)
    files = {p.stem: p for p in (data_dir / datadir.RDF_DIR / datadir.FICHES_DIR).glob("*.ttl")}
    done = []
    for tag, path in sorted(files.items()):
        digest = file_digest(path)
        if known.get(tag) == digest:
            continue
        graph = datadir.read_turtle(path, store.base)
        exists = store.has_graph(str(iris.fiche(tag)))
        write = replace_fiche if exists else create_fiche
        try:
            revision = write(
                store,
                graph,
                agent=IMPORT_AGENT,
                reason="Mise à jour depuis data/." if exists else "Ajoutée depuis data/.",
                stamp=False,
                data_digest=digest,
            )
        except InvalidFiche as error:
            log.warning("data/ : %s n'est pas importée : %s", path.name, error.message)
            continue
        done.append(revision)
    for tag in sorted(set(known) - set(files)):
        if store.has_graph(str(iris.fiche(tag))):
            done.append(retire_fiche(store, tag, agent=IMPORT_AGENT, reason="Retirée de data/."))
    return done
