"""What each dereferenceable resource's document holds: its triples, and how fresh it is.

* a fiche: its named graph (the fiche, `#action`, images, attributions, authors' names);
* an agent: its own triples, and `?fiche dct:creator <agent>` / `?action pair:involves
  <agent>` for the fiches it wrote or took part in;
* an account: its own triples, and `?fiche schema:maintainer <account>`;
* an import run: its triples and those of its hash resources, in the default graph;
* a concept scheme, a concept, the ontology: their concise bounded description (the
  subject's triples, following blank nodes) in the vocabulary graph of the store;
* the shapes: the SHACL file that ships with the package (it is not in the store).

`state` changes whenever the document may change (it is the base of the ETag); `modified`
is the time of the last write the document reflects (Last-Modified).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import TypeVar

import pyoxigraph as ox
from rdflib.namespace import DCTERMS, OWL, PROV, SKOS

from .. import history
from .. import iris as iris_
from ..errors import Gone, NotFound
from ..iris import Iris
from ..namespaces import PAIR, SCHEMA, W3ID
from ..resources import folder
from ..store import VOCABULARY_GRAPH, Store, code_version

ONTOLOGY = W3ID + "ns"
SHAPES = W3ID + "shapes"
N = ox.NamedNode
T = TypeVar("T")
GENERATED = N(str(PROV.generatedAtTime))
VERSION_INFO = N(str(OWL.versionInfo))


@dataclass
class Document:
    kind: str  # fiche, agent, account, import, scheme, concept, vocabulary, ontology, shapes
    iri: str  # the resource the document is about
    url: str  # where this instance serves it (no suffix)
    triples: list[ox.Triple]
    state: str
    modified: datetime | None = None
    extra: dict = field(default_factory=dict)


#: Recent documents (and answers) of each open store, by (store version, key): a lookup in
#: the store on disk costs milliseconds, and the version changes with every write (stale
#: entries age out).
_CACHES: weakref.WeakKeyDictionary[Store, OrderedDict] = weakref.WeakKeyDictionary()
_CACHE_SIZE = 512
_lock = threading.Lock()


def cached(store: Store, key: tuple, build: Callable[[], T]) -> T:
    """What `build()` makes (a document, an answer), kept while the store's version stays."""
    full = (store.version, *key)
    with _lock:
        entries = _CACHES.setdefault(store, OrderedDict())
        if full in entries:
            entries.move_to_end(full)
            return entries[full]
    value = build()
    with _lock:
        entries[full] = value
        while len(entries) > _CACHE_SIZE:
            entries.popitem(last=False)
    return value


def fiche(store: Store, iris: Iris, tag: str) -> Document:
    """A fiche's graph, in three reads: its quads, its latest revision, that one's time."""
    iri = str(iris.fiche(tag))
    triples = [q.triple for q in store.graph_quads(iri)]
    if not triples:
        gone = history.get_tombstone(store, tag)
        if gone is not None:
            message = f"La fiche « {tag} » a été retirée le {gone.at:%d/%m/%Y}."
            raise Gone(message, detail={"tag": tag, "history": gone.history})
        raise NotFound(f"Il n'y a pas de fiche « {tag} ».", detail={"tag": tag})
    times = _objects(triples, iri, DCTERMS.modified)
    # The state is the fiche's latest revision (history.state), as If-Match compares it.
    last, graph = history.head(store, tag), N(str(iris.history(tag)))
    if last is None:
        state = _digest(store.version)
    else:
        state = revision_state(last)
        times += [q.object for q in store.match(last, GENERATED, None, graph)]
    return Document("fiche", iri, iri, triples, state, _newest(times))


def agent(store: Store, iris: Iris, slug: str) -> Document:
    iri = str(iris.agent(slug))
    incoming = (DCTERMS.creator, PAIR.involves)
    return _with_incoming(store, "agent", iri, incoming, f"Il n'y a pas d'auteur·rice « {slug} ».")


def account(store: Store, iris: Iris, name: str) -> Document:
    iri = str(iris.account(name))
    incoming = (SCHEMA.maintainer,)
    return _with_incoming(store, "account", iri, incoming, f"Il n'y a pas de compte « {name} ».")


def import_run(store: Store, iris: Iris, key: str) -> Document:
    """An import (prov:Activity) and its hash resources (`#source`), from the default graph."""
    iri = str(iris.import_run(key))
    subjects = {
        q.subject
        for q in store.match(None, None, None, ox.DefaultGraph())
        if isinstance(q.subject, ox.NamedNode)
        and (q.subject.value == iri or q.subject.value.startswith(iri + "#"))
    }
    triples = _cbd(store, sorted(subjects, key=str), ox.DefaultGraph())
    if not triples:
        raise NotFound(f"Il n'y a pas d'import « {key} ».")
    return Document("import", iri, iri, triples, _digest(store.version))


def scheme(store: Store, iris: Iris, name: str) -> Document:
    if name not in iris_.SCHEMES:
        raise NotFound(f"Il n'y a pas de schéma de concepts « {name} ».")
    iri = str(iris_.scheme(name))
    members = {q.subject for q in _vocabulary(store, None, N(str(SKOS.inScheme)), N(iri))}
    members |= {
        q.subject
        for q in _vocabulary(store, None, None, None)
        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(iri + "/")
    }
    triples = _cbd(store, [N(iri), *sorted(members, key=str)])
    return _vocabulary_document("scheme", iri, str(iris.scheme_page(name)), triples)


def concept(store: Store, iris: Iris, scheme_name: str, name: str) -> Document:
    """A concept by its IRI's last segment, or by its notation (Creative Commons licences)."""
    if scheme_name not in iris_.SCHEMES:
        raise NotFound(f"Il n'y a pas de schéma de concepts « {scheme_name} ».")
    scheme_iri = N(str(iris_.scheme(scheme_name)))
    node = N(str(iris_.concept(scheme_name, name)))
    if not list(_vocabulary(store, node, None, None)):
        by_notation = _vocabulary(store, None, N(str(SKOS.notation)), ox.Literal(name))
        node = next(
            (q.subject for q in by_notation if _in_scheme(store, q.subject, scheme_iri)), None
        )
        if node is None:
            raise NotFound(f"Il n'y a pas de valeur « {name} » dans le schéma « {scheme_name} ».")
    url = str(iris.concept_page(scheme_name, name))
    return _vocabulary_document("concept", node.value, url, _cbd(store, [node]))


def vocabulary(store: Store, iris: Iris) -> Document:
    triples = []
    for name in iris_.SCHEMES:
        triples += scheme(store, iris, name).triples
    return _vocabulary_document("vocabulary", str(iris_.VOCAB), str(iris.vocabulary()), triples)


def ontology(store: Store, iris: Iris, version: str | None = None) -> Document:
    """The ontology; by its version IRI (`ns/0.1.0`) when that is the current version."""
    subjects = {
        q.subject
        for q in _vocabulary(store, None, None, None)
        if isinstance(q.subject, ox.NamedNode)
        and (q.subject.value == ONTOLOGY or q.subject.value.startswith(ONTOLOGY + "#"))
    }
    triples = _cbd(store, sorted(subjects, key=str))
    if version is not None:
        current = [q.object.value for q in _vocabulary(store, N(ONTOLOGY), VERSION_INFO, None)]
        if version not in current:
            shown = ", ".join(current)
            raise NotFound(f"Cette instance ne sert que la version {shown} de l'ontologie.")
    return _vocabulary_document("ontology", ONTOLOGY, str(iris.ontology(version)), triples)


def shapes(iris: Iris) -> Document:
    triples, digest = _shapes_file()
    return Document("shapes", SHAPES, str(iris.shapes()), list(triples), digest)


# ------------------------------------------------------------------------------ helpers


def _with_incoming(store: Store, kind: str, iri: str, predicates, missing: str) -> Document:
    node = N(iri)
    own = store.about(iri)
    if not own:
        raise NotFound(missing)
    triples, fiches = list(own), set()
    for predicate in predicates:
        for quad in store.match(None, N(str(predicate)), node):
            triples.append(quad.triple)
            if isinstance(quad.graph_name, ox.NamedNode):
                fiches.add(quad.graph_name.value)
    times = [t for g in sorted(fiches) for t in _objects(_graph(store, g), g, DCTERMS.modified)]
    return Document(
        kind, iri, iri, list(dict.fromkeys(triples)), _digest(store.version), _newest(times)
    )


def _graph(store: Store, name: str) -> list[ox.Triple]:
    return [q.triple for q in store.match(N(name), None, None, N(name))]


def _vocabulary(store: Store, s, p, o) -> list[ox.Quad]:
    return list(store.match(s, p, o, VOCABULARY_GRAPH))


def _in_scheme(store: Store, node, scheme_iri) -> bool:
    return bool(_vocabulary(store, node, N(str(SKOS.inScheme)), scheme_iri))


def _cbd(store: Store, subjects, graph=VOCABULARY_GRAPH) -> list[ox.Triple]:
    """Concise bounded description: each subject's triples, following blank nodes."""
    return [q.triple for q in store.describe(subjects, graph)]


def _vocabulary_document(kind: str, iri: str, url: str, triples) -> Document:
    if not triples:
        raise NotFound(f"Rien n'est publié sous « {iri} ».")
    return Document(kind, iri, url, triples, _digest(_code_version()))


@cache
def _code_version() -> str:
    return code_version()


@cache
def _shapes_file() -> tuple[tuple[ox.Triple, ...], str]:
    path = folder("shapes") / "fiche.ttl"
    data = path.read_bytes()
    triples = tuple(ox.parse(data, format=ox.RdfFormat.TURTLE, base_iri=SHAPES))
    return triples, hashlib.sha256(data).hexdigest()[:16]


def _objects(triples, subject: str, predicate) -> list:
    subject, predicate = N(subject), N(str(predicate))
    return [t.object for t in triples if t.subject == subject and t.predicate == predicate]


def _is_datetime(term) -> bool:
    return isinstance(term, ox.Literal) and term.datatype.value.endswith("#dateTime")


def _newest(times) -> datetime | None:
    values = []
    for term in times:
        if _is_datetime(term):
            value = datetime.fromisoformat(term.value)
            values.append(value if value.tzinfo else value.replace(tzinfo=UTC))
    return max(values, default=None)


def revision_state(last: ox.NamedNode) -> str:
    """The state of a fiche at its latest revision `last` (its ETag's base, If-Match's)."""
    return _digest(last.value)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
